/**
 * Property-based fuzzing of the protocol layer: issueCode and redeemCode with
 * hostile attributes, codes and token-request parameters. Every case ends in
 * a value or a typed error, a failure maps to the RFC 6749 `invalid_grant`
 * body, and nothing is written where nothing valid was asked for.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  computeS256Challenge,
  createCodeStore,
  issueCode,
  redeemCode,
  tokenErrorResponse,
  type AuthorizationCodeAttributes,
  type CodeStore,
} from '../../src/index.js';
import { nodePostgres, type TestDatabase } from '../support/drivers.js';
import { describe as show, hostileString, hostileValue, isTypedError } from './arbitraries.js';

let database: TestDatabase;
let store: CodeStore;

beforeAll(async () => {
  database = await nodePostgres.open({ connections: 4 });
  store = createCodeStore(database.db);
});

afterAll(async () => {
  await database?.close();
});

async function rowCount(): Promise<number> {
  const [row] = await database.query<{ n: number }>('select count(*)::int as n from attesto_authorization_codes');
  return row!.n;
}

async function snapshot(): Promise<string> {
  const [row] = await database.query<{ digest: string | null }>(
    'select md5(string_agg(t::text, \'|\' order by code_hash)) as digest from attesto_authorization_codes t',
  );
  return row!.digest ?? '';
}

const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
let challenge: string;

function validAttributes(): AuthorizationCodeAttributes {
  return {
    clientId: 'client-1',
    redirectUri: 'https://client.example/callback',
    subject: 'user-1',
    codeChallenge: challenge,
    codeChallengeMethod: 'S256',
    scope: ['openid'],
    resource: [],
    dpopJkt: null,
    nonce: null,
    familyId: 'family-1',
    claims: {},
  };
}

const ATTRIBUTE_KEYS = ['clientId', 'redirectUri', 'subject', 'codeChallenge', 'codeChallengeMethod', 'scope', 'resource', 'dpopJkt', 'nonce', 'familyId', 'claims'] as const;

const REDEEM_ERRORS = ['invalid_grant', 'reuse', 'expired', 'client_required', 'client_mismatch', 'redirect_uri_mismatch', 'pkce_failed', 'dpop_proof_required', 'dpop_binding_mismatch'];

beforeAll(async () => {
  challenge = await computeS256Challenge(VERIFIER);
});

describe('fuzzing issueCode', () => {
  it('hostile attributes: a fresh code, or a typed error with nothing stored', { timeout: 120_000 }, async () => {
    let issued = 0;
    let refused = 0;
    const mutation = fc.record({
      key: fc.constantFrom(...ATTRIBUTE_KEYS),
      action: fc.constantFrom('delete', 'set', 'push'),
      value: hostileValue,
    });
    await fc.assert(
      fc.asyncProperty(fc.array(mutation, { minLength: 1, maxLength: 3 }), fc.oneof(fc.constant(undefined), fc.record({ ttlSeconds: hostileValue })), async (mutations, options) => {
        const attributes = validAttributes() as unknown as Record<string, unknown>;
        for (const m of mutations) {
          if (m.action === 'delete') delete attributes[m.key];
          else if (m.action === 'set') attributes[m.key] = m.value;
          else if (Array.isArray(attributes[m.key])) (attributes[m.key] as unknown[]).push(m.value);
        }
        const before = await rowCount();
        try {
          const result = await issueCode(store, attributes as unknown as AuthorizationCodeAttributes, options as never);
          issued++;
          expect(result.code).toMatch(/^[A-Za-z0-9_-]{43}$/);
          expect(await rowCount()).toBe(before + 1);
        } catch (error) {
          refused++;
          expect(isTypedError(error), `${show([mutations, options])} threw ${String(error)}`).toBe(true);
          expect(await rowCount()).toBe(before);
        }
      }),
      { numRuns: 250 },
    );
    expect(issued).toBeGreaterThan(0);
    expect(refused).toBeGreaterThan(0);
  });

  it('attributes that are not an object at all are a typed error', async () => {
    for (const attributes of [undefined, null, 'x', 42, [], () => ({})]) {
      const error = await issueCode(store, attributes as never).catch((e: unknown) => e);
      expect(isTypedError(error), show(attributes)).toBe(true);
    }
  });
});

describe('fuzzing redeemCode', () => {
  it('hostile codes and token-request parameters: a RedeemResult or a typed error; failures map to invalid_grant', { timeout: 120_000 }, async () => {
    const params = fc.oneof(
      hostileValue,
      fc.record(
        { clientId: fc.oneof(hostileValue, fc.constant('client-1')), redirectUri: fc.oneof(hostileValue, fc.constant('https://client.example/callback')), codeVerifier: fc.oneof(hostileValue, fc.constant(VERIFIER)), dpopJkt: hostileValue },
        { requiredKeys: [] },
      ),
    );
    let redeemed = 0;
    let failures = 0;
    let firstBody: ReturnType<typeof tokenErrorResponse> | undefined;
    await fc.assert(
      fc.asyncProperty(fc.boolean(), fc.oneof(hostileValue, hostileString), params, async (useRealCode, hostileCode, p) => {
        const real = useRealCode ? (await issueCode(store, validAttributes())).code : undefined;
        const code = real ?? hostileCode;
        const before = await snapshot();
        let result;
        try {
          result = await redeemCode(store, code as string, p as never);
        } catch (error) {
          expect(isTypedError(error), `${show([code, p])} threw ${String(error)}`).toBe(true);
          // Refused before the store was asked: nothing spent.
          expect(await snapshot()).toBe(before);
          return;
        }
        if (result.ok) {
          redeemed++;
          expect(real).toBeDefined();
          return;
        }
        failures++;
        expect(REDEEM_ERRORS).toContain(result.error);
        const body = tokenErrorResponse(result);
        expect(body.error).toBe('invalid_grant');
        // One constant body for every failure: nothing presented is echoed, no reason leaks.
        firstBody ??= body;
        expect(body).toEqual(firstBody);
        if (real !== undefined) expect(JSON.stringify(body)).not.toContain(real);
        // A presented code that was never issued changes nothing.
        if (real === undefined) expect(await snapshot()).toBe(before);
      }),
      { numRuns: 250 },
    );
    expect(redeemed + failures).toBeGreaterThan(0);
    expect(failures).toBeGreaterThan(0);
  });
});
