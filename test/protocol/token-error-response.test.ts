import { describe, expect, it } from 'vitest';
import {
  AttestoError,
  InvalidAuthorizationRequestError,
  InvalidCodeOptionsError,
  tokenErrorResponse,
  type RedeemError,
  type RedeemFailure,
} from '../../src/index.js';

const reasons: RedeemError[] = [
  'invalid_grant',
  'expired',
  'client_required',
  'client_mismatch',
  'redirect_uri_mismatch',
  'pkce_failed',
  'dpop_proof_required',
  'dpop_binding_mismatch',
];
const failures: RedeemFailure[] = [
  ...reasons.map((error): RedeemFailure => ({ ok: false, error })),
  { ok: false, error: 'reuse', meta: { familyId: 'family-1', subject: 'alice', accessTokenJti: 'at-1' } },
];

describe('tokenErrorResponse', () => {
  it('maps every failed redemption to the same invalid_grant body (RFC 6749 §5.2)', () => {
    const bodies = failures.map((failure) => tokenErrorResponse(failure));
    for (const body of bodies) {
      expect(body.error).toBe('invalid_grant');
      expect(Object.keys(body).sort()).toEqual(['error', 'error_description']);
      expect(body).toEqual(bodies[0]);
    }
  });

  it('never reveals the internal reason code or what a replay exposed', () => {
    // The generic description may mention expiry in words; it is the same text for every failure.
    const internal = reasons.filter((r) => r.includes('_') && r !== 'invalid_grant');
    for (const failure of failures) {
      const text = JSON.stringify(tokenErrorResponse(failure));
      for (const reason of [...internal, 'reuse', 'family-1', 'alice', 'at-1']) {
        expect(text).not.toContain(reason);
      }
    }
  });

  it('uses only the characters RFC 6749 §5.2 allows in error_description', () => {
    const { error_description } = tokenErrorResponse({ ok: false, error: 'pkce_failed' });
    expect(error_description).toMatch(/^[\x20-\x21\x23-\x5B\x5D-\x7E]+$/);
  });

  it('refuses to turn a successful redemption into an error', () => {
    expect(() => tokenErrorResponse({ ok: true } as unknown as RedeemFailure)).toThrow(InvalidCodeOptionsError);
  });
});

describe('protocol errors', () => {
  it('carry a stable code and belong to the package', () => {
    const error = new InvalidAuthorizationRequestError('invalid_scope', 'scope must be a list of scope-tokens');
    expect(error).toBeInstanceOf(AttestoError);
    expect(error.code).toBe('invalid_scope');
    expect(error.name).toBe('InvalidAuthorizationRequestError');
    const misuse = new InvalidCodeOptionsError('bad ttl');
    expect(misuse.code).toBe('invalid_code_options');
    expect(misuse.name).toBe('InvalidCodeOptionsError');
  });
});
