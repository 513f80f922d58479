/**
 * Property-based fuzzing of the store's entry points with hostile input.
 * Every case ends in a value or a typed error (an AttestoError with a stable
 * `code`), never anything else, and the table is unchanged wherever nothing
 * valid was written.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { randomBytes } from 'node:crypto';
import {
  CodeNotTakenError,
  DuplicateCodeError,
  InvalidCodeRecordError,
  createCodeStore,
  fromRecord,
  type CodeEntry,
  type CodeStore,
} from '../../src/index.js';
import { nodePostgres, type TestDatabase } from '../support/drivers.js';
import { validEntry } from '../faults/fixtures.js';
import { describe as show, hostileString, hostileValue, isTypedError, MEGABYTES, mutatedEntry } from './arbitraries.js';

let database: TestDatabase;
let store: CodeStore;

beforeAll(async () => {
  database = await nodePostgres.open({ connections: 4 });
  store = createCodeStore(database.db);
});

afterAll(async () => {
  await database?.close();
});

const newHash = (): string => randomBytes(32).toString('base64url');

/** Every row and column of the table, as one digest. */
async function snapshot(): Promise<string> {
  const [row] = await database.query<{ n: number; digest: string | null }>(
    `select count(*)::int as n, md5(string_agg(t::text, '|' order by code_hash)) as digest from attesto_authorization_codes t`,
  );
  return `${row!.n}:${row!.digest ?? ''}`;
}

