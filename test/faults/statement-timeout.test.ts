/**
 * Lock contention and statement_timeout: a timed-out `take` (or
 * `markConsumed`) is an error, and the code is either spent or untouched,
 * never half.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { CodeStoreError, createCodeStore, type CodeStore, type TakeResult } from '../../src/index.js';
import { createMigratedDatabase } from '../support/database.js';
import { freshHashes, safePool, sqlState, validEntry } from './fixtures.js';

const TIMEOUT_MS = 150;

let admin: pg.Pool;
let impatient: pg.Pool;
let store: CodeStore;
let patientStore: CodeStore;
const open = new Set<pg.PoolClient>();

beforeAll(async () => {
  const url = await createMigratedDatabase('fault_timeout');
  admin = safePool({ connectionString: url, max: 12 });
  impatient = safePool({ connectionString: url, max: 12, statement_timeout: TIMEOUT_MS });
  store = createCodeStore(drizzle(impatient));
  patientStore = createCodeStore(drizzle(admin));
});

afterAll(async () => {
  for (const client of open) client.release(true);
  await impatient?.end();
  await admin?.end();
});

interface RowState {
  consumed: boolean;
  consumed_success: boolean;
  access_token_jti: string | null;
  family_id: string | null;
}

async function rowState(codeHash: string): Promise<RowState> {
  const { rows } = await admin.query<RowState>(
    'select consumed_at is not null as consumed, consumed_success, access_token_jti, family_id from attesto_authorization_codes where code_hash = $1',
    [codeHash],
  );
  return rows[0]!;
}

/** Holds the row lock in an open transaction until `release` is called. */
async function lockRow(codeHash: string, statement = 'select 1 from attesto_authorization_codes where code_hash = $1 for update') {
  const client = await admin.connect();
  open.add(client);
  await client.query('begin');
  await client.query(statement, [codeHash]);
  return async (how: 'commit' | 'rollback' = 'commit') => {
    open.delete(client);
    await client.query(how);
    client.release();
  };
}

function expectTimeout(error: unknown, operation: string): void {
  expect(error).toBeInstanceOf(CodeStoreError);
  expect((error as CodeStoreError).operation).toBe(operation);
  // 57014: query_canceled (statement timeout).
  expect(sqlState(error)).toBe('57014');
}

async function settle(promise: Promise<TakeResult>): Promise<TakeResult | { status: 'error'; error: unknown }> {
  try {
    return await promise;
  } catch (error) {
    return { status: 'error', error };
  }
}

describe('lock contention and statement_timeout', () => {
  it('a take timed out behind a row lock is an error and leaves the code untouched', { timeout: 20_000 }, async () => {
    const [codeHash] = await freshHashes(1);
    await store.put(validEntry(codeHash!));
    const release = await lockRow(codeHash!);
    const error = await store.take(codeHash!).catch((e: unknown) => e);
    expectTimeout(error, 'take');
    await release();
    expect(await rowState(codeHash!)).toEqual({ consumed: false, consumed_success: false, access_token_jti: null, family_id: null });
    expect((await store.take(codeHash!)).status).toBe('taken');
  });

  it('a take timed out behind a competing redemption that commits finds the code spent', { timeout: 20_000 }, async () => {
    const [codeHash] = await freshHashes(1);
    await store.put(validEntry(codeHash!));
    const release = await lockRow(codeHash!, 'update attesto_authorization_codes set consumed_at = now() where code_hash = $1');
    expectTimeout(await store.take(codeHash!).catch((e: unknown) => e), 'take');
    await release('commit');
    expect((await rowState(codeHash!)).consumed).toBe(true);
    expect((await store.take(codeHash!)).status).toBe('unknown');
  });

  it('a markConsumed timed out writes none of its columns; retried, it writes all of them', { timeout: 20_000 }, async () => {
    const [codeHash] = await freshHashes(1);
    await store.put(validEntry(codeHash!));
    expect((await store.take(codeHash!)).status).toBe('taken');
    const release = await lockRow(codeHash!);
    const meta = { familyId: 'family-1', accessToken: { jti: 'jti-1', expiresAt: Math.floor(Date.now() / 1000) + 600 } };
    expectTimeout(await store.markConsumed(codeHash!, meta).catch((e: unknown) => e), 'markConsumed');
    await release();
    expect(await rowState(codeHash!)).toEqual({ consumed: true, consumed_success: false, access_token_jti: null, family_id: null });
    await store.markConsumed(codeHash!, meta);
    expect(await rowState(codeHash!)).toEqual({ consumed: true, consumed_success: true, access_token_jti: 'jti-1', family_id: 'family-1' });
  });

  it('racers timing out around a lock released at random times: at most one taken, every code spent or untouched', { timeout: 60_000 }, async () => {
    const codes = await freshHashes(60);
    for (const codeHash of codes) await store.put(validEntry(codeHash));
    let timeouts = 0;
    let winners = 0;
    await Promise.all(
      codes.map(async (codeHash, i) => {
        // Stagger so the server is never flooded; hold between 0 and 2x the timeout.
        await new Promise((resolve) => setTimeout(resolve, (i % 10) * 40));
        const release = await lockRow(codeHash);
        const racing = Array.from({ length: 3 }, () => settle(store.take(codeHash)));
        await new Promise((resolve) => setTimeout(resolve, Math.floor(Math.random() * 2 * TIMEOUT_MS)));
        await release(i % 4 === 0 ? 'rollback' : 'commit');
        const results = await Promise.all(racing);
        const won = results.filter((r) => r.status === 'taken').length;
        expect(won).toBeLessThanOrEqual(1);
        winners += won;
        for (const r of results) {
          if (r.status !== 'error') continue;
          timeouts++;
          expectTimeout(r.error, 'take');
        }
        const state = await rowState(codeHash);
        expect(state.consumed_success).toBe(false);
        expect(state.access_token_jti).toBeNull();
        if (won === 1) expect(state.consumed).toBe(true);
        if (!state.consumed) {
          // Untouched: exactly one later redemption still wins.
          const retries = await Promise.all(Array.from({ length: 3 }, () => patientStore.take(codeHash)));
          expect(retries.filter((r) => r.status === 'taken')).toHaveLength(1);
        } else {
          expect((await patientStore.take(codeHash)).status).toBe('unknown');
        }
      }),
    );
    expect(timeouts).toBeGreaterThan(0);
    console.log(`statement-timeout: ${codes.length} codes, ${timeouts} timed-out takes, ${winners} won during contention`);
  });
});
