import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { createHash } from 'node:crypto';
import { base64url, generateCode, hashCode } from '../../src/index.js';

describe('secrets (Web Crypto)', () => {
  it('generateCode: 43 base64url characters from 32 random bytes', () => {
    const codes = new Set<string>();
    for (let i = 0; i < 1000; i++) {
      const code = generateCode();
      expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
      codes.add(code);
    }
    expect(codes.size).toBe(1000);
  });

  it('generateCode takes its random source as an option', () => {
    const zeros = generateCode({ random: (bytes) => bytes.fill(0) });
    expect(zeros).toBe('A'.repeat(43));
    const fixed = generateCode({ random: (bytes) => bytes.fill(255) });
    expect(fixed).toBe(`${'_'.repeat(42)}8`);
  });

  it('hashCode is SHA-256 of the UTF-8 code, base64url without padding', async () => {
    await fc.assert(
      fc.asyncProperty(fc.string({ unit: 'grapheme', maxLength: 200 }), async (code) => {
        const expected = createHash('sha256').update(code, 'utf8').digest('base64url');
        expect(await hashCode(code)).toBe(expected);
      }),
      { numRuns: 300 },
    );
    // RFC 7636 Appendix B: the S256 challenge of the example verifier.
    expect(await hashCode('dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk')).toBe(
      'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
    );
  });

  it('base64url matches the platform encoder for every length', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 100 }), (bytes) => {
        expect(base64url(bytes)).toBe(Buffer.from(bytes).toString('base64url'));
      }),
    );
  });

  it('hashCode rejects a non-string with a TypeError', async () => {
    await expect(hashCode(42 as never)).rejects.toBeInstanceOf(TypeError);
  });
});
