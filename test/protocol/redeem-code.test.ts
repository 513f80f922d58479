import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  createCodeStore,
  finalizeCode,
  InvalidCodeOptionsError,
  issueCode,
  redeemCode,
  type AuthorizationCodeAttributes,
  type CodeStore,
  type RedeemCodeParams,
  type RedeemResult,
} from '../../src/index.js';
import { nodePostgres, type TestDatabase } from '../support/drivers.js';
import { attributes, clock, JKT, NOW, VERIFIER } from './fixtures.js';

let database: TestDatabase;
let store: CodeStore;

beforeAll(async () => {
  database = await nodePostgres.open({ connections: 4 });
  store = createCodeStore(database.db);
});
afterAll(async () => {
  await database.close();
});
beforeEach(() => {
  database.statements.length = 0;
});

const REDIRECT_URI = 'http://127.0.0.1:8788/callback';
const params = (overrides: Partial<Record<keyof RedeemCodeParams, unknown>> = {}): RedeemCodeParams =>
  ({ clientId: 'demo', redirectUri: REDIRECT_URI, codeVerifier: VERIFIER, ...overrides }) as RedeemCodeParams;

async function issue(overrides: Partial<Record<keyof AuthorizationCodeAttributes, unknown>> = {}): Promise<string> {
  const { code } = await issueCode(store, attributes(overrides), { now: clock });
  database.statements.length = 0;
  return code;
}

function failure(result: RedeemResult): string {
  return result.ok ? 'ok' : result.error;
}

