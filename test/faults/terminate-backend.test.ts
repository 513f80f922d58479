/**
 * A backend killed with pg_terminate_backend while redemptions race: no code
 * is taken twice, and the killed caller gets a CodeStoreError carrying the
 * driver's error, never a guessed outcome.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { CodeStoreError, createCodeStore, type CodeStore, type TakeResult } from '../../src/index.js';
import { createMigratedDatabase } from '../support/database.js';
import { freshHashes, safePool, validEntry, waitFor } from './fixtures.js';

const RACERS = 8;

let url: string;
let admin: pg.Pool;
let racers: pg.Pool;
let store: CodeStore;

beforeAll(async () => {
  url = await createMigratedDatabase('fault_kill');
  admin = safePool({ connectionString: url, max: 4, application_name: 'fault-admin' });
  racers = safePool({ connectionString: url, max: RACERS, application_name: 'fault-racer' });
  store = createCodeStore(drizzle(racers));
});

afterAll(async () => {
  await racers?.end();
  await admin?.end();
});

type Outcome = TakeResult['status'] | 'error';

async function settle(promise: Promise<TakeResult>): Promise<{ outcome: Outcome; error?: unknown }> {
  try {
    return { outcome: (await promise).status };
  } catch (error) {
    return { outcome: 'error', error };
  }
}

async function consumed(codeHash: string): Promise<boolean> {
  const { rows } = await admin.query<{ consumed: boolean }>(
    'select consumed_at is not null as consumed from attesto_authorization_codes where code_hash = $1',
    [codeHash],
  );
  return rows[0]!.consumed;
}

describe('pg_terminate_backend while redemptions race', () => {
  it('racers killed while waiting on the row lock get CodeStoreError; the survivors yield exactly one taken', { timeout: 30_000 }, async () => {
    const [codeHash] = await freshHashes(1);
    await store.put(validEntry(codeHash!));

    // Hold the row so every racer is parked inside its UPDATE when killed.
    const locker = await admin.connect();
    await locker.query('begin');
    await locker.query('select 1 from attesto_authorization_codes where code_hash = $1 for update', [codeHash]);
    const pending = Array.from({ length: RACERS }, () => settle(store.take(codeHash!)));
    await waitFor(
      async () => {
        const { rows } = await admin.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where application_name = 'fault-racer' and wait_event_type = 'Lock'",
        );
        return rows[0]!.n === RACERS;
      },
      10_000,
      'every racer to wait on the row lock',
    );
    const { rows: killed } = await admin.query<{ pid: number }>(
      "select pid, pg_terminate_backend(pid) from pg_stat_activity where application_name = 'fault-racer' and wait_event_type = 'Lock' order by pid limit $1",
      [RACERS / 2],
    );
    expect(killed).toHaveLength(RACERS / 2);
    // Let the terminations land before the row is released.
    await waitFor(
      async () => {
        const { rows } = await admin.query<{ n: number }>(
          "select count(*)::int as n from pg_stat_activity where application_name = 'fault-racer'",
        );
        return rows[0]!.n === RACERS / 2;
      },
      10_000,
      'the killed backends to exit',
    );
    await locker.query('commit');
    locker.release();

    const results = await Promise.all(pending);
    const errors = results.filter((r) => r.outcome === 'error');
    expect(errors).toHaveLength(RACERS / 2);
    for (const { error } of errors) {
      expect(error).toBeInstanceOf(CodeStoreError);
      expect((error as CodeStoreError).code).toBe('code_store_failure');
      expect((error as CodeStoreError).operation).toBe('take');
      // The driver's own error: 57P01 admin_shutdown, or the lost connection.
      expect((error as CodeStoreError).cause).toBeInstanceOf(Error);
    }
    expect(results.filter((r) => r.outcome === 'taken')).toHaveLength(1);
    expect(results.filter((r) => r.outcome === 'unknown')).toHaveLength(RACERS / 2 - 1);
    expect(await consumed(codeHash!)).toBe(true);
  });

  it('a killer loop terminating random racers never yields a second taken', { timeout: 60_000 }, async () => {
    const codes = await freshHashes(200);
    for (const codeHash of codes) await store.put(validEntry(codeHash));

    let stop = false;
    let terminations = 0;
    const killer = (async () => {
      while (!stop) {
        const { rows } = await admin.query<{ pid: number }>(
          "select pid, pg_terminate_backend(pid) from pg_stat_activity where application_name = 'fault-racer' and state = 'active' order by random() limit 1",
        );
        terminations += rows.length;
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    })();

    const perCode = new Map<string, Awaited<ReturnType<typeof settle>>[]>();
    for (let i = 0; i < codes.length; i += 10) {
      const batch = codes.slice(i, i + 10);
      await Promise.all(
        batch.map(async (codeHash) => {
          perCode.set(codeHash, await Promise.all(Array.from({ length: RACERS }, () => settle(store.take(codeHash)))));
        }),
      );
    }
    stop = true;
    await killer;

    let errors = 0;
    let taken = 0;
    for (const [codeHash, results] of perCode) {
      const winners = results.filter((r) => r.outcome === 'taken').length;
      expect(winners, `code ${codes.indexOf(codeHash)} taken ${winners} times`).toBeLessThanOrEqual(1);
      taken += winners;
      for (const r of results) {
        if (r.outcome !== 'error') continue;
        errors++;
        expect(r.error).toBeInstanceOf(CodeStoreError);
      }
      const spent = await consumed(codeHash);
      // A win is always durable; a code nobody attempted successfully is
      // spent only if a killed caller's UPDATE committed before the kill.
      if (winners === 1) expect(spent).toBe(true);
      if (!spent) {
        expect(winners).toBe(0);
        // Untouched: it can still be redeemed exactly once.
        expect((await store.take(codeHash)).status).toBe('taken');
      }
    }
    expect(terminations).toBeGreaterThan(0);
    expect(errors).toBeGreaterThan(0);
    console.log(`terminate-backend: ${codes.length} codes x ${RACERS} racers, ${terminations} backends killed, ${errors} errors, ${taken} taken, 0 doubles`);
  });
});