/** JSON with sorted keys: jsonb reorders object keys. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_, v: unknown) =>
    v !== null && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );
}

async function outcome<T>(call: () => Promise<T>): Promise<{ ok: true; value: T } | { ok: false; error: unknown }> {
  try {
    return { ok: true, value: await call() };
  } catch (error) {
    return { ok: false, error };
  }
}

describe('fuzzing put', () => {
  it('a mutated entry is stored exactly as the validator accepts it, or rejected with a typed error leaving the table unchanged', { timeout: 120_000 }, async () => {
    let stored = 0;
    let rejected = 0;
    await fc.assert(
      fc.asyncProperty(mutatedEntry(() => validEntry(newHash())), async (candidate) => {
        let accepted = true;
        try {
          fromRecord(candidate as CodeEntry);
        } catch (error) {
          expect(error, show(candidate)).toBeInstanceOf(InvalidCodeRecordError);
          accepted = false;
        }
        const before = await snapshot();
        const result = await outcome(() => store.put(candidate as CodeEntry));
        if (!result.ok) {
          rejected++;
          expect(isTypedError(result.error), `${show(candidate)} threw ${String(result.error)}`).toBe(true);
          // The database agrees with the validator: only a duplicate may fail what it accepts.
          if (accepted) expect(result.error).toBeInstanceOf(DuplicateCodeError);
          else expect(result.error).toBeInstanceOf(InvalidCodeRecordError);
          expect(await snapshot()).toBe(before);
          return;
        }
        stored++;
        expect(accepted, show(candidate)).toBe(true);
        const entry = candidate as CodeEntry;
        const loaded = await store.get(entry.codeHash);
        expect(loaded, show(candidate)).not.toBeNull();
        // Stored as data, returned byte for byte: SQL-looking text is never executed.
        expect(canonical(loaded)).toBe(canonical({ ...entry, data: { ...entry.data, codeChallengeMethod: 'S256' } }));
      }),
      { numRuns: 250 },
    );
    expect(stored).toBeGreaterThan(0);
    expect(rejected).toBeGreaterThan(0);
  });

  it('megabyte values in every field: a typed error and an unchanged table, or (claims, scope) stored intact', { timeout: 60_000 }, async () => {
    const fields = ['clientId', 'subject', 'redirectUri', 'codeChallenge', 'codeChallengeMethod', 'dpopJkt', 'nonce', 'familyId'] as const;
    for (const field of fields) {
      const before = await snapshot();
      const entry = validEntry(newHash(), { [field]: MEGABYTES } as Partial<CodeEntry['data']>);
      const error = await store.put(entry).catch((e: unknown) => e);
      expect(error, field).toBeInstanceOf(InvalidCodeRecordError);
      expect((error as InvalidCodeRecordError).field).toBe(`data.${field}`);
      expect(await snapshot()).toBe(before);
    }
    {
      const before = await snapshot();
      const error = await store.put(validEntry(newHash(), { resource: [MEGABYTES] })).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCodeRecordError);
      expect(await snapshot()).toBe(before);
    }
    const before = await snapshot();
    const hugeHash = await store.put({ ...validEntry(newHash()), codeHash: MEGABYTES }).catch((e: unknown) => e);
    expect(hugeHash).toBeInstanceOf(InvalidCodeRecordError);
    expect(await snapshot()).toBe(before);
    // Claims and scope-tokens carry no size rule of their own (SPEC §2, RFC 6749 §3.3):
    // a megabyte claim or scope-token is stored and read back intact; bounding
    // request sizes is the host's job.
    const codeHash = newHash();
    await store.put(validEntry(codeHash, { claims: { big: MEGABYTES }, scope: [MEGABYTES] }));
    const loaded = await store.get(codeHash);
    expect(loaded?.data.claims).toEqual({ big: MEGABYTES });
    expect(loaded?.data.scope).toEqual([MEGABYTES]);
  });
});

describe('fuzzing take and get', () => {
  it('any presented value: take is unknown, get is null, nothing changes, and malformed input sends no statement', { timeout: 60_000 }, async () => {
    const codeHash = newHash();
    await store.put(validEntry(codeHash));
    const before = await snapshot();
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileValue, hostileString, fc.constant(newHash()), fc.constant(` ${codeHash}`), fc.constant(`${codeHash}\u0000`), fc.constant(codeHash.toUpperCase())), async (presented) => {
        const sent = database.statements.length;
        const wellFormed = typeof presented === 'string' && /^[A-Za-z0-9_-]{43}$/.test(presented);
        const taken = await outcome(() => store.take(presented as string));
        const got = await outcome(() => store.get(presented as string));
        expect(taken, show(presented)).toEqual({ ok: true, value: { status: 'unknown' } });
        expect(got, show(presented)).toEqual({ ok: true, value: null });
        expect(database.statements.length - sent).toBe(wellFormed ? 2 : 0);
      }),
      { numRuns: 300 },
    );
    expect(await snapshot()).toBe(before);
  });
});

describe('fuzzing markConsumed, revokeFamily and isAccessTokenRevoked', () => {
  it('markConsumed with accessToken null or not an object is InvalidCodeRecordError, not a TypeError', async () => {
    const codeHash = newHash();
    await store.put(validEntry(codeHash));
    expect((await store.take(codeHash)).status).toBe('taken');
    for (const accessToken of [null, 'jti', 42, true]) {
      const error = await store.markConsumed(codeHash, { familyId: null, accessToken } as never).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidCodeRecordError);
      expect((error as InvalidCodeRecordError).field).toBe('accessToken');
    }
    const [row] = await database.query<{ consumed_success: boolean }>('select consumed_success from attesto_authorization_codes where code_hash = $1', [codeHash]);
    expect(row!.consumed_success).toBe(false);
  });

  it('hostile hashes and metadata end in a typed error or a harmless value, and change nothing', { timeout: 60_000 }, async () => {
    const codeHash = newHash();
    await store.put(validEntry(codeHash));
    const before = await snapshot();
    const meta = fc.oneof(
      hostileValue,
      fc.record({ familyId: hostileValue }),
      fc.record({ familyId: fc.oneof(fc.constant(null), hostileString), accessToken: fc.oneof(hostileValue, fc.record({ jti: hostileValue, expiresAt: hostileValue })) }),
    );
    await fc.assert(
      fc.asyncProperty(fc.oneof(hostileValue, fc.constant(codeHash), fc.constant(newHash())), meta, async (hash, m) => {
        const marked = await outcome(() => store.markConsumed(hash as string, m as never));
        // The one real code is not taken, so no call can succeed.
        expect(marked.ok, show([hash, m])).toBe(false);
        if (!marked.ok) {
          expect(isTypedError(marked.error), `${show([hash, m])} threw ${String(marked.error)}`).toBe(true);
          expect(marked.error instanceof InvalidCodeRecordError || marked.error instanceof CodeNotTakenError).toBe(true);
        }
        const revoked = await outcome(() => store.revokeFamily(hash as string));
        if (revoked.ok) expect(revoked.value).toBe(0);
        else expect(revoked.error).toBeInstanceOf(InvalidCodeRecordError);
        const live = await outcome(() => store.isAccessTokenRevoked(hash as string));
        if (live.ok) expect(live.value).toBe(false);
        else expect(live.error).toBeInstanceOf(InvalidCodeRecordError);
      }),
      { numRuns: 250 },
    );
    expect(await snapshot()).toBe(before);
  });
});
