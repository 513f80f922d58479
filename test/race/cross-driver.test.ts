/**
 * One database, every server-backed driver at once: the racers for each code
 * are spread over node-postgres, postgres.js, neon-http and neon-serverless,
 * as when servers of different runtimes share one database. Exactly one
 * racer per code wins, whichever driver it came through.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createCodeStore, type CodeEntry, type CodeStore, type TakeResult } from '../../src/index.js';
import { createMigratedDatabase } from '../support/database.js';
import { serverDrivers, type TestDatabase } from '../support/drivers.js';
import { makeEntry, nowSeconds } from '../support/entries.js';

const CODES = 150;
const RACERS_PER_DRIVER = 6;

describe('racing redemptions across drivers on one database', () => {
  const databases: TestDatabase[] = [];
  let stores: CodeStore[];

  beforeAll(async () => {
    const url = await createMigratedDatabase('cross_driver');
    for (const driver of serverDrivers) databases.push(await driver.connect(url, { connections: RACERS_PER_DRIVER + 4 }));
    stores = databases.map((t) => createCodeStore(t.db));
  });
  afterAll(async () => {
    await Promise.all(databases.map((t) => t.close()));
  });

  it(`${CODES} codes, ${RACERS_PER_DRIVER} racers on each of ${serverDrivers.length} drivers: exactly one taken per code`, async () => {
    const entries: CodeEntry[] = [];
    for (let i = 0; i < CODES; i++) entries.push((await makeEntry()).entry);
    // Each code is put through a different driver, so every driver writes rows the others read.
    await Promise.all(entries.map((entry, i) => stores[i % stores.length]!.put(entry)));

    const winners = new Map<string, number>();
    const results = await Promise.all(
      entries.map((entry) =>
        Promise.all(
          Array.from({ length: RACERS_PER_DRIVER * stores.length }, (_, racer) => {
            const driver = racer % stores.length;
            return stores[driver]!.take(entry.codeHash).then((result) => ({ driver, result }));
          }),
        ),
      ),
    );
    for (const [i, perCode] of results.entries()) {
      const taken = perCode.filter((r) => r.result.status === 'taken');
      expect(taken, `code #${i}`).toHaveLength(1);
      const won = taken[0]!;
      expect(won.result).toEqual({ status: 'taken', entry: entries[i] });
      const name = serverDrivers[won.driver]!.name;
      winners.set(name, (winners.get(name) ?? 0) + 1);
      expect(perCode.filter((r) => r.result.status === 'unknown')).toHaveLength(perCode.length - 1);
    }
    expect([...winners.values()].reduce((a, b) => a + b, 0)).toBe(CODES);

    // The database agrees: every code consumed once, none left open.
    const [open] = await databases[0]!.query<{ n: string | number }>(
      'select count(*) as n from attesto_authorization_codes where consumed_at is null',
    );
    expect(Number(open!.n)).toBe(0);

    // Marked through one driver, replayed through all: every replay is reused.
    await Promise.all(
      entries.map((entry, i) =>
        stores[(i + 1) % stores.length]!.markConsumed(entry.codeHash, {
          familyId: entry.data.familyId,
          accessToken: { jti: `cross-${i}`, expiresAt: nowSeconds() + 600 },
        }),
      ),
    );
    const replays = await Promise.all(
      entries.map((entry) => Promise.all(stores.map((store) => store.take(entry.codeHash)))),
    );
    for (const [i, perCode] of replays.entries()) {
      const entry = entries[i]!;
      for (const replay of perCode as TakeResult[]) {
        expect(replay).toEqual({
          status: 'reused',
          meta: { familyId: entry.data.familyId, subject: entry.data.subject, accessTokenJti: `cross-${i}` },
        });
      }
    }
  });

  it('every driver reads back what every other driver wrote, unchanged', async () => {
    for (const [writer, store] of stores.entries()) {
      const { entry } = await makeEntry({
        data: {
          scope: ['openid', 'a:b', 'x~y'],
          resource: ['https://api.example/{x}', 'urn:example:"quoted"'],
          claims: { text: 'é "quoted" \\ back', list: [1, 'two', null, { three: [3] }], big: 9007199254740991 },
          nonce: '',
        },
      });
      await store.put(entry);
      for (const [reader, other] of stores.entries()) {
        expect(await other.get(entry.codeHash), `${serverDrivers[writer]!.name} → ${serverDrivers[reader]!.name}`).toEqual(entry);
      }
    }
  });
});
