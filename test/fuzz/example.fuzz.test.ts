/**
 * Fuzzing the example authorization server's endpoints over HTTP semantics
 * (in-process): hostile query strings, form bodies, content types and
 * credentials. Every response is an RFC 6749 error (a redirect carrying
 * `error`, or a JSON error body), a 404, or a success: never a 500, and
 * nothing is written unless a valid authorization request was made.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { ExampleEvent } from '../../examples/app.js';
import { inProcess, REDIRECT_URI, type Target } from '../example/targets.js';
import pg from 'pg';
import { describe as show, hostileString, MEGABYTES } from './arbitraries.js';

const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
const AUTHORIZE_ERRORS = ['invalid_request', 'unsupported_response_type', 'invalid_scope', 'invalid_target'];
const TOKEN_ERRORS = ['invalid_request', 'invalid_client', 'invalid_grant', 'unsupported_grant_type'];

let target: Target;
let pool: pg.Pool;
const events: ExampleEvent[] = [];

beforeAll(async () => {
  target = await inProcess(events);
  pool = new pg.Pool({ connectionString: target.databaseURL, max: 2 });
  pool.on('error', () => {});
});

afterAll(async () => {
  await pool?.end();
  await target?.close();
});

async function rows(): Promise<number> {
  const { rows: [row] } = await pool.query<{ n: number }>('select count(*)::int as n from attesto_authorization_codes');
  return row!.n;
}

const valid: Record<string, string> = {
  client_id: 'demo',
  redirect_uri: REDIRECT_URI,
  response_type: 'code',
  code_challenge: CHALLENGE,
  code_challenge_method: 'S256',
  scope: 'openid',
  state: 'xyz',
};

/** A parameter list: the valid request with some names dropped, replaced, repeated or added. */
const parameters = (names: readonly string[], base: Record<string, string>): fc.Arbitrary<[string, string][]> =>
  fc
    .array(
      fc.record({
        action: fc.constantFrom('drop', 'replace', 'repeat', 'add'),
        name: fc.oneof(fc.constantFrom(...names), hostileString),
        value: hostileString,
      }),
      { maxLength: 4 },
    )
    .map((edits) => {
      let list: [string, string][] = Object.entries(base);
      for (const e of edits) {
        if (e.action === 'drop') list = list.filter(([n]) => n !== e.name);
        else if (e.action === 'replace') list = list.map(([n, v]) => (n === e.name ? [n, e.value] : [n, v]));
        else list.push([e.name, e.action === 'repeat' ? (base[e.name] ?? e.value) : e.value]);
      }
      return list;
    });

const RAW_QUERIES = ['%', '%E0%A4%A', '%ED%A0%80', 'client_id=%00', 'a=1&&&=&b', '%FF%FE', 'client_id=demo&client_id=demo', '?'.repeat(100)];

function expectNoServerError(response: Response, what: unknown): void {
  expect(response.status, show(what)).not.toBe(500);
  expect(events.filter((e) => e.type === 'server_error'), show(what)).toEqual([]);
}

