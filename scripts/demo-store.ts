/**
 * The store's story on a real PostgreSQL: put, get, take, a replay,
 * markConsumed, a replay now `reused`, and a 50-way race with one winner.
 */
import pg from 'pg';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import { createCodeStore, generateCode, hashCode, type CodeEntry, type TakeResult } from '../src/index.js';
import { validEntry } from '../test/support/entries.js';

const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));

function describeResult(result: TakeResult): string {
  switch (result.status) {
    case 'taken':
      return `taken (client ${result.entry.data.clientId}, subject ${result.entry.data.subject})`;
    case 'reused':
      return `reused (family ${result.meta.familyId}, access token ${result.meta.accessTokenJti}) -> revoke what it produced`;
    case 'unknown':
      return 'unknown -> invalid_grant';
  }
}

export async function storeStory(log: (line: string) => void, databaseUrl: string): Promise<void> {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 60 });
  pool.on('error', () => {});
  let statements = 0;
  const db = drizzle(pool, { logger: { logQuery: () => void statements++ } });
  try {
    await migrate(db, { migrationsFolder });
    statements = 0;
    const store = createCodeStore(db);
    const now = Math.floor(Date.now() / 1000);

    const newEntry = async (familyId: string): Promise<{ code: string; entry: CodeEntry }> => {
      const code = generateCode();
      const entry = validEntry(
        await hashCode(code),
        { clientId: 'demo', subject: 'alice', familyId, claims: { auth_time: now } },
        now + 60,
      );
      return { code, entry };
    };

    const step = async <T>(label: string, action: () => Promise<T>, show: (value: T) => string): Promise<T> => {
      const before = statements;
      const value = await action();
      log(`  ${label.padEnd(34)} ${show(value)}  [${statements - before} statement]`);
      return value;
    };

    log('The store (one SQL statement per call):');
    const { code, entry } = await newEntry('family-1');
    log(
      `  a code goes to the browser (43 chars, never logged); the database keeps only its SHA-256 ${entry.codeHash.slice(0, 10)}…`,
    );
    await step(
      'put',
      () => store.put(entry),
      () => 'stored',
    );
    await step(
      'get (no consumption)',
      () => store.get(entry.codeHash),
      (e) => (e ? `found, redirect ${e.data.redirectUri}` : 'not found'),
    );
    await step('take', () => store.take(entry.codeHash), describeResult);
    await step('take again (a replay)', () => store.take(entry.codeHash), describeResult);
    await step(
      'markConsumed (token issued)',
      () =>
        store.markConsumed(entry.codeHash, {
          familyId: 'family-1',
          accessToken: { jti: 'at-1', expiresAt: now + 3600 },
        }),
      () => 'recorded access token at-1',
    );
    await step('take again (a replay)', () => store.take(entry.codeHash), describeResult);
    await step(
      'revokeFamily(family-1)',
      () => store.revokeFamily('family-1'),
      (n) => `${n} access token revoked`,
    );
    await step(
      'isAccessTokenRevoked(at-1)',
      () => store.isAccessTokenRevoked('at-1'),
      (r) => String(r),
    );

    log('');
    log('A race: 50 concurrent redemptions of one code on 50 connections');
    const { entry: raced } = await newEntry('family-2');
    await store.put(raced);
    const results = await Promise.all(Array.from({ length: 50 }, () => store.take(raced.codeHash)));
    const winners = results.filter((r) => r.status === 'taken').length;
    const unknown = results.filter((r) => r.status === 'unknown').length;
    log(`  winners: ${winners}, unknown: ${unknown}`);
    if (winners !== 1) throw new Error(`expected exactly one winner, saw ${winners}`);

    const { rows } = await pool.query<{ n: string }>(
      `select count(*) as n from attesto_authorization_codes t where row_to_json(t)::text like '%' || $1 || '%'`,
      [code],
    );
    log(`  rows holding the plaintext code: ${rows[0]?.n}`);
  } finally {
    await pool.end();
  }
}
