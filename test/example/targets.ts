/**
 * The example authorization server as the tests reach it: in-process through
 * `app.request`, or over HTTP against `examples/node.ts` (what `npm start`
 * runs) started by the test on a free port.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { createApp, optionsFromEnvironment, type ExampleEvent } from '../../examples/app.js';
import { createEmptyDatabase, createMigratedDatabase } from '../support/database.js';

export const REDIRECT_URI = 'http://127.0.0.1:8788/callback';
export const OTHER_REDIRECT_URI = 'http://127.0.0.1:8788/other-callback';
const environment = { EXTRA_CLIENTS: `other=${OTHER_REDIRECT_URI}` };

export interface Target {
  readonly name: string;
  /** Where the server is reached; its origin is the issuer. */
  readonly baseURL: string;
  readonly fetch: (input: string | URL | Request, init?: RequestInit) => Promise<Response>;
  /** Makes every code issued so far expired. */
  expireCodes(): Promise<void>;
  /** The server's database, for assertions on what it stored. */
  readonly databaseURL: string;
  /** Everything the server logged or reported so far. */
  logs(): string;
  close(): Promise<void>;
}

/** The app in this process, reached through `app.request`, with a clock the test can move. */
export async function inProcess(events: ExampleEvent[] = []): Promise<Target> {
  const url = await createMigratedDatabase('example');
  const pool = new pg.Pool({ connectionString: url, max: 20 });
  pool.on('error', () => {});
  let offset = 0;
  const app = createApp({
    ...optionsFromEnvironment(environment),
    database: () => drizzle(pool),
    now: () => Math.floor(Date.now() / 1000) + offset,
    onEvent: (event) => events.push(event),
  });
  return {
    name: 'in-process',
    baseURL: 'http://127.0.0.1:8788',
    fetch: async (input, init) => app.request(input instanceof Request ? input : String(input), init),
    async expireCodes() {
      offset += 61;
    },
    databaseURL: url,
    logs: () => JSON.stringify(events),
    close: () => pool.end(),
  };
}

const CODE_TTL_SECONDS = 3;

/** `examples/node.ts` in a child process on a free port, on a fresh database it migrates itself. */
export async function nodeServer(): Promise<Target> {
  const databaseURL = await createEmptyDatabase('example_http');
  const entry = fileURLToPath(new URL('../../examples/node.ts', import.meta.url));
  const tsx = fileURLToPath(new URL('../../node_modules/.bin/tsx', import.meta.url));
  const child: ChildProcess = spawn(tsx, [entry], {
    env: { ...process.env, ...environment, DATABASE_URL: databaseURL, PORT: '0', CODE_TTL_SECONDS: String(CODE_TTL_SECONDS) },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let output = '';
  const baseURL = await new Promise<string>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server did not start in 60 s:\n${output}`)), 60_000);
    const onData = (chunk: Buffer): void => {
      output += chunk.toString();
      const match = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(output);
      if (match) {
        clearTimeout(timer);
        resolve(match[1]!);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.once('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server exited with ${code}:\n${output}`));
    });
  });
  return {
    name: 'over HTTP (npm start)',
    baseURL,
    fetch: (input, init) => fetch(input, init),
    async expireCodes() {
      await new Promise((resolve) => setTimeout(resolve, (CODE_TTL_SECONDS + 1) * 1000));
    },
    databaseURL,
    logs: () => output,
    async close() {
      if (child.exitCode !== null) return;
      await new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      });
    },
  };
}
