/**
 * Racing redemptions (SPEC §4 `take`): of any number of concurrent takes of
 * one code, exactly one wins; after markConsumed every replay is `reused`.
 * Written once as a function of a database factory.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eq, inArray } from 'drizzle-orm';
import { authorizationCodes, createCodeStore, type CodeEntry, type TakeResult } from '../../src/index.js';
import type { DriverFactory, TestDatabase } from '../support/drivers.js';
import { makeEntry, nowSeconds } from '../support/entries.js';

export interface RaceOptions {
  codes?: number;
  racersPerCode?: number;
}

export function defineRaceSuite(driver: DriverFactory, options: RaceOptions = {}): void {
  const codes = options.codes ?? 200;
  const racers = options.racersPerCode ?? 25;

  describe(`racing redemptions over ${driver.name}`, () => {
    let t: TestDatabase;
    beforeAll(async () => {
      // At least one server connection per racer of a code.
      t = await driver.open({ connections: racers + 5 });
    });
    afterAll(async () => {
      await t?.close();
    });

    it(`${codes} codes × ${racers} racing takes: exactly one taken per code, the rest unknown; replays after markConsumed are reused`, async () => {
      const store = createCodeStore(t.db);
      const entries: CodeEntry[] = [];
      for (let i = 0; i < codes; i++) entries.push((await makeEntry()).entry);
      await Promise.all(entries.map((entry) => store.put(entry)));

      // All racers of all codes start together; each take is its own statement,
      // spread by the pool over separate connections.
      const results = await Promise.all(
        entries.map((entry) => Promise.all(Array.from({ length: racers }, () => store.take(entry.codeHash)))),
      );
      let doubles = 0;
      for (const [i, perCode] of results.entries()) {
        const taken = perCode.filter((r): r is Extract<TakeResult, { status: 'taken' }> => r.status === 'taken');
        if (taken.length !== 1) doubles++;
        expect(taken, `code #${i}`).toHaveLength(1);
        expect(taken[0]!.entry).toEqual(entries[i]);
        expect(perCode.filter((r) => r.status === 'unknown')).toHaveLength(racers - 1);
      }
      expect(doubles).toBe(0);

      await Promise.all(
        entries.map((entry, i) =>
          store.markConsumed(entry.codeHash, {
            familyId: entry.data.familyId,
            accessToken: { jti: `race-${i}-${entry.codeHash.slice(0, 6)}`, expiresAt: nowSeconds() + 600 },
          }),
        ),
      );
      const replays = await Promise.all(
        entries.map((entry) => Promise.all(Array.from({ length: 5 }, () => store.take(entry.codeHash)))),
      );
      for (const [i, perCode] of replays.entries()) {
        const entry = entries[i]!;
        for (const replay of perCode) {
          expect(replay).toEqual({
            status: 'reused',
            meta: {
              familyId: entry.data.familyId,
              subject: entry.data.subject,
              accessTokenJti: `race-${i}-${entry.codeHash.slice(0, 6)}`,
            },
          });
        }
      }
    });

    it('racing takes mixed with markConsumed never yield two winners nor a reused before the mark', async () => {
      const store = createCodeStore(t.db);
      for (let round = 0; round < 20; round++) {
        const { entry } = await makeEntry();
        await store.put(entry);
        const first = await store.take(entry.codeHash);
        expect(first.status).toBe('taken');
        const [marked, ...others] = await Promise.all([
          store.markConsumed(entry.codeHash, { familyId: entry.data.familyId }).then(() => 'marked' as const),
          ...Array.from({ length: 10 }, () => store.take(entry.codeHash)),
        ]);
        expect(marked).toBe('marked');
        for (const other of others as TakeResult[]) expect(['reused', 'unknown']).toContain(other.status);
        expect((await store.take(entry.codeHash)).status).toBe('reused');
      }
    });

    it('the harness can see a double redemption: a read-then-write take (the control) is caught', async () => {
      // Without this control, "zero doubles" could come from racers that never overlap.
      const store = createCodeStore(t.db);
      const table = authorizationCodes;
      const readThenWrite = async (codeHash: string): Promise<boolean> => {
        const [row] = await t.db
          .select({ consumedAt: table.consumedAt })
          .from(table)
          .where(eq(table.codeHash, codeHash));
        if (!row || row.consumedAt !== null) return false;
        await t.db.update(table).set({ consumedAt: new Date() }).where(eq(table.codeHash, codeHash));
        return true;
      };
      const entries: CodeEntry[] = [];
      for (let i = 0; i < 50; i++) entries.push((await makeEntry()).entry);
      await Promise.all(entries.map((entry) => store.put(entry)));
      const wins = await Promise.all(
        entries.map(
          async (entry) =>
            (await Promise.all(Array.from({ length: racers }, () => readThenWrite(entry.codeHash)))).filter(Boolean)
              .length,
        ),
      );
      const doubles = wins.filter((n) => n > 1).length;
      expect(doubles).toBeGreaterThan(0);
      // The same codes, reset, raced through the store: never a double.
      await t.db
        .update(table)
        .set({ consumedAt: null })
        .where(
          inArray(
            table.codeHash,
            entries.map((e) => e.codeHash),
          ),
        );
      const storeWins = await Promise.all(
        entries.map(
          async (entry) =>
            (await Promise.all(Array.from({ length: racers }, () => store.take(entry.codeHash)))).filter(
              (r) => r.status === 'taken',
            ).length,
        ),
      );
      expect(storeWins.every((n) => n === 1)).toBe(true);
    });
  });
}
