/**
 * Round trips measured on the wire, not counted in the ORM: over Neon's HTTP
 * driver each store call is one HTTP request carrying one statement, so a
 * full code exchange (redeem, then finalize) is two requests and a replay
 * one, with no batch and no transaction anywhere.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import { createCodeStore, finalizeCode, issueCode, redeemCode, type CodeStore } from '../../src/index.js';
import { createMigratedDatabase } from '../support/database.js';
import { startNeonHTTPEndpoint, type NeonHTTPEndpoint } from '../support/neon-http-endpoint.js';
import { attributes, VERIFIER } from '../protocol/fixtures.js';

let endpoint: NeonHTTPEndpoint;
let store: CodeStore;

beforeAll(async () => {
  const url = await createMigratedDatabase('neon_round_trips');
  endpoint = await startNeonHTTPEndpoint();
  neonConfig.fetchEndpoint = endpoint.url;
  store = createCodeStore(drizzle({ client: neon(url) }));
});

afterAll(async () => {
  await endpoint?.close();
});

/** The requests made by `action`, each checked to be one statement outside any batch. */
async function requestsOf(action: () => Promise<unknown>): Promise<number> {
  const before = endpoint.requests.length;
  await action();
  const made = endpoint.requests.slice(before);
  for (const request of made) {
    expect(request.batch).toBe(false);
    expect(request.queries).toHaveLength(1);
    expect(request.queries[0]).not.toMatch(/^\s*(begin|commit|rollback)\b/i);
  }
  return made.length;
}

describe('HTTP round trips over neon-http', () => {
  const params = { clientId: 'demo', redirectUri: 'http://127.0.0.1:8788/callback', codeVerifier: VERIFIER };

  it('issue is one request; redeem and finalize two; a replay one; an unknown code one', async () => {
    let code = '';
    expect(await requestsOf(async () => ({ code } = await issueCode(store, attributes({ familyId: 'family-http' }))))).toBe(1);

    expect(
      await requestsOf(async () => {
        const result = await redeemCode(store, code, params);
        if (!result.ok) throw new Error(`expected a grant, got ${result.error}`);
        await finalizeCode(store, code, result.grant, {
          accessToken: { jti: 'at-http', expiresAt: Math.floor(Date.now() / 1000) + 3600 },
        });
      }),
    ).toBe(2);

    expect(
      await requestsOf(async () => expect(await redeemCode(store, code, params)).toMatchObject({ ok: false, error: 'reuse' })),
    ).toBe(1);
    expect(
      await requestsOf(async () =>
        expect(await redeemCode(store, 'A'.repeat(43), params)).toMatchObject({ ok: false, error: 'invalid_grant' }),
      ),
    ).toBe(1);
  });

  it('a rejected redemption still spends the code in its single request', async () => {
    const { code } = await issueCode(store, attributes({ familyId: 'family-http-2' }));
    expect(
      await requestsOf(async () =>
        expect(await redeemCode(store, code, { ...params, redirectUri: 'http://127.0.0.1:8788/other' })).toMatchObject({
          ok: false,
        }),
      ),
    ).toBe(1);
    expect(await requestsOf(async () => expect(await redeemCode(store, code, params)).toMatchObject({ ok: false, error: 'invalid_grant' }))).toBe(1);
  });
});
