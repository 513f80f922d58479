import { describe, expect, it } from 'vitest';
import { createCodeStore, finalizeCode, issueCode, redeemCode } from '../../src/index.js';
import { pglite, serverDrivers, type DriverFactory } from '../support/drivers.js';
import { attributes, VERIFIER } from './fixtures.js';

const drivers: readonly DriverFactory[] = [...serverDrivers, pglite];
const params = { clientId: 'demo', redirectUri: 'http://127.0.0.1:8788/callback', codeVerifier: VERIFIER };

describe.each(drivers.map((driver) => [driver.name, driver] as const))('a code exchange over %s', (_name, driver) => {
  it('is two statements, redeem and finalize, and a replay is one', async () => {
    const database = await driver.open({ connections: 2 });
    try {
      const store = createCodeStore(database.db);
      const { code } = await issueCode(store, attributes({ familyId: `family-${driver.name}` }));
      expect(database.statements).toHaveLength(1);

      database.statements.length = 0;
      const result = await redeemCode(store, code, params);
      if (!result.ok) throw new Error(`expected a grant, got ${result.error}`);
      await finalizeCode(store, code, result.grant, {
        accessToken: { jti: `at-${driver.name}`, expiresAt: Math.floor(Date.now() / 1000) + 3600 },
      });
      expect(database.statements).toHaveLength(2);

      database.statements.length = 0;
      expect(await redeemCode(store, code, params)).toMatchObject({ ok: false, error: 'reuse' });
      expect(database.statements).toHaveLength(1);
    } finally {
      await database.close();
    }
  });
});
