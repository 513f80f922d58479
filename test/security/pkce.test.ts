/**
 * PKCE `plain` and an absent method are rejected at every entry: the
 * protocol layer, the record mapping, the store, the table's CHECK
 * constraint, and the example server's authorization and token endpoints.
 * A verifier that merely equals the challenge (what `plain` would accept)
 * never redeems a code.
 *
 * @see RFC 7636 §4.3, §7.2
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  computeS256Challenge,
  createCodeStore,
  fromRecord,
  generateCode,
  hashCode,
  InvalidAuthorizationRequestError,
  InvalidCodeRecordError,
  issueCode,
  redeemCode,
  type CodeStore,
} from '../../src/index.js';
import { nodePostgres, type TestDatabase } from '../support/drivers.js';
import { inProcess, REDIRECT_URI, type Target } from '../example/targets.js';
import { sqlState, validEntry } from '../faults/fixtures.js';

const NOT_S256: unknown[] = ['plain', 'PLAIN', 's256', 'S256 ', ' S256', 'S512', 'sha256', '', null, undefined, 0, ['S256'], { method: 'S256' }];

let database: TestDatabase;
let store: CodeStore;
let target: Target;

beforeAll(async () => {
  database = await nodePostgres.open({ connections: 2 });
  store = createCodeStore(database.db);
  target = await inProcess();
});

afterAll(async () => {
  await database?.close();
  await target?.close();
});

async function rows(): Promise<number> {
  const [row] = await database.query<{ n: number }>('select count(*)::int as n from attesto_authorization_codes');
  return row!.n;
}

describe('PKCE plain and an absent method are rejected everywhere', () => {
  it('issueCode refuses every method but S256, and a missing challenge, storing nothing', async () => {
    const verifier = generateCode();
    const challenge = await computeS256Challenge(verifier);
    const attributes = { clientId: 'c', redirectUri: 'https://c.example/cb', subject: 's', codeChallenge: challenge };
    for (const method of NOT_S256) {
      const before = await rows();
      const withMethod = method === undefined ? attributes : { ...attributes, codeChallengeMethod: method };
      const error = await issueCode(store, withMethod as never).catch((e: unknown) => e);
      expect(error, String(method)).toBeInstanceOf(InvalidAuthorizationRequestError);
      expect((error as InvalidAuthorizationRequestError).code).toBe('unsupported_code_challenge_method');
      expect(await rows()).toBe(before);
    }
    for (const codeChallenge of [undefined, null, '']) {
      const error = await issueCode(store, { ...attributes, codeChallenge, codeChallengeMethod: 'S256' } as never).catch((e: unknown) => e);
      expect((error as InvalidAuthorizationRequestError).code).toBe('missing_code_challenge');
    }
    // A plain-style challenge (the verifier itself, 43+ chars of the unreserved set) is not an S256 digest when it has '.' or '~'.
    const error = await issueCode(store, { ...attributes, codeChallenge: `${verifier.slice(0, 42)}~`, codeChallengeMethod: 'S256' }).catch((e: unknown) => e);
    expect((error as InvalidAuthorizationRequestError).code).toBe('invalid_code_challenge');
  });

  it('the record mapping and the store refuse every method but S256', async () => {
    for (const method of NOT_S256) {
      const entry = validEntry(await hashCode(generateCode()), { codeChallengeMethod: method as 'S256' });
      if (method === undefined) delete (entry.data as unknown as Record<string, unknown>).codeChallengeMethod;
      expect(() => fromRecord(entry), String(method)).toThrow(InvalidCodeRecordError);
      const before = await rows();
      const error = await store.put(entry).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCodeRecordError);
      expect((error as InvalidCodeRecordError).field).toBe('data.codeChallengeMethod');
      expect(await rows()).toBe(before);
    }
  });

  it("the table's CHECK constraint refuses plain even from SQL that bypasses the store", async () => {
    for (const method of ['plain', 's256', '']) {
      const error = await database
        .query(
          `insert into attesto_authorization_codes (code_hash, client_id, subject, redirect_uri, scope, resource, code_challenge, code_challenge_method, claims, expires_at)
           values ($1, 'c', 's', 'https://c.example/cb', '{}', '{}', $2, $3, '{}', now() + interval '1 minute')`,
          [await hashCode(generateCode()), 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', method],
        )
        .catch((e: unknown) => e);
      // 23514: check_violation.
      expect(sqlState(error), method).toBe('23514');
    }
  });

  it('redeemCode never accepts the challenge itself, an absent or a malformed verifier, and spends the code', async () => {
    const verifier = generateCode();
    const challenge = await computeS256Challenge(verifier);
    const attributes = { clientId: 'c', redirectUri: 'https://c.example/cb', subject: 's', codeChallenge: challenge, codeChallengeMethod: 'S256' };
    for (const codeVerifier of [challenge, undefined, null, '', verifier.slice(0, 42), `${verifier} `, verifier.toUpperCase(), 'a'.repeat(129)]) {
      const { code } = await issueCode(store, attributes);
      const result = await redeemCode(store, code, { clientId: 'c', redirectUri: 'https://c.example/cb', codeVerifier: codeVerifier as string });
      expect(result, String(codeVerifier)).toEqual({ ok: false, error: 'pkce_failed' });
      // Spent: the right verifier cannot be tried next.
      expect(await redeemCode(store, code, { clientId: 'c', redirectUri: 'https://c.example/cb', codeVerifier: verifier })).toEqual({ ok: false, error: 'invalid_grant' });
    }
    const { code } = await issueCode(store, attributes);
    expect((await redeemCode(store, code, { clientId: 'c', redirectUri: 'https://c.example/cb', codeVerifier: verifier })).ok).toBe(true);
  });

  it('the example server: /authorize without S256 issues no code; metadata lists S256 only; /token needs the verifier', async () => {
    const verifier = generateCode();
    const challenge = await computeS256Challenge(verifier);
    const base = { client_id: 'demo', redirect_uri: REDIRECT_URI, response_type: 'code', code_challenge: challenge };
    for (const method of ['plain', 's256', '', undefined]) {
      const query = new URLSearchParams(method === undefined ? base : { ...base, code_challenge_method: method });
      const response = await target.fetch(`${target.baseURL}/authorize?${query.toString()}`, { redirect: 'manual' });
      const location = new URL(response.headers.get('location')!);
      expect(location.searchParams.get('error'), String(method)).toBe('invalid_request');
      expect(location.searchParams.get('code')).toBeNull();
    }
    const noChallenge = await target.fetch(
      `${target.baseURL}/authorize?${new URLSearchParams({ client_id: 'demo', redirect_uri: REDIRECT_URI, response_type: 'code', code_challenge_method: 'S256' }).toString()}`,
      { redirect: 'manual' },
    );
    expect(new URL(noChallenge.headers.get('location')!).searchParams.get('error')).toBe('invalid_request');

    const metadata = (await (await target.fetch(`${target.baseURL}/.well-known/oauth-authorization-server`)).json()) as Record<string, unknown>;
    expect(metadata.code_challenge_methods_supported).toEqual(['S256']);

    const issued = await target.fetch(`${target.baseURL}/authorize?${new URLSearchParams({ ...base, code_challenge_method: 'S256' }).toString()}`, { redirect: 'manual' });
    const code = new URL(issued.headers.get('location')!).searchParams.get('code')!;
    const token = await target.fetch(`${target.baseURL}/token`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      // The plain method's verifier would be the challenge itself.
      body: new URLSearchParams({ grant_type: 'authorization_code', client_id: 'demo', code, redirect_uri: REDIRECT_URI, code_verifier: challenge }).toString(),
    });
    expect(token.status).toBe(400);
    expect(await token.json()).toMatchObject({ error: 'invalid_grant' });
  });
});