describe('fuzzing the example server', () => {
  it('/authorize: an error redirect, an error page or a code; never a 500; a row only with a code', { timeout: 120_000 }, async () => {
    let codes = 0;
    let errors = 0;
    await fc.assert(
      fc.asyncProperty(fc.oneof({ weight: 9, arbitrary: parameters(Object.keys(valid).concat(['resource', 'nonce']), valid).map((p) => new URLSearchParams(p).toString()) }, { weight: 1, arbitrary: fc.constantFrom(...RAW_QUERIES) }), async (query) => {
        const before = await rows();
        const response = await target.fetch(`${target.baseURL}/authorize?${query}`, { redirect: 'manual' });
        expectNoServerError(response, query);
        if (response.status === 400) {
          // Client or redirect URI not established: an error page, never a redirect (RFC 6749 §4.1.2.1).
          expect(await rows()).toBe(before);
          errors++;
          return;
        }
        expect(response.status, show(query)).toBe(302);
        const location = new URL(response.headers.get('location')!);
        expect(`${location.origin}${location.pathname}`).toBe(REDIRECT_URI);
        const error = location.searchParams.get('error');
        if (error !== null) {
          expect(AUTHORIZE_ERRORS, show(query)).toContain(error);
          expect(location.searchParams.get('code')).toBeNull();
          expect(await rows()).toBe(before);
          errors++;
        } else {
          expect(location.searchParams.get('code')).toMatch(/^[A-Za-z0-9_-]{43}$/);
          expect(await rows()).toBe(before + 1);
          codes++;
        }
      }),
      { numRuns: 300 },
    );
    expect(codes).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
  });

  it('/token: an RFC 6749 error body or a token; never a 500; nothing changes unless a real code was presented', { timeout: 120_000 }, async () => {
    const contentType = fc.oneof(
      { weight: 6, arbitrary: fc.constant('application/x-www-form-urlencoded') },
      { weight: 1, arbitrary: fc.constantFrom('application/json', 'text/plain', 'multipart/form-data; boundary=x', 'application/x-www-form-urlencoded; charset=latin1', '') },
      { weight: 1, arbitrary: hostileString.filter((s) => /^[\t\x20-\x7e]*$/.test(s)) },
    );
    const authorization = fc.oneof(
      { weight: 6, arbitrary: fc.constant(undefined) },
      { weight: 1, arbitrary: fc.constantFrom('Basic ZGVtbzo=', 'Bearer x', 'Basic !!!', 'Basic ' + 'A'.repeat(10_000)) },
    );
    const base = { grant_type: 'authorization_code', client_id: 'demo', code: 'x'.repeat(43), redirect_uri: REDIRECT_URI, code_verifier: VERIFIER };
    let tokens = 0;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), parameters(Object.keys(base), base), contentType, authorization, async (realCode, params, type, auth) => {
        let body = new URLSearchParams(params);
        if (realCode) {
          const issued = await target.fetch(`${target.baseURL}/authorize?${new URLSearchParams(valid).toString()}`, { redirect: 'manual' });
          const code = new URL(issued.headers.get('location')!).searchParams.get('code')!;
          body = new URLSearchParams(params.map(([n, v]) => [n, n === 'code' && v === base.code ? code : v]));
        }
        const before = realCode ? undefined : await pool.query('select md5(string_agg(t::text, \'|\' order by code_hash)) as d from attesto_authorization_codes t');
        const headers: Record<string, string> = {};
        if (type !== '') headers['content-type'] = type;
        if (auth !== undefined) headers.authorization = auth;
        const response = await target.fetch(`${target.baseURL}/token`, { method: 'POST', headers, body: body.toString() });
        expectNoServerError(response, [params, type, auth]);
        const json = (await response.json()) as Record<string, unknown>;
        expect(response.headers.get('cache-control')).toBe('no-store');
        if (response.status === 200) {
          tokens++;
          expect(realCode).toBe(true);
          expect(json.token_type).toBe('Bearer');
        } else {
          expect([400, 401], show([params, type, auth])).toContain(response.status);
          expect(TOKEN_ERRORS, show(json)).toContain(json.error);
        }
        if (before) {
          const after = await pool.query('select md5(string_agg(t::text, \'|\' order by code_hash)) as d from attesto_authorization_codes t');
          expect(after.rows[0]).toEqual(before.rows[0]);
        }
      }),
      { numRuns: 250 },
    );
    // Untouched requests with a real code do get their token: the fuzzing reached success too.
    expect(tokens).toBeGreaterThan(0);
  });

  it('/introspect: 401, a 400 error body or { active }; never a 500', { timeout: 60_000 }, async () => {
    const credentials = fc.oneof(
      fc.constant('Basic ' + btoa('demo-rs:demo-rs-secret')),
      fc.constant('Basic ' + btoa('demo-rs:wrong')),
      hostileString.filter((s) => /^[\t\x20-\x7e]*$/.test(s)),
    );
    await fc.assert(
      fc.asyncProperty(credentials, parameters(['token'], { token: 'x'.repeat(43) }), async (auth, params) => {
        const response = await target.fetch(`${target.baseURL}/introspect`, {
          method: 'POST',
          headers: { authorization: auth, 'content-type': 'application/x-www-form-urlencoded' },
          body: new URLSearchParams(params).toString(),
        });
        expectNoServerError(response, [auth, params]);
        const json = (await response.json()) as Record<string, unknown>;
        if (response.status === 200) expect(json).toEqual({ active: false });
        else expect(['invalid_client', 'invalid_request']).toContain(json.error);
      }),
      { numRuns: 200 },
    );
  });

  it('megabyte bodies and query strings: still an RFC 6749 error, never a 500', { timeout: 60_000 }, async () => {
    const before = await rows();
    const big = encodeURIComponent(MEGABYTES);
    const authorize = await target.fetch(`${target.baseURL}/authorize?${new URLSearchParams({ ...valid, nonce: MEGABYTES }).toString()}`, { redirect: 'manual' });
    expectNoServerError(authorize, 'megabyte nonce');
    expect(new URL(authorize.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');
    for (const name of ['code', 'code_verifier', 'redirect_uri', 'client_id', 'grant_type']) {
      const body = new URLSearchParams({ grant_type: 'authorization_code', client_id: 'demo', code: 'x', redirect_uri: REDIRECT_URI, code_verifier: VERIFIER });
      const response = await target.fetch(`${target.baseURL}/token`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: `${body.toString()}&${name}=${big}`.replace(new RegExp(`(^|&)${name}=[^&]*&`), '$1'),
      });
      expectNoServerError(response, name);
      expect([400, 401]).toContain(response.status);
    }
    const introspect = await target.fetch(`${target.baseURL}/introspect`, {
      method: 'POST',
      headers: { authorization: 'Basic ' + btoa('demo-rs:demo-rs-secret'), 'content-type': 'application/x-www-form-urlencoded' },
      body: `token=${big}`,
    });
    expectNoServerError(introspect, 'megabyte token');
    expect(await introspect.json()).toEqual({ active: false });
    expect(await rows()).toBe(before);
  });

  it('unknown paths and methods are 404, not 500', async () => {
    for (const [method, path] of [['PUT', '/token'], ['GET', '/token'], ['DELETE', '/authorize'], ['GET', '/%00'], ['POST', '/../../etc/passwd'], ['GET', '/introspect']]) {
      const response = await target.fetch(`${target.baseURL}${path}`, { method });
      expectNoServerError(response, [method, path]);
      expect(response.status).toBe(404);
    }
  });
});
