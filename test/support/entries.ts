/** Builders of valid code entries for tests, demos and benchmarks. */
import { generateCode, hashCode, type CodeEntry } from '../../src/index.js';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A valid entry for `codeHash`, expiring an hour from now unless told. */
export function validEntry(
  codeHash: string,
  overrides: Partial<CodeEntry['data']> = {},
  expiresAt?: number,
): CodeEntry {
  return {
    codeHash,
    expiresAt: expiresAt ?? nowSeconds() + 3600,
    data: {
      clientId: 'client-1',
      subject: 'user-1',
      redirectUri: 'https://client.example/callback',
      scope: ['openid', 'profile'],
      resource: [],
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      dpopJkt: null,
      nonce: null,
      familyId: null,
      claims: {},
      ...overrides,
    },
  };
}

/**
 * A valid entry for a fresh random code, with every optional field filled so
 * that a round trip exercises them all; `overrides` replace the expiry or data fields.
 */
export async function makeEntry(
  overrides: { expiresAt?: number; data?: Partial<CodeEntry['data']> } = {},
): Promise<{ code: string; entry: CodeEntry }> {
  const code = generateCode();
  const codeHash = await hashCode(code);
  const entry = validEntry(
    codeHash,
    {
      subject: 'user-42',
      redirectUri: 'https://client.example/callback?x=1',
      resource: ['https://api.example/'],
      nonce: 'n-0S6_WzA2Mj',
      familyId: `family-${codeHash.slice(0, 8)}`,
      claims: { acr: 'urn:mace:incommon:iap:silver', amr: ['pwd'], nested: { ok: true, n: 1.5 } },
      ...overrides.data,
    },
    overrides.expiresAt ?? nowSeconds() + 60,
  );
  return { code, entry };
}
