/**
 * The store's contract (SPEC §4), written once as a function of a database
 * factory and run unchanged against every driver.
 */
import { getTableName } from 'drizzle-orm';
import { afterAll, beforeAll, beforeEach, describe, expect, it } from 'vitest';
import {
  CodeNotTakenError,
  CodeStoreConfigError,
  CodeStoreError,
  DuplicateCodeError,
  InvalidCodeRecordError,
  authorizationCodes,
  createCodeStore,
  hashCode,
  type CodeStore,
} from '../../src/index.js';
import type { DriverFactory, TestDatabase } from '../support/drivers.js';
import { makeEntry, nowSeconds } from '../support/entries.js';

const TABLE = getTableName(authorizationCodes);

export function defineContractSuite(driver: DriverFactory): void {
  describe(`code store contract over ${driver.name}`, () => {
    let t: TestDatabase;
    let store: CodeStore;

    beforeAll(async () => {
      t = await driver.open();
      store = createCodeStore(t.db);
    });
    afterAll(async () => {
      await t?.close();
    });
    beforeEach(() => {
      t.statements.length = 0;
    });

    const rowCount = async (): Promise<number> =>
      Number((await t.query<{ n: string | number }>(`select count(*) as n from ${TABLE}`))[0]!.n);

    it('createCodeStore fails closed without a database or with a foreign table', () => {
      expect(() => createCodeStore(undefined as never)).toThrow(CodeStoreConfigError);
      expect(() => createCodeStore(null as never)).toThrow(CodeStoreConfigError);
      expect(() => createCodeStore({} as never)).toThrow(CodeStoreConfigError);
      expect(() => createCodeStore(t.db, { table: {} as never })).toThrow(CodeStoreConfigError);
      expect(t.statements).toHaveLength(0);
    });

    it('put then get returns the entry unchanged, in one statement each', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      expect(t.statements).toHaveLength(1);
      t.statements.length = 0;
      expect(await store.get(entry.codeHash)).toEqual(entry);
      expect(t.statements).toHaveLength(1);
    });

    it('take wins exactly once and returns the entry; the second take is unknown', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      t.statements.length = 0;
      expect(await store.take(entry.codeHash)).toEqual({ status: 'taken', entry });
      expect(await store.take(entry.codeHash)).toEqual({ status: 'unknown' });
      expect(t.statements).toHaveLength(2);
    });

    it('every take path is one statement: hit, reused, unknown, never issued', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      t.statements.length = 0;
      await store.take(entry.codeHash);
      expect(t.statements).toHaveLength(1);
      await store.take(entry.codeHash);
      expect(t.statements).toHaveLength(2);
      await store.markConsumed(entry.codeHash, { familyId: entry.data.familyId });
      expect(t.statements).toHaveLength(3);
      expect((await store.take(entry.codeHash)).status).toBe('reused');
      expect(t.statements).toHaveLength(4);
      const { entry: never } = await makeEntry();
      expect(await store.take(never.codeHash)).toEqual({ status: 'unknown' });
      expect(t.statements).toHaveLength(5);
      expect(t.statements.every((s) => !/^\s*(begin|commit|rollback)/i.test(s))).toBe(true);
    });

    it('a malformed hash is unknown (take) or null (get) without a query', async () => {
      for (const bad of ['', 'short', 'x'.repeat(44), `${'a'.repeat(42)}=`, `${'a'.repeat(42)}'`]) {
        expect(await store.take(bad)).toEqual({ status: 'unknown' });
        expect(await store.get(bad)).toBeNull();
      }
      expect(t.statements).toHaveLength(0);
    });

    it('get never consumes: the code is still taken after many gets', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      for (let i = 0; i < 5; i++) expect(await store.get(entry.codeHash)).toEqual(entry);
      expect((await store.take(entry.codeHash)).status).toBe('taken');
      expect(await store.get(entry.codeHash)).toBeNull();
    });

    it('an expired but present code is still taken once (expiry is the protocol layer’s check)', async () => {
      const { entry } = await makeEntry({ expiresAt: nowSeconds() - 3600 });
      await store.put(entry);
      expect(await store.get(entry.codeHash)).toEqual(entry);
      expect(await store.take(entry.codeHash)).toEqual({ status: 'taken', entry });
      expect(await store.take(entry.codeHash)).toEqual({ status: 'unknown' });
    });

    it('after markConsumed a replay is reused with the family, subject and access token id', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      await store.take(entry.codeHash);
      t.statements.length = 0;
      await store.markConsumed(entry.codeHash, {
        familyId: entry.data.familyId,
        accessToken: { jti: 'at-1', expiresAt: nowSeconds() + 600 },
      });
      expect(t.statements).toHaveLength(1);
      expect(await store.take(entry.codeHash)).toEqual({
        status: 'reused',
        meta: { familyId: entry.data.familyId, subject: entry.data.subject, accessTokenJti: 'at-1' },
      });
    });

    it('markConsumed without an access token still turns replays into reused', async () => {
      const { entry } = await makeEntry({ data: { familyId: null } });
      await store.put(entry);
      await store.take(entry.codeHash);
      await store.markConsumed(entry.codeHash, { familyId: 'fam-late' });
      expect(await store.take(entry.codeHash)).toEqual({
        status: 'reused',
        meta: { familyId: 'fam-late', subject: entry.data.subject, accessTokenJti: null },
      });
    });

    it('markConsumed on a code never taken rejects with CodeNotTakenError and changes nothing', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      const attempt = store.markConsumed(entry.codeHash, { familyId: 'f' });
      await expect(attempt).rejects.toBeInstanceOf(CodeNotTakenError);
      await expect(attempt).rejects.toMatchObject({ code: 'code_not_taken' });
      expect(await store.get(entry.codeHash)).toEqual(entry);
      const { entry: absent } = await makeEntry();
      await expect(store.markConsumed(absent.codeHash, { familyId: null })).rejects.toBeInstanceOf(CodeNotTakenError);
    });

    it('markConsumed rejects invalid metadata before any statement', async () => {
      const { entry } = await makeEntry();
      t.statements.length = 0;
      await expect(store.markConsumed('nope', { familyId: null })).rejects.toBeInstanceOf(InvalidCodeRecordError);
      await expect(
        store.markConsumed(entry.codeHash, { familyId: null, accessToken: { jti: '', expiresAt: 1 } }),
      ).rejects.toMatchObject({ field: 'accessToken.jti' });
      await expect(
        store.markConsumed(entry.codeHash, { familyId: null, accessToken: { jti: 'j', expiresAt: 1.5 } }),
      ).rejects.toMatchObject({ field: 'accessToken.expiresAt' });
      await expect(store.markConsumed(entry.codeHash, { familyId: '' })).rejects.toMatchObject({ field: 'familyId' });
      expect(t.statements).toHaveLength(0);
    });

    it('put of a duplicate hash rejects with DuplicateCodeError and never overwrites', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      const other = { ...entry, data: { ...entry.data, subject: 'attacker', redirectUri: 'https://evil.example/' } };
      const attempt = store.put(other);
      await expect(attempt).rejects.toBeInstanceOf(DuplicateCodeError);
      await expect(attempt).rejects.toMatchObject({ code: 'duplicate_code' });
      expect(await store.get(entry.codeHash)).toEqual(entry);
    });

    it('put of a duplicate hash of an already taken code does not revive it', async () => {
      const { entry } = await makeEntry();
      await store.put(entry);
      await store.take(entry.codeHash);
      await expect(store.put(entry)).rejects.toBeInstanceOf(DuplicateCodeError);
      expect(await store.take(entry.codeHash)).toEqual({ status: 'unknown' });
    });

    it('put validates fail-closed and writes nothing on a violation', async () => {
      const before = await rowCount();
      const { entry } = await makeEntry();
      const bad = [
        { ...entry, codeHash: 'x' },
        { ...entry, expiresAt: 0 },
        { ...entry, data: { ...entry.data, codeChallengeMethod: 'plain' } },
        { ...entry, data: { ...entry.data, codeChallengeMethod: undefined } },
        { ...entry, data: { ...entry.data, redirectUri: 'https://a.example/cb#frag' } },
        { ...entry, data: { ...entry.data, scope: ['ok', 'not ok'] } },
        { ...entry, data: { ...entry.data, claims: { f: () => 1 } } },
      ];
      t.statements.length = 0;
      for (const b of bad) {
        await expect(store.put(b as never)).rejects.toBeInstanceOf(InvalidCodeRecordError);
      }
      expect(t.statements).toHaveLength(0);
      expect(await rowCount()).toBe(before);
    });

    it('the database rejects a non-S256 method even when written around the store', async () => {
      const { entry } = await makeEntry();
      await expect(
        t.query(
          `insert into ${TABLE} (code_hash, client_id, subject, redirect_uri, scope, resource, code_challenge, code_challenge_method, claims, expires_at)
           values ($1, 'c', 's', 'https://a.example/', '{}', '{}', $2, 'plain', '{}', now())`,
          [entry.codeHash, entry.data.codeChallenge],
        ),
      ).rejects.toThrow();
    });

    it('revokeFamily revokes the recorded access tokens of that family only; isAccessTokenRevoked follows', async () => {
      const family = `fam-${Math.random().toString(36).slice(2)}`;
      const jtis: string[] = [];
      for (let i = 0; i < 3; i++) {
        const { entry } = await makeEntry({ data: { familyId: family } });
        await store.put(entry);
        await store.take(entry.codeHash);
        const jti = `${family}-at-${i}`;
        jtis.push(jti);
        await store.markConsumed(entry.codeHash, {
          familyId: family,
          accessToken: { jti, expiresAt: nowSeconds() + 600 },
        });
      }
      const { entry: other } = await makeEntry({ data: { familyId: `${family}-other` } });
      await store.put(other);
      await store.take(other.codeHash);
      await store.markConsumed(other.codeHash, {
        familyId: `${family}-other`,
        accessToken: { jti: `${family}-other-at`, expiresAt: nowSeconds() + 600 },
      });
      for (const jti of jtis) expect(await store.isAccessTokenRevoked(jti)).toBe(false);

      t.statements.length = 0;
      expect(await store.revokeFamily(family)).toBe(3);
      expect(t.statements).toHaveLength(1);
      for (const jti of jtis) expect(await store.isAccessTokenRevoked(jti)).toBe(true);
      expect(t.statements).toHaveLength(1 + jtis.length);
      expect(await store.isAccessTokenRevoked(`${family}-other-at`)).toBe(false);
      expect(await store.isAccessTokenRevoked('never-recorded')).toBe(false);
      // Already revoked tokens are not counted again.
      expect(await store.revokeFamily(family)).toBe(0);
      expect(await store.revokeFamily('no-such-family')).toBe(0);
    });

    it('an expired revoked access token is no longer reported revoked', async () => {
      const family = `fam-exp-${Math.random().toString(36).slice(2)}`;
      const { entry } = await makeEntry({ data: { familyId: family } });
      await store.put(entry);
      await store.take(entry.codeHash);
      await store.markConsumed(entry.codeHash, {
        familyId: family,
        accessToken: { jti: `${family}-at`, expiresAt: nowSeconds() - 5 },
      });
      expect(await store.revokeFamily(family)).toBe(1);
      expect(await store.isAccessTokenRevoked(`${family}-at`)).toBe(false);
    });

    it('sweep deletes expired codes past retention, keeps the rest and evidence of live tokens, never more than limit', async () => {
      // Isolate from other tests' rows: everything here expired long ago.
      const old = nowSeconds() - 10 * 86_400;
      const expired: string[] = [];
      for (let i = 0; i < 5; i++) {
        const { entry } = await makeEntry({ expiresAt: old - i });
        await store.put(entry);
        expired.push(entry.codeHash);
      }
      const { entry: recent } = await makeEntry({ expiresAt: nowSeconds() - 30 });
      await store.put(recent);
      const { entry: live } = await makeEntry();
      await store.put(live);
      // A long-expired code whose access token is live and revoked: the evidence must stay.
      const family = `fam-sweep-${Math.random().toString(36).slice(2)}`;
      const { entry: evidence } = await makeEntry({ expiresAt: old, data: { familyId: family } });
      await store.put(evidence);
      await store.take(evidence.codeHash);
      await store.markConsumed(evidence.codeHash, {
        familyId: family,
        accessToken: { jti: `${family}-at`, expiresAt: nowSeconds() + 3600 },
      });
      await store.revokeFamily(family);
      // A long-expired code whose token has expired too: deletable.
      const { entry: spent } = await makeEntry({ expiresAt: old });
      await store.put(spent);
      await store.take(spent.codeHash);
      await store.markConsumed(spent.codeHash, {
        familyId: null,
        accessToken: { jti: `${family}-old`, expiresAt: nowSeconds() - 60 },
      });

      const remaining = async (hash: string): Promise<boolean> =>
        (await t.query(`select 1 from ${TABLE} where code_hash = $1`, [hash])).length === 1;

      t.statements.length = 0;
      const first = await store.sweep({ retentionSeconds: 3600, limit: 2 });
      expect(t.statements).toHaveLength(1);
      expect(first).toBe(2);
      let total = first;
      for (;;) {
        const n = await store.sweep({ retentionSeconds: 3600, limit: 2 });
        expect(n).toBeLessThanOrEqual(2);
        if (n === 0) break;
        total += n;
      }
      expect(total).toBeGreaterThanOrEqual(6);
      for (const hash of [...expired, spent.codeHash]) expect(await remaining(hash)).toBe(false);
      expect(await remaining(recent.codeHash)).toBe(true);
      expect(await remaining(live.codeHash)).toBe(true);
      expect(await remaining(evidence.codeHash)).toBe(true);
      expect(await store.isAccessTokenRevoked(`${family}-at`)).toBe(true);
      // Retention 0 reaches the recently expired code too, and still keeps the evidence.
      expect(await store.sweep({ retentionSeconds: 0, limit: 100 })).toBeGreaterThanOrEqual(1);
      expect(await remaining(recent.codeHash)).toBe(false);
      expect(await remaining(evidence.codeHash)).toBe(true);
      expect(await remaining(live.codeHash)).toBe(true);
    });

    it('sweep rejects invalid limits before any statement', async () => {
      for (const options of [
        { retentionSeconds: -1, limit: 1 },
        { retentionSeconds: 0, limit: 0 },
        { retentionSeconds: 0, limit: 1.5 },
        { retentionSeconds: Number.NaN, limit: 1 },
      ]) {
        await expect(store.sweep(options)).rejects.toBeInstanceOf(CodeStoreConfigError);
      }
      expect(t.statements).toHaveLength(0);
    });

    it('the plaintext code never reaches the database: no column of any row holds it', async () => {
      const { code, entry } = await makeEntry();
      expect(entry.codeHash).toBe(await hashCode(code));
      await store.put(entry);
      await store.get(entry.codeHash);
      await store.take(entry.codeHash);
      await store.markConsumed(entry.codeHash, {
        familyId: entry.data.familyId,
        accessToken: { jti: 'at-x', expiresAt: nowSeconds() + 60 },
      });
      await store.take(entry.codeHash);
      const rows = await t.query<Record<string, unknown>>(`select * from ${TABLE}`);
      expect(rows.length).toBeGreaterThan(0);
      const dump = JSON.stringify(rows);
      expect(dump).toContain(entry.codeHash);
      expect(dump).not.toContain(code);
      expect(t.statements.join('\n')).not.toContain(code);
    });

    it('database failures surface as CodeStoreError with the driver error as cause', async () => {
      const { entry } = await makeEntry();
      const broken = createCodeStore(t.db, {
        table: (await import('../../src/index.js')).authorizationCodesTable({ name: 'attesto_no_such_table' }),
      });
      const attempt = broken.take(entry.codeHash);
      await expect(attempt).rejects.toBeInstanceOf(CodeStoreError);
      const error = (await attempt.catch((e: unknown) => e)) as CodeStoreError;
      expect(error.code).toBe('code_store_failure');
      expect(error.operation).toBe('take');
      expect(error.cause).toBeDefined();
    });
  });
}
