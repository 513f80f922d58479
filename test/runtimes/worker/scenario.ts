/**
 * What the Worker runs inside the edge runtime under test: the store over
 * `drizzle-orm/neon-http`, through Neon's HTTP driver, with nothing but Web
 * APIs. It reports outcomes as JSON; the test on the Node side checks them
 * and the database.
 */
import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import {
  AttestoError,
  createCodeStore,
  generateCode,
  hashCode,
  type CodeEntry,
  type TakeResult,
} from '../../../src/index.js';

/** Sent by the test in the request body. */
export interface ScenarioConfig {
  databaseUrl: string;
  /** The local SQL-over-HTTP endpoint, for `neonConfig.fetchEndpoint`. */
  fetchEndpoint: string;
  raceCodes: number;
  racersPerCode: number;
}

export interface ScenarioReport {
  runtime: { userAgent: string | null; edgeRuntime: string | null; hasProcess: boolean };
  entry: CodeEntry;
  got: CodeEntry | null;
  firstTake: TakeResult;
  secondTake: TakeResult;
  getAfterTake: CodeEntry | null;
  replayAfterMark: TakeResult;
  revoked: number;
  accessTokenRevoked: boolean;
  duplicatePut: { name: string; code: string } | null;
  markUntaken: { name: string; code: string } | null;
  race: { codeHashes: string[]; takenPerCode: number[]; unknownPerCode: number[] };
}

const DAY = 86_400;

async function newEntry(familyId: string, now: number): Promise<CodeEntry> {
  const code = generateCode();
  return {
    codeHash: await hashCode(code),
    expiresAt: now + 60,
    data: {
      clientId: 'edge-client',
      subject: 'edge-user',
      redirectUri: 'https://client.example/cb',
      scope: ['openid', 'offline_access'],
      resource: ['https://api.example/'],
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      dpopJkt: null,
      nonce: 'n-edge',
      familyId,
      claims: { auth_time: now, amr: ['pwd', 'mfa'], edge: true },
    },
  };
}

async function errorOf(promise: Promise<unknown>): Promise<{ name: string; code: string } | null> {
  try {
    await promise;
    return null;
  } catch (error) {
    return error instanceof AttestoError ? { name: error.name, code: error.code } : { name: String(error), code: '' };
  }
}

/** Runs put / get / take / markConsumed / replay and a race, and reports what happened. */
export async function runScenario(config: ScenarioConfig): Promise<ScenarioReport> {
  neonConfig.fetchEndpoint = config.fetchEndpoint;
  // A store per request with that request's db, as in production.
  const store = createCodeStore(drizzle({ client: neon(config.databaseUrl) }));
  const now = Math.floor(Date.now() / 1000);
  const family = `edge-family-${crypto.randomUUID()}`;

  const entry = await newEntry(family, now);
  await store.put(entry);
  const got = await store.get(entry.codeHash);
  const duplicatePut = await errorOf(store.put(entry));
  const firstTake = await store.take(entry.codeHash);
  const secondTake = await store.take(entry.codeHash);
  const getAfterTake = await store.get(entry.codeHash);
  const jti = `edge-at-${entry.codeHash.slice(0, 8)}`;
  await store.markConsumed(entry.codeHash, { familyId: family, accessToken: { jti, expiresAt: now + DAY } });
  const replayAfterMark = await store.take(entry.codeHash);
  const revoked = await store.revokeFamily(family);
  const accessTokenRevoked = await store.isAccessTokenRevoked(jti);
  const untaken = await newEntry(family, now);
  await store.put(untaken);
  const markUntaken = await errorOf(store.markConsumed(untaken.codeHash, { familyId: family }));

  const raceEntries = await Promise.all(Array.from({ length: config.raceCodes }, () => newEntry(`${family}-race`, now)));
  await Promise.all(raceEntries.map((e) => store.put(e)));
  const results = await Promise.all(
    raceEntries.map((e) => Promise.all(Array.from({ length: config.racersPerCode }, () => store.take(e.codeHash)))),
  );

  const edgeRuntime = (globalThis as { EdgeRuntime?: unknown }).EdgeRuntime;
  return {
    runtime: {
      userAgent: typeof navigator === 'undefined' ? null : navigator.userAgent,
      edgeRuntime: typeof edgeRuntime === 'string' ? edgeRuntime : null,
      hasProcess: typeof (globalThis as { process?: unknown }).process !== 'undefined',
    },
    entry,
    got,
    firstTake,
    secondTake,
    getAfterTake,
    replayAfterMark,
    revoked,
    accessTokenRevoked,
    duplicatePut,
    markUntaken,
    race: {
      codeHashes: raceEntries.map((e) => e.codeHash),
      takenPerCode: results.map((r) => r.filter((t) => t.status === 'taken').length),
      unknownPerCode: results.map((r) => r.filter((t) => t.status === 'unknown').length),
    },
  };
}

/** Answers `POST /scenario` with the report, anything else with 404. */
export async function handle(request: Request): Promise<Response> {
  const url = new URL(request.url);
  if (request.method !== 'POST' || url.pathname !== '/scenario') return new Response('not found', { status: 404 });
  try {
    const report = await runScenario((await request.json()) as ScenarioConfig);
    return Response.json(report);
  } catch (error) {
    const cause = error instanceof Error && error.cause !== undefined ? String(error.cause) : undefined;
    return Response.json({ error: String(error), cause }, { status: 500 });
  }
}
