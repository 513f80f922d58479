/**
 * The soak: at least 10,000 codes, each raced by at least 8 redemptions
 * spread over every server-backed driver (node-postgres, postgres.js,
 * neon-http, neon-serverless) on one database. Prints the totals and asserts
 * zero double redemptions.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type pg from 'pg';
import { createCodeStore, type CodeStore } from '../../src/index.js';
import { createMigratedDatabase } from '../support/database.js';
import { serverDrivers, type TestDatabase } from '../support/drivers.js';
import { freshHashes, mapLimit, safePool, validEntry } from './fixtures.js';

const CODES = 10_000;
// node-postgres, postgres.js, neon-http and neon-serverless: 8 racers per code.
const RACERS_PER_DRIVER = 2;
const IN_FLIGHT_CODES = 40;

let pool: pg.Pool;
const opened: TestDatabase[] = [];
let stores: { name: string; store: CodeStore }[];

beforeAll(async () => {
  const url = await createMigratedDatabase('fault_soak');
  pool = safePool({ connectionString: url, max: 2 });
  stores = [];
  // Every server-backed driver on the one database.
  for (const driver of serverDrivers) {
    const database = await driver.connect(url, { connections: 10 });
    opened.push(database);
    stores.push({ name: driver.name, store: createCodeStore(database.db) });
  }
});

afterAll(async () => {
  for (const database of opened) await database.close();
  await pool?.end();
});

describe('soak', () => {
  it(`${CODES} codes, each raced by ${RACERS_PER_DRIVER * serverDrivers.length} redemptions over ${serverDrivers.length} drivers: zero double redemptions`, { timeout: 150_000 }, async () => {
    const started = Date.now();
    const codes = await freshHashes(CODES);
    // Put through both drivers alike.
    await mapLimit(codes, 20, (codeHash, i) => stores[i % stores.length]!.store.put(validEntry(codeHash)));
    const putMs = Date.now() - started;

    const racers = stores.flatMap((s) => Array.from({ length: RACERS_PER_DRIVER }, () => s));
    const totals = { redemptions: 0, taken: 0, unknown: 0, reused: 0, errors: 0, doubles: 0, unredeemed: 0 };
    const winsByDriver = new Map<string, number>(stores.map((s) => [s.name, 0]));
    const raceStarted = Date.now();
    await mapLimit(codes, IN_FLIGHT_CODES, async (codeHash, i) => {
      // Rotate the order so neither driver always fires first.
      const order = racers.map((_, k) => racers[(k + i) % racers.length]!);
      const results = await Promise.all(
        order.map(async ({ name, store }) => {
          try {
            return { name, status: (await store.take(codeHash)).status };
          } catch {
            return { name, status: 'error' as const };
          }
        }),
      );
      let won = 0;
      for (const { name, status } of results) {
        totals.redemptions++;
        if (status === 'error') totals.errors++;
        else totals[status]++;
        if (status === 'taken') {
          won++;
          winsByDriver.set(name, winsByDriver.get(name)! + 1);
        }
      }
      if (won > 1) totals.doubles += won - 1;
      if (won === 0) totals.unredeemed++;
    });
    const raceMs = Date.now() - raceStarted;

    const { rows } = await pool.query<{ consumed: number; total: number }>(
      'select count(*) filter (where consumed_at is not null)::int as consumed, count(*)::int as total from attesto_authorization_codes',
    );
    console.log(
      `soak: ${CODES} codes, ${totals.redemptions} redemptions over ${stores.map((s) => s.name).join(' + ')} ` +
        `(${RACERS_PER_DRIVER * stores.length} per code) in ${(raceMs / 1000).toFixed(1)} s (${Math.round(totals.redemptions / (raceMs / 1000))}/s; puts ${(putMs / 1000).toFixed(1)} s): ` +
        `taken ${totals.taken}, unknown ${totals.unknown}, reused ${totals.reused}, errors ${totals.errors}, ` +
        `double redemptions ${totals.doubles}, codes without a winner ${totals.unredeemed}; ` +
        `wins by driver ${[...winsByDriver].map(([n, w]) => `${n} ${w}`).join(', ')}`,
    );
    expect(totals.doubles).toBe(0);
    expect(totals.redemptions).toBe(CODES * RACERS_PER_DRIVER * stores.length);
    expect(totals.taken).toBe(CODES);
    expect(totals.unknown).toBe(totals.redemptions - CODES);
    expect(totals.errors).toBe(0);
    expect(rows[0]).toEqual({ consumed: CODES, total: CODES });
    for (const wins of winsByDriver.values()) expect(wins).toBeGreaterThan(0);
  });
});
