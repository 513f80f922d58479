/** Builders of valid code entries for tests, demos and benchmarks. */
import { generateCode, hashCode, type CodeEntry } from '../../src/index.js';

export const nowSeconds = (): number => Math.floor(Date.now() / 1000);

/** A valid entry for a fresh random code; `overrides` replace top-level or data fields. */
export async function makeEntry(
  overrides: { expiresAt?: number; data?: Partial<CodeEntry['data']> } = {},
): Promise<{ code: string; entry: CodeEntry }> {
  const code = generateCode();
  const codeHash = await hashCode(code);
  const entry: CodeEntry = {
    codeHash,
    expiresAt: overrides.expiresAt ?? nowSeconds() + 60,
    data: {
      clientId: 'client-1',
      subject: 'user-42',
      redirectUri: 'https://client.example/callback?x=1',
      scope: ['openid', 'profile'],
      resource: ['https://api.example/'],
      codeChallenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      codeChallengeMethod: 'S256',
      dpopJkt: null,
      nonce: 'n-0S6_WzA2Mj',
      familyId: `family-${codeHash.slice(0, 8)}`,
      claims: { acr: 'urn:mace:incommon:iap:silver', amr: ['pwd'], nested: { ok: true, n: 1.5 } },
      ...overrides.data,
    },
  };
  return { code, entry };
}
