import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { computeS256Challenge, verifyPKCE } from '../../src/index.js';
import { CHALLENGE, VERIFIER } from './fixtures.js';

const UNRESERVED = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-._~'.split('');
const verifiers = fc
  .array(fc.constantFrom(...UNRESERVED), { minLength: 43, maxLength: 128 })
  .map((chars) => chars.join(''));

describe('computeS256Challenge', () => {
  it('matches the example of RFC 7636 Appendix B', async () => {
    expect(await computeS256Challenge(VERIFIER)).toBe(CHALLENGE);
  });
});

describe('verifyPKCE', () => {
  it('accepts the verifier of the challenge', async () => {
    expect(await verifyPKCE(VERIFIER, CHALLENGE)).toBe(true);
  });

  it('rejects a verifier that differs in one character', async () => {
    expect(await verifyPKCE(`${VERIFIER.slice(0, -1)}l`, CHALLENGE)).toBe(false);
  });

  it('rejects a challenge that differs in one character or in length', async () => {
    expect(await verifyPKCE(VERIFIER, `${CHALLENGE.slice(0, -1)}N`)).toBe(false);
    expect(await verifyPKCE(VERIFIER, CHALLENGE.slice(0, -1))).toBe(false);
    expect(await verifyPKCE(VERIFIER, `${CHALLENGE}=`)).toBe(false);
    expect(await verifyPKCE(VERIFIER, '')).toBe(false);
  });

  it('never accepts plain PKCE, where the challenge is the verifier itself', async () => {
    expect(await verifyPKCE(VERIFIER, VERIFIER)).toBe(false);
  });

  it('accepts verifiers of exactly 43 and 128 characters and refuses 42 and 129 (RFC 7636 §4.1)', async () => {
    for (const length of [43, 128]) {
      const verifier = 'a'.repeat(length);
      expect(await verifyPKCE(verifier, await computeS256Challenge(verifier))).toBe(true);
    }
    for (const length of [42, 129]) {
      const verifier = 'a'.repeat(length);
      expect(await verifyPKCE(verifier, await computeS256Challenge(verifier))).toBe(false);
    }
  });

  it.each([' ', '+', '/', '=', '%', 'é', '\u0000'])('refuses a verifier containing %j even when its digest matches', async (char) => {
    const verifier = `${'a'.repeat(42)}${char}`;
    expect(await verifyPKCE(verifier, await computeS256Challenge(verifier))).toBe(false);
  });

  it('refuses values that are not strings', async () => {
    expect(await verifyPKCE(undefined as unknown as string, CHALLENGE)).toBe(false);
    expect(await verifyPKCE(VERIFIER, null as unknown as string)).toBe(false);
  });

  it('accepts every well-formed verifier against its own challenge and no other', async () => {
    await fc.assert(
      fc.asyncProperty(verifiers, verifiers, async (verifier, other) => {
        const challenge = await computeS256Challenge(verifier);
        expect(challenge).toMatch(/^[A-Za-z0-9_-]{43}$/);
        expect(await verifyPKCE(verifier, challenge)).toBe(true);
        if (other !== verifier) expect(await verifyPKCE(other, challenge)).toBe(false);
      }),
      { numRuns: 200 },
    );
  });
});
