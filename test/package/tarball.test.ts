/**
 * The package as users install it: `npm pack` (which builds), then a consumer
 * project in a temporary folder installs the tarball, imports it from Node
 * ESM and type-checks against it from strict TypeScript under both
 * `moduleResolution: bundler` and `nodenext`; publint and
 * are-the-types-wrong run on the same tarball.
 *
 * Installing is offline: the tarball has no dependencies, and the peer
 * `drizzle-orm` (with PGlite, to run a real store) is linked from this
 * checkout instead of fetched.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { mkdir, mkdtemp, readdir, readFile, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const exec = promisify(execFile);
const root = fileURLToPath(new URL('../../', import.meta.url));
const bin = (name: string): string => join(root, 'node_modules', '.bin', name);

let work: string;
let tarball: string;
let consumer: string;
let manifest: { name: string; version: string };

async function run(file: string, args: string[], cwd: string): Promise<{ stdout: string; stderr: string }> {
  try {
    return await exec(file, args, {
      cwd,
      env: { ...process.env, NO_COLOR: '1', FORCE_COLOR: '0' },
      maxBuffer: 16 * 1024 * 1024,
    });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${file} ${args.join(' ')} failed:\n${stdout ?? ''}\n${stderr ?? ''}`, { cause: error });
  }
}

const CONSUMER_ESM = `
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import { migrate } from 'drizzle-orm/pglite/migrator';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import * as attesto from 'attesto-drizzle';
import pkg from 'attesto-drizzle/package.json' with { type: 'json' };

const { createCodeStore, generateCode, hashCode, CodeStoreConfigError } = attesto;
const packageDir = dirname(fileURLToPath(import.meta.resolve('attesto-drizzle/package.json')));

// The migrations shipped in the tarball, applied by Drizzle's migrator.
const client = new PGlite();
const db = drizzle(client);
await migrate(db, { migrationsFolder: join(packageDir, 'drizzle') });
const store = createCodeStore(db);

const code = generateCode();
const codeHash = await hashCode(code);
await store.put({
  codeHash,
  expiresAt: Math.floor(Date.now() / 1000) + 60,
  data: {
    clientId: 'consumer', subject: 'u1', redirectUri: 'https://consumer.example/cb',
    scope: ['openid'], resource: [], codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    codeChallengeMethod: 'S256', dpopJkt: null, nonce: null, familyId: 'f1', claims: {},
  },
});
const first = await store.take(codeHash);
const second = await store.take(codeHash);
let configError = null;
try { createCodeStore(undefined); } catch (error) { configError = error instanceof CodeStoreConfigError ? error.code : String(error); }
await client.close();

console.log(JSON.stringify({
  name: pkg.name,
  version: pkg.version,
  exports: Object.keys(attesto).sort(),
  codeLength: code.length,
  first: first.status,
  firstClient: first.status === 'taken' ? first.entry.data.clientId : null,
  second: second.status,
  configError,
}));
`;

const CONSUMER_TS = `
import { PGlite } from '@electric-sql/pglite';
import { drizzle } from 'drizzle-orm/pglite';
import {
  authorizationCodesTable,
  createCodeStore,
  hashCode,
  type CodeEntry,
  type CodeStore,
  type TakeResult,
} from 'attesto-drizzle';

export const table = authorizationCodesTable({ name: 'oauth_codes', schema: 'auth' });
export const store: CodeStore = createCodeStore(drizzle(new PGlite()), { table });

export async function redeem(code: string): Promise<string> {
  const result: TakeResult = await store.take(await hashCode(code));
  switch (result.status) {
    case 'taken':
      return result.entry.data.redirectUri;
    case 'reused':
      return result.meta.familyId ?? result.meta.subject;
    case 'unknown':
      return 'invalid_grant';
  }
}

export const entry: CodeEntry = {
  codeHash: 'a'.repeat(43),
  expiresAt: 1,
  data: {
    clientId: 'c', subject: 's', redirectUri: 'https://c.example/cb', scope: [], resource: [],
    codeChallenge: 'b'.repeat(43), codeChallengeMethod: 'S256', dpopJkt: null, nonce: null, familyId: null, claims: {},
  },
};

// The types are real, not \`any\`: a plain PKCE method does not type-check.
// @ts-expect-error only S256 is accepted
export const plain: CodeEntry['data']['codeChallengeMethod'] = 'plain';
`;

function tsconfig(module: string, moduleResolution: string): string {
  return JSON.stringify(
    {
      compilerOptions: {
        target: 'ES2022',
        lib: ['ES2022', 'DOM'],
        module,
        moduleResolution,
        strict: true,
        noUncheckedIndexedAccess: true,
        exactOptionalPropertyTypes: true,
        verbatimModuleSyntax: true,
        types: [],
        noEmit: true,
        // As every drizzle-orm user must: its declarations do not pass a full
        // library check. The consumer's use of this package's types is checked.
        skipLibCheck: true,
      },
      files: ['consumer.ts'],
    },
    null,
    2,
  );
}

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'attesto-drizzle-package-'));
  manifest = JSON.parse(await readFile(join(root, 'package.json'), 'utf8')) as typeof manifest;
  // `prepack` builds dist first, as on publish.
  await run('npm', ['pack', '--pack-destination', work, '--silent'], root);
  const packed = (await readdir(work)).filter((name) => name.endsWith('.tgz'));
  expect(packed).toEqual([`${manifest.name}-${manifest.version}.tgz`]);
  tarball = join(work, packed[0]!);

  consumer = join(work, 'consumer');
  await mkdir(consumer);
  await writeFile(join(consumer, 'package.json'), JSON.stringify({ name: 'consumer', private: true, type: 'module' }));
  await run(
    'npm',
    ['install', '--offline', '--no-audit', '--no-fund', '--legacy-peer-deps', '--no-package-lock', tarball],
    consumer,
  );
  for (const name of ['drizzle-orm', '@electric-sql/pglite']) {
    const target = join(consumer, 'node_modules', name);
    await mkdir(join(target, '..'), { recursive: true });
    await symlink(join(root, 'node_modules', name), target, 'dir');
  }
  await writeFile(join(consumer, 'main.mjs'), CONSUMER_ESM);
  await writeFile(join(consumer, 'consumer.ts'), CONSUMER_TS);
  await writeFile(join(consumer, 'tsconfig.bundler.json'), tsconfig('ESNext', 'Bundler'));
  await writeFile(join(consumer, 'tsconfig.nodenext.json'), tsconfig('NodeNext', 'NodeNext'));
}, 180_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe('the packed tarball', () => {
  it('holds the build, the migrations and the manifest, and no sources or tests', async () => {
    const { stdout } = await run('tar', ['-tzf', tarball], work);
    const files = stdout
      .trim()
      .split('\n')
      .map((f) => f.replace(/^package\//, ''));
    expect(files).toContain('package.json');
    expect(files).toContain('dist/index.js');
    expect(files).toContain('dist/index.d.ts');
    expect(files.some((f) => /^drizzle\/.+\.sql$/.test(f))).toBe(true);
    expect(files.some((f) => f.startsWith('drizzle/meta/'))).toBe(true);
    expect(files.filter((f) => /^(src|test|scripts|node_modules)\//.test(f))).toEqual([]);
  });

  it('installs and runs from Node ESM: a real store over PGlite with the shipped migrations', async () => {
    const { stdout } = await run(process.execPath, ['main.mjs'], consumer);
    const report = JSON.parse(stdout.trim().split('\n').at(-1)!) as Record<string, unknown>;
    expect(report).toMatchObject({
      name: manifest.name,
      version: manifest.version,
      codeLength: 43,
      first: 'taken',
      firstClient: 'consumer',
      second: 'unknown',
      configError: 'code_store_config',
    });
    expect(report.exports).toEqual(
      expect.arrayContaining([
        'createCodeStore',
        'authorizationCodes',
        'authorizationCodesTable',
        'generateCode',
        'hashCode',
      ]),
    );
  });

  it.each([
    ['bundler', 'tsconfig.bundler.json'],
    ['nodenext', 'tsconfig.nodenext.json'],
  ])('type-checks a strict TypeScript consumer with moduleResolution %s', async (_name, config) => {
    await run(process.execPath, [join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', config], consumer);
  });

  it('is clean under publint (warnings count as errors)', async () => {
    const { stdout } = await run(bin('publint'), ['run', tarball, '--strict'], work);
    expect(stdout).toContain('All good!');
  });

  it('is clean under are-the-types-wrong for an ESM-only package', async () => {
    const { stdout } = await run(bin('attw'), [tarball, '--profile', 'esm-only', '--format', 'json'], work);
    const analysis = JSON.parse(stdout) as { analysis: { problems: unknown[] }; problems?: unknown[] };
    // The esm-only profile ignores only the CommonJS resolutions; nothing else may be flagged.
    expect(analysis.analysis.problems.filter((p) => !JSON.stringify(p).includes('node16-cjs'))).toEqual([]);
  });

  it.each([
    ['the shipped dist/schema.js', "'./node_modules/attesto-drizzle/dist/schema.js'"],
    ['a schema file that re-exports the table', "'./schema.ts'"],
  ])('drizzle-kit generates the table from %s, as the README shows', async (_name, schema) => {
    const out = join(consumer, `drizzle-${schema.includes('dist') ? 'dist' : 'reexport'}`);
    await writeFile(join(consumer, 'schema.ts'), "export { authorizationCodes } from 'attesto-drizzle';\n");
    const config = join(consumer, 'drizzle.config.mjs');
    await writeFile(
      config,
      `export default { dialect: 'postgresql', schema: ${schema}, out: ${JSON.stringify(out)} };\n`,
    );
    await run(bin('drizzle-kit'), ['generate', '--config', config], consumer);
    const sql = (await readdir(out)).filter((f) => f.endsWith('.sql'));
    expect(sql).toHaveLength(1);
    const text = await readFile(join(out, sql[0]!), 'utf8');
    expect(text).toContain('CREATE TABLE "attesto_authorization_codes"');
    // The same DDL as the migration the package ships.
    const shipped = (await readdir(join(root, 'drizzle'))).filter((f) => f.endsWith('.sql'));
    expect(text).toBe(await readFile(join(root, 'drizzle', shipped[0]!), 'utf8'));
  });
});
