/** Shared fixtures of the protocol tests: a valid authorization and its PKCE pair. */
import type { AuthorizationCodeAttributes } from '../../src/index.js';

// RFC 7636 Appendix B.
export const VERIFIER = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
export const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
export const JKT = '0ZcOCORZNYy-DWpqq30jZyJGHTN0d2HglBV3uiguA4I';
export const NOW = 1_800_000_000;
export const clock = (): number => NOW;

export function attributes(overrides: Partial<Record<keyof AuthorizationCodeAttributes, unknown>> = {}): AuthorizationCodeAttributes {
  return {
    clientId: 'demo',
    redirectUri: 'http://127.0.0.1:8788/callback',
    subject: 'alice',
    codeChallenge: CHALLENGE,
    codeChallengeMethod: 'S256',
    scope: ['openid', 'profile'],
    resource: ['https://api.example.com/'],
    dpopJkt: null,
    nonce: 'n-0S6_WzA2Mj',
    familyId: 'family-1',
    claims: { acr: 'urn:example:pwd', amr: ['pwd'] },
    ...overrides,
  } as AuthorizationCodeAttributes;
}
