/**
 * The OAuth story of the demo: the example authorization server, in this
 * process, on a real PostgreSQL. Authorize, exchange the code, introspect the
 * token, replay the code (detected, family revoked), introspect again
 * (inactive), then 50 token requests racing on one code (one winner).
 *
 * Codes and tokens are secrets: the story never prints any of their characters.
 *
 * Run alone with `tsx scripts/demo-oauth.ts` (an embedded PostgreSQL is
 * started and removed), or call `oauthStory` from the main demo.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath, pathToFileURL } from 'node:url';
import pg from 'pg';
import { createApp, DEMO_CLIENT, DEMO_RESOURCE_SERVER, type ExampleEvent } from '../examples/app.js';
import { base64url, computeS256Challenge } from '../src/index.js';

const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));
const ORIGIN = 'http://127.0.0.1:8788';
const REDIRECT_URI = DEMO_CLIENT.redirectUris[0]!;
const RACERS = 50;

/** Stands in for a secret in the output: its length, none of its characters. */
function masked(secret: string): string {
  return `<${secret.length}-char secret>`;
}

function randomVerifier(): string {
  return base64url(crypto.getRandomValues(new Uint8Array(32)));
}

/**
 * Tells the OAuth story on the PostgreSQL database at `postgresUrl` (its
 * tables are created with Drizzle's migrator from `drizzle/` when missing).
 * Rejects if the server ever behaves otherwise than the story says.
 */
export async function oauthStory(log: (line: string) => void, postgresUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: postgresUrl, max: RACERS });
  pool.on('error', () => {});
  try {
    await migrate(drizzle(pool), { migrationsFolder });
    const statements: string[] = [];
    const events: ExampleEvent[] = [];
    const app = createApp({
      database: () => drizzle(pool, { logger: { logQuery: (query) => void statements.push(query) } }),
      onEvent: (event) => events.push(event),
    });
    const call = (path: string, init?: RequestInit): Promise<Response> => Promise.resolve(app.request(`${ORIGIN}${path}`, init));
    const form = (params: Record<string, string>, headers: Record<string, string> = {}): RequestInit => ({
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
      body: new URLSearchParams(params),
    });
    const basic = `Basic ${btoa(`${DEMO_RESOURCE_SERVER.id}:${DEMO_RESOURCE_SERVER.secret}`)}`;
    const check = (condition: boolean, what: string): void => {
      if (!condition) throw new Error(`OAuth story: ${what}`);
    };

    async function authorize(): Promise<{ code: string; verifier: string }> {
      const verifier = randomVerifier();
      const query = new URLSearchParams({
        response_type: 'code',
        client_id: DEMO_CLIENT.clientId,
        redirect_uri: REDIRECT_URI,
        scope: 'read write',
        state: 'story',
        code_challenge: await computeS256Challenge(verifier),
        code_challenge_method: 'S256',
      });
      const response = await call(`/authorize?${query}`);
      const location = new URL(response.headers.get('location') ?? 'about:blank');
      const code = location.searchParams.get('code');
      check(response.status === 302 && code !== null, `authorize answered ${response.status}`);
      return { code: code!, verifier };
    }
    const token = (code: string, verifier: string): Promise<Response> =>
      call(
        '/token',
        form({ grant_type: 'authorization_code', client_id: DEMO_CLIENT.clientId, code, redirect_uri: REDIRECT_URI, code_verifier: verifier }),
      );
    const introspect = async (accessToken: string): Promise<Record<string, unknown>> =>
      (await (await call('/introspect', form({ token: accessToken }, { authorization: basic }))).json()) as Record<string, unknown>;

    log('OAuth 2.0 authorization code flow with PKCE, on the example server (in-process, real PostgreSQL)');
    log('');

    log('1. Authorize: GET /authorize as public client "demo", code_challenge_method=S256');
    const first = await authorize();
    const [stored] = (await pool.query<{ n: number }>('select count(*)::int as n from attesto_authorization_codes where code_hash = $1', [
      base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', new TextEncoder().encode(first.code)))),
    ])).rows;
    log(`   -> 302 to ${REDIRECT_URI}?code=${masked(first.code)}&state=story&iss=${ORIGIN}`);
    log(`   the database holds the code's SHA-256 digest only (${stored?.n ?? 0} row), never the code`);

    log('2. Token: POST /token with the code and the PKCE code_verifier');
    statements.length = 0;
    const response = await token(first.code, first.verifier);
    const body = (await response.json()) as { access_token: string; expires_in: number; scope?: string };
    check(response.status === 200, `token answered ${response.status}`);
    log(`   -> 200 access_token=${masked(body.access_token)} expires_in=${body.expires_in} scope="${body.scope ?? ''}"`);
    log(`   the exchange took ${statements.length} SQL statements: take (atomic single use) and markConsumed`);

    log('3. Introspect: POST /introspect as resource server "demo-rs"');
    const active = await introspect(body.access_token);
    check(active.active === true, 'the fresh token is not active');
    log(`   -> active=${String(active.active)} sub=${String(active.sub)} client_id=${String(active.client_id)} scope="${String(active.scope)}"`);

    log('4. Replay: the same code presented again (as an attacker who copied it would)');
    const replay = await token(first.code, first.verifier);
    const replayBody = (await replay.json()) as { error: string };
    const detected = events.find((event) => event.type === 'replay_detected');
    check(replay.status === 400 && replayBody.error === 'invalid_grant' && detected !== undefined, 'the replay was not refused');
    log(`   -> ${replay.status} ${replayBody.error}`);
    if (detected?.type === 'replay_detected') {
      log(`   the store recognised a redeemed code: revoked ${detected.revokedTokens} token(s) of family ${detected.familyId ?? '(none)'}`);
    }

    log('5. Introspect the first token again');
    const revoked = await introspect(body.access_token);
    check(revoked.active === false, 'the revoked token is still active');
    log(`   -> active=${String(revoked.active)}: the token minted from the replayed code is dead`);

    log(`6. Race: ${RACERS} token requests at once with one fresh code`);
    const racing = await authorize();
    const replaysBefore = events.filter((event) => event.type === 'replay_detected').length;
    const started = performance.now();
    const results = await Promise.all(Array.from({ length: RACERS }, () => token(racing.code, racing.verifier)));
    const elapsed = Math.round(performance.now() - started);
    const winners = results.filter((result) => result.status === 200).length;
    const refused = results.filter((result) => result.status === 400).length;
    const lateReplays = events.filter((event) => event.type === 'replay_detected').length - replaysBefore;
    check(winners === 1 && refused === RACERS - 1, `${winners} winners and ${refused} refusals`);
    log(`   -> ${winners} access token, ${refused} invalid_grant, in ${elapsed} ms`);
    if (lateReplays === 0) {
      log(`   all ${refused} others lost the one atomic UPDATE (no transaction, one statement): one code, one token`);
    } else {
      log(`   ${refused - lateReplays} lost the one atomic UPDATE outright; ${lateReplays} arrived after the winner finished,`);
      log('   were seen as replays and revoked its family: one code, one token, and a replay costs the token');
    }
  } finally {
    await pool.end();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { startPostgres } = await import('../test/support/postgres.js');
  const server = await startPostgres();
  try {
    await oauthStory((line) => console.log(line), await server.createDatabase('oauth_story'));
  } finally {
    await server.destroy();
  }
}
