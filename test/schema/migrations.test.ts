/**
 * The migrations in drizzle/ are drizzle-kit's output for the exported table:
 * they apply with Drizzle's migrator, the migrated database matches the table,
 * and a table that drifts from them is caught.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { execFile } from 'node:child_process';
import { cp, mkdtemp, readFile, readdir, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { pgSchema } from 'drizzle-orm/pg-core';
import { pushSchema } from 'drizzle-kit/api';
import { authorizationCodes, authorizationCodesTable, createCodeStore } from '../../src/index.js';
import { createEmptyDatabase, migrationsFolder } from '../support/database.js';
import { makeEntry } from '../support/entries.js';

const run = promisify(execFile);
const root = fileURLToPath(new URL('../..', import.meta.url));
const drizzleKit = join(root, 'node_modules', '.bin', 'drizzle-kit');

/** Runs `drizzle-kit generate` from the package's table into a copy of the given migrations. */
async function generateInto(migrations: string): Promise<string[]> {
  const before = new Set(await readdir(migrations));
  const config = join(migrations, '..', 'drizzle.config.mjs');
  await writeFile(
    config,
    `export default { dialect: 'postgresql', schema: ${JSON.stringify(join(root, 'src', 'schema.ts'))}, out: ${JSON.stringify(migrations)} };\n`,
  );
  await run(drizzleKit, ['generate', '--config', config], { cwd: root });
  return (await readdir(migrations)).filter((f) => !before.has(f) && f.endsWith('.sql'));
}

describe('migrations', () => {
  let pool: pg.Pool;
  let work: string;

  beforeAll(async () => {
    pool = new pg.Pool({ connectionString: await createEmptyDatabase('migrations'), max: 2 });
    pool.on('error', () => {});
    work = await mkdtemp(join(tmpdir(), 'attesto-migrations-'));
  });
  afterAll(async () => {
    await pool?.end();
    await rm(work, { recursive: true, force: true });
  });

  it('apply to a fresh database with Drizzle’s migrator, and the database then matches the table', async () => {
    const db = drizzle(pool);
    await migrate(db, { migrationsFolder });
    const { rows } = await pool.query<{ column_name: string; data_type: string }>(
      `select column_name, data_type from information_schema.columns where table_name = 'attesto_authorization_codes' order by ordinal_position`,
    );
    expect(rows.map((r) => r.column_name)).toEqual([
      'code_hash',
      'client_id',
      'subject',
      'redirect_uri',
      'scope',
      'resource',
      'code_challenge',
      'code_challenge_method',
      'dpop_jkt',
      'nonce',
      'claims',
      'family_id',
      'expires_at',
      'inserted_at',
      'consumed_at',
      'consumed_success',
      'access_token_jti',
      'access_token_expires_at',
      'access_token_revoked_at',
    ]);
    const { rows: indexes } = await pool.query<{ indexname: string }>(
      `select indexname from pg_indexes where tablename = 'attesto_authorization_codes' order by indexname`,
    );
    expect(indexes.map((r) => r.indexname)).toEqual([
      'attesto_authorization_codes_access_token_jti_idx',
      'attesto_authorization_codes_expires_at_idx',
      'attesto_authorization_codes_family_id_idx',
      'attesto_authorization_codes_pkey',
    ]);
    // drizzle-kit's own introspection finds nothing to change between the table and the migrated database.
    const push = await pushSchema({ authorizationCodes }, db as never);
    expect(push.statementsToExecute).toEqual([]);
    // Applying again is a no-op.
    await migrate(db, { migrationsFolder });
  });

  it('drizzle-kit generate produces no new migration: the table and drizzle/ agree', async () => {
    const copy = join(work, 'current');
    await cp(migrationsFolder, copy, { recursive: true });
    expect(await generateInto(copy)).toEqual([]);
  });

  it('the drift check is live: with the latest migration missing, drizzle-kit generates one', async () => {
    const copy = join(work, 'drifted');
    await cp(migrationsFolder, copy, { recursive: true });
    const journal = JSON.parse(await readFile(join(copy, 'meta', '_journal.json'), 'utf8')) as {
      entries: Array<{ idx: number; tag: string }>;
    };
    const last = journal.entries.pop()!;
    await writeFile(join(copy, 'meta', '_journal.json'), JSON.stringify(journal));
    await rm(join(copy, `${last.tag}.sql`));
    await rm(join(copy, 'meta', `${String(last.idx).padStart(4, '0')}_snapshot.json`));
    const generated = await generateInto(copy);
    expect(generated).toHaveLength(1);
    expect(await readFile(join(copy, generated[0]!), 'utf8')).toContain('attesto_authorization_codes');
  });

  it('the factory builds the table under another name and PostgreSQL schema, and the store works on it', async () => {
    const auth = pgSchema('auth');
    const table = authorizationCodesTable({ name: 'oauth_codes', schema: auth });
    const db = drizzle(pool);
    await pool.query('create schema if not exists auth');
    const push = await pushSchema({ auth, table }, db as never, ['auth']);
    await push.apply();
    const { rows } = await pool.query<{ conname: string }>(
      `select conname from pg_constraint where conrelid = 'auth.oauth_codes'::regclass and contype in ('c', 'p') order by conname`,
    );
    expect(rows.map((r) => r.conname)).toEqual(['oauth_codes_code_challenge_method_check', 'oauth_codes_pkey']);
    const store = createCodeStore(db, { table });
    const { entry } = await makeEntry();
    await store.put(entry);
    expect(await store.take(entry.codeHash)).toEqual({ status: 'taken', entry });
    const { rows: count } = await pool.query<{ n: string }>('select count(*) as n from auth.oauth_codes');
    expect(count[0]!.n).toBe('1');
    // The same factory with a schema name string builds the same table.
    const byName = authorizationCodesTable({ name: 'oauth_codes', schema: 'auth' });
    expect(await createCodeStore(db, { table: byName }).take(entry.codeHash)).toEqual({ status: 'unknown' });
  });
});