describe('redeemCode', () => {
  it('grants what the code was issued for, in one statement; redeem plus finalize is two', async () => {
    const code = await issue();
    const result = await redeemCode(store, code, params(), { now: clock });
    expect(result).toEqual({
      ok: true,
      grant: {
        clientId: 'demo',
        redirectUri: REDIRECT_URI,
        subject: 'alice',
        scope: ['openid', 'profile'],
        resource: ['https://api.example.com/'],
        dpopJkt: null,
        familyId: 'family-1',
        nonce: 'n-0S6_WzA2Mj',
        claims: { acr: 'urn:example:pwd', amr: ['pwd'] },
      },
    });
    expect(database.statements).toHaveLength(1);
    if (!result.ok) throw new Error('unreachable');
    await finalizeCode(store, code, result.grant, { accessToken: { jti: 'at-1', expiresAt: NOW + 3600 } });
    expect(database.statements).toHaveLength(2);
  });

  it('spends the code on first presentation even when that redemption is rejected', async () => {
    const code = await issue();
    expect(failure(await redeemCode(store, code, params({ codeVerifier: 'x'.repeat(43) }), { now: clock }))).toBe('pkce_failed');
    // The right verifier now comes too late: no repeated attempts against a captured code.
    expect(failure(await redeemCode(store, code, params(), { now: clock }))).toBe('invalid_grant');
  });

  it('reports reuse of a finalized code with what it produced, so the caller can revoke it', async () => {
    const code = await issue({ familyId: 'family-reuse' });
    const first = await redeemCode(store, code, params(), { now: clock });
    if (!first.ok) throw new Error(`expected a grant, got ${first.error}`);
    await finalizeCode(store, code, first.grant, { accessToken: { jti: 'at-reuse', expiresAt: NOW + 3600 } });
    database.statements.length = 0;
    const replay = await redeemCode(store, code, params(), { now: clock });
    expect(replay).toEqual({
      ok: false,
      error: 'reuse',
      meta: { familyId: 'family-reuse', subject: 'alice', accessTokenJti: 'at-reuse' },
    });
    expect(database.statements).toHaveLength(1);
  });

  it('treats the replay of a code that was never finalized as invalid_grant, not reuse', async () => {
    const code = await issue();
    expect((await redeemCode(store, code, params(), { now: clock })).ok).toBe(true);
    expect(failure(await redeemCode(store, code, params(), { now: clock }))).toBe('invalid_grant');
  });

  it('answers invalid_grant for a code that was never issued', async () => {
    expect(failure(await redeemCode(store, 'A'.repeat(43), params(), { now: clock }))).toBe('invalid_grant');
  });

  it.each([
    ['empty', ''],
    ['short', 'abc'],
    ['with spaces and symbols', 'not a code !@#$%^&*()'],
    ['unicode', '\u{1F511}'.repeat(20)],
    ['lone surrogate', '\uD800abc'],
    ['very long', 'a'.repeat(100_000)],
    ['not a string', 42],
    ['null', null],
  ])('answers invalid_grant for a malformed code (%s) without crashing', async (_label, code) => {
    expect(failure(await redeemCode(store, code as string, params(), { now: clock }))).toBe('invalid_grant');
  });

  it('does not query at all for a code too long to have been issued', async () => {
    await redeemCode(store, 'a'.repeat(100_000), params(), { now: clock });
    expect(database.statements).toHaveLength(0);
  });

  it('answers expired from the expiry second on, and still spends the code', async () => {
    const code = await issue();
    expect(failure(await redeemCode(store, code, params(), { now: () => NOW + 60 }))).toBe('expired');
    expect(failure(await redeemCode(store, code, params(), { now: clock }))).toBe('invalid_grant');
    const fresh = await issue();
    expect(failure(await redeemCode(store, fresh, params(), { now: () => NOW + 59 }))).toBe('ok');
  });

  it.each([
    ['client_required', 'no client id', { clientId: undefined }],
    ['client_required', 'a null client id', { clientId: null }],
    ['client_mismatch', 'another client', { clientId: 'other' }],
    ['client_mismatch', 'an empty client id', { clientId: '' }],
    ['client_mismatch', 'a client id of different case', { clientId: 'Demo' }],
    ['redirect_uri_mismatch', 'a trailing slash', { redirectUri: `${REDIRECT_URI}/` }],
    ['redirect_uri_mismatch', 'an extra query', { redirectUri: `${REDIRECT_URI}?a=1` }],
    ['redirect_uri_mismatch', 'localhost for 127.0.0.1', { redirectUri: 'http://localhost:8788/callback' }],
    ['redirect_uri_mismatch', 'no redirect URI', { redirectUri: undefined }],
    ['pkce_failed', 'another verifier', { codeVerifier: 'x'.repeat(43) }],
    ['pkce_failed', 'the challenge as verifier', { codeVerifier: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM' }],
    ['pkce_failed', 'no verifier', { codeVerifier: undefined }],
    ['pkce_failed', 'an empty verifier', { codeVerifier: '' }],
    ['pkce_failed', 'the verifier with a character outside RFC 7636', { codeVerifier: `${VERIFIER}+` }],
  ])('answers %s for %s', async (expected, _label, overrides) => {
    const code = await issue();
    expect(failure(await redeemCode(store, code, params(overrides), { now: clock }))).toBe(expected);
  });

  it('accepts a missing client id only when allowMissingClientId is set, and still rejects another client then', async () => {
    const code = await issue();
    expect(failure(await redeemCode(store, code, params({ clientId: undefined }), { now: clock, allowMissingClientId: true }))).toBe('ok');
    const other = await issue();
    expect(failure(await redeemCode(store, other, params({ clientId: 'other' }), { now: clock, allowMissingClientId: true }))).toBe(
      'client_mismatch',
    );
  });

  describe('DPoP binding', () => {
    it('requires a proof for a bound code', async () => {
      const code = await issue({ dpopJkt: JKT });
      expect(failure(await redeemCode(store, code, params(), { now: clock }))).toBe('dpop_proof_required');
    });

    it('rejects a proof made with another key', async () => {
      const code = await issue({ dpopJkt: JKT });
      expect(failure(await redeemCode(store, code, params({ dpopJkt: 'B'.repeat(43) }), { now: clock }))).toBe('dpop_binding_mismatch');
    });

    it('grants a bound code to a proof of the same key', async () => {
      const code = await issue({ dpopJkt: JKT });
      const result = await redeemCode(store, code, params({ dpopJkt: JKT }), { now: clock });
      expect(result.ok && result.grant.dpopJkt).toBe(JKT);
    });

    it('lets a client bind the tokens of an unbound code with a proof', async () => {
      const code = await issue();
      expect(failure(await redeemCode(store, code, params({ dpopJkt: JKT }), { now: clock }))).toBe('ok');
    });
  });

  it('checks in the documented order: expiry, client, redirect URI, PKCE, DPoP', async () => {
    const everythingWrong = { clientId: 'other', redirectUri: 'https://elsewhere.example/', codeVerifier: 'x'.repeat(43) };
    const steps: Array<[string, Partial<Record<keyof RedeemCodeParams, unknown>>, () => number]> = [
      ['expired', everythingWrong, () => NOW + 3600],
      ['client_mismatch', everythingWrong, clock],
      ['redirect_uri_mismatch', { ...everythingWrong, clientId: 'demo' }, clock],
      ['pkce_failed', { ...everythingWrong, clientId: 'demo', redirectUri: REDIRECT_URI }, clock],
      ['dpop_proof_required', {}, clock],
    ];
    for (const [expected, overrides, now] of steps) {
      const code = await issue({ dpopJkt: JKT });
      expect(failure(await redeemCode(store, code, params(overrides), { now }))).toBe(expected);
    }
  });

  it('throws on a broken clock before the code is spent', async () => {
    const code = await issue();
    await expect(redeemCode(store, code, params(), { now: () => NOW + 0.5 })).rejects.toBeInstanceOf(InvalidCodeOptionsError);
    expect(database.statements).toHaveLength(0);
    expect(failure(await redeemCode(store, code, params(), { now: clock }))).toBe('ok');
  });

  it('throws when the token request parameters are missing altogether', async () => {
    const code = await issue();
    await expect(redeemCode(store, code, undefined as unknown as RedeemCodeParams)).rejects.toBeInstanceOf(InvalidCodeOptionsError);
  });

  it('lets exactly one of 20 concurrent redemptions of one code win', async () => {
    const code = await issue();
    const results = await Promise.all(Array.from({ length: 20 }, () => redeemCode(store, code, params(), { now: clock })));
    expect(results.filter((result) => result.ok)).toHaveLength(1);
    expect(results.filter((result) => !result.ok && result.error === 'invalid_grant')).toHaveLength(19);
  });
});

describe('finalizeCode', () => {
  it('records the access token so that revoking the family revokes it', async () => {
    const code = await issue({ familyId: 'family-finalize' });
    const result = await redeemCode(store, code, params(), { now: clock });
    if (!result.ok) throw new Error(result.error);
    const expiresAt = Math.floor(Date.now() / 1000) + 3600;
    await finalizeCode(store, code, result.grant, { accessToken: { jti: 'at-finalize', expiresAt } });
    expect(await store.isAccessTokenRevoked('at-finalize')).toBe(false);
    expect(await store.revokeFamily('family-finalize')).toBe(1);
    expect(await store.isAccessTokenRevoked('at-finalize')).toBe(true);
  });

  it('works without an access token, making a replay reuse all the same', async () => {
    const code = await issue({ familyId: null });
    const result = await redeemCode(store, code, params(), { now: clock });
    if (!result.ok) throw new Error(result.error);
    await finalizeCode(store, code, result.grant);
    expect(await redeemCode(store, code, params(), { now: clock })).toEqual({
      ok: false,
      error: 'reuse',
      meta: { familyId: null, subject: 'alice', accessTokenJti: null },
    });
  });

  it('fails closed for a code that was never taken', async () => {
    const code = await issue();
    const grant = { ...attributes(), scope: [], resource: [], dpopJkt: null, familyId: null, nonce: null, claims: {} };
    await expect(finalizeCode(store, code, grant)).rejects.toMatchObject({ code: 'code_not_taken' });
  });
});
