/**
 * Neon's HTTP driver, where every statement is one HTTP request: the endpoint
 * commits the statement and then drops the response (the ambiguous commit, as
 * when a network fails mid-answer). The caller gets an error, never a guessed
 * result; a retry gets `unknown`; never two `taken`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import type pg from 'pg';
import { CodeStoreError, createCodeStore, type CodeStore, type TakeResult } from '../../src/index.js';
import { createMigratedDatabase } from '../support/database.js';
import { startNeonHTTPEndpoint, type NeonHTTPEndpoint, type NeonHTTPRequest } from '../support/neon-http-endpoint.js';
import { freshHashes, safePool, validEntry } from './fixtures.js';

const RACERS = 8;

let endpoint: NeonHTTPEndpoint;
let admin: pg.Pool;
let store: CodeStore;
/** Decides, per committed request, whether its answer is lost. */
let dropWhen: (request: NeonHTTPRequest) => boolean = () => false;
let dropped = 0;

beforeAll(async () => {
  const url = await createMigratedDatabase('fault_neon');
  endpoint = await startNeonHTTPEndpoint({
    connections: 40,
    onAfterCommit: (request) => {
      if (!dropWhen(request)) return 'respond';
      dropped++;
      return 'drop';
    },
  });
  // This file runs in its own process: the global endpoint setting is ours alone.
  neonConfig.fetchEndpoint = endpoint.url;
  store = createCodeStore(drizzle({ client: neon(url) }));
  admin = safePool({ connectionString: url, max: 2 });
});

afterAll(async () => {
  await admin?.end();
  await endpoint?.close();
});

async function consumed(codeHash: string): Promise<{ consumed: boolean; success: boolean }> {
  const { rows } = await admin.query<{ consumed: boolean; success: boolean }>(
    'select consumed_at is not null as consumed, consumed_success as success from attesto_authorization_codes where code_hash = $1',
    [codeHash],
  );
  return rows[0]!;
}

const isTake = (request: NeonHTTPRequest): boolean => request.queries.some((q) => /^with "taken" as \(update/.test(q));

describe('Neon HTTP: the statement commits, the response is lost', () => {
  it('take: the caller gets CodeStoreError, the code is spent, a retry gets unknown', { timeout: 20_000 }, async () => {
    const [codeHash] = await freshHashes(1);
    await store.put(validEntry(codeHash!));
    endpoint.dropResponseOnce();
    const error = await store.take(codeHash!).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodeStoreError);
    expect((error as CodeStoreError).operation).toBe('take');
    expect((error as CodeStoreError).cause).toBeDefined();
    // The commit happened although nobody was told: the code is spent, by no winner.
    expect(await consumed(codeHash!)).toEqual({ consumed: true, success: false });
    const retry = await store.take(codeHash!);
    expect(retry).toEqual({ status: 'unknown' });
  });

  it('markConsumed: the caller gets an error; the retry is harmless and a replay is reuse', { timeout: 20_000 }, async () => {
    const [codeHash] = await freshHashes(1);
    await store.put(validEntry(codeHash!, { familyId: 'family-ambiguous' }));
    expect((await store.take(codeHash!)).status).toBe('taken');
    endpoint.dropResponseOnce();
    const meta = { familyId: 'family-ambiguous', accessToken: { jti: 'jti-ambiguous', expiresAt: Math.floor(Date.now() / 1000) + 600 } };
    const error = await store.markConsumed(codeHash!, meta).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(CodeStoreError);
    expect((error as CodeStoreError).operation).toBe('markConsumed');
    expect(await consumed(codeHash!)).toEqual({ consumed: true, success: true });
    await store.markConsumed(codeHash!, meta);
    expect(await store.take(codeHash!)).toEqual({
      status: 'reused',
      meta: { familyId: 'family-ambiguous', subject: 'user-1', accessTokenJti: 'jti-ambiguous' },
    });
  });

  it(`racing takes with a third of the answers lost: never two taken, and every retry of a spent code is unknown`, { timeout: 60_000 }, async () => {
    const codes = await freshHashes(120);
    for (const codeHash of codes) await store.put(validEntry(codeHash));
    dropped = 0;
    let n = 0;
    dropWhen = (request) => isTake(request) && n++ % 3 === 0;
    const settle = async (p: Promise<TakeResult>) => p.then((r) => r.status, (e: unknown) => e);
    const perCode: (string | unknown)[][] = [];
    try {
      for (let i = 0; i < codes.length; i += 10) {
        perCode.push(
          ...(await Promise.all(codes.slice(i, i + 10).map((codeHash) => Promise.all(Array.from({ length: RACERS }, () => settle(store.take(codeHash))))))),
        );
      }
    } finally {
      dropWhen = () => false;
    }
    let errors = 0;
    let spentWithoutWinner = 0;
    for (let i = 0; i < codes.length; i++) {
      const outcomes = perCode[i]!;
      const winners = outcomes.filter((o) => o === 'taken').length;
      expect(winners, `code ${i}`).toBeLessThanOrEqual(1);
      for (const o of outcomes) {
        if (typeof o === 'string') {
          expect(['taken', 'unknown']).toContain(o);
          continue;
        }
        errors++;
        expect(o).toBeInstanceOf(CodeStoreError);
      }
      const state = await consumed(codes[i]!);
      // Every code was raced, so every code is spent, whether or not its winner heard.
      expect(state.consumed).toBe(true);
      if (winners === 0) spentWithoutWinner++;
      // A retry never wins a spent code.
      expect(await store.take(codes[i]!)).toEqual({ status: 'unknown' });
    }
    expect(dropped).toBeGreaterThan(0);
    expect(errors).toBe(dropped);
    console.log(
      `neon-http ambiguous commit: ${codes.length} codes x ${RACERS} racers, ${dropped} answers dropped after commit, ${spentWithoutWinner} codes spent by a caller who never heard, 0 doubles`,
    );
  });
});
