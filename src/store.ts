/**
 * The thin I/O layer: every method is exactly one SQL statement, one round
 * trip, and none needs an interactive transaction, so the store runs over
 * Neon's HTTP driver as over every other Drizzle Postgres driver.
 *
 * @see RFC 6749 §4.1.2
 * @module
 */
import { and, eq, getTableColumns, isNotNull, isNull, lt, or, sql } from 'drizzle-orm';
import type { PgDatabase, PgQueryResultHKT } from 'drizzle-orm/pg-core';
import {
  CodeNotTakenError,
  CodeStoreConfigError,
  CodeStoreError,
  DuplicateCodeError,
  InvalidCodeRecordError,
} from './errors.js';
import {
  consumedMeta,
  fromRecord,
  isBase64url43,
  requireCodeHash,
  requireFamilyId,
  requireJti,
  requireUnixSeconds,
  toRecord,
  type CodeEntry,
  type ConsumedMeta,
} from './record.js';
import { authorizationCodes, type AuthorizationCodesTable } from './schema.js';

/**
 * Any Drizzle PostgreSQL database: node-postgres, postgres.js, neon-http,
 * neon-serverless, PGlite, and the rest.
 *
 * @see RFC 6749 §4.1.2
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type CodeStoreDatabase = PgDatabase<PgQueryResultHKT, any, any>;

/**
 * Options of {@link createCodeStore}.
 *
 * @see RFC 6749 §4.1.2
 */
export interface CodeStoreOptions {
  /** The table, from `authorizationCodesTable`; defaults to `authorizationCodes`. */
  table?: AuthorizationCodesTable;
}

/**
 * The outcome of {@link CodeStore.take}.
 *
 * @see RFC 6749 §4.1.2
 */
export type TakeResult =
  { status: 'taken'; entry: CodeEntry } | { status: 'reused'; meta: ConsumedMeta } | { status: 'unknown' };

/**
 * What {@link CodeStore.markConsumed} records about a successful redemption.
 *
 * @see RFC 6749 §4.1.2
 */
export interface MarkConsumedMeta {
  familyId: string | null;
  /** The access token minted from the code, for revocation on replay. */
  accessToken?: { jti: string; expiresAt: number };
}

/**
 * Options of {@link CodeStore.sweep}.
 *
 * @see RFC 6749 §4.1.2
 */
export interface SweepOptions {
  /** How long after expiry a code is kept (to tell a replay from an unknown code). */
  retentionSeconds: number;
  /** At most this many rows are deleted by one call. */
  limit: number;
}

/**
 * The authorization-code store.
 *
 * @see RFC 6749 §4.1.2
 */
export interface CodeStore {
  /** Inserts a new code; rejects with `DuplicateCodeError` rather than overwrite. */
  put(entry: CodeEntry): Promise<void>;
  /** Reads an unconsumed code without consuming it (RFC 9449 §10 pre-checks). */
  get(codeHash: string): Promise<CodeEntry | null>;
  /** Atomically redeems a code: of any number of racing callers exactly one gets `taken`. */
  take(codeHash: string): Promise<TakeResult>;
  /** Records that a taken code was redeemed successfully, and what it produced. */
  markConsumed(codeHash: string, meta: MarkConsumedMeta): Promise<void>;
  /** Revokes the access tokens recorded for a family; resolves to how many. */
  revokeFamily(familyId: string): Promise<number>;
  /** Whether a recorded access token was revoked and has not yet expired. */
  isAccessTokenRevoked(jti: string): Promise<boolean>;
  /** Deletes expired codes past retention whose recorded token has expired. */
  sweep(options: SweepOptions): Promise<number>;
}

const MAX_SWEEP_LIMIT = 100_000;

function isDrizzlePgDatabase(db: unknown): db is CodeStoreDatabase {
  return (
    typeof db === 'object' &&
    db !== null &&
    typeof (db as { select?: unknown }).select === 'function' &&
    typeof (db as { update?: unknown }).update === 'function' &&
    typeof (db as { $with?: unknown }).$with === 'function'
  );
}

async function run<T>(operation: string, statement: () => PromiseLike<T>): Promise<T> {
  // Building the query runs inside the try too: nothing a driver throws escapes untyped.
  try {
    return await statement();
  } catch (error) {
    throw new CodeStoreError(operation, error);
  }
}

/**
 * Drizzle gives a prepared query no name exactly when it runs a query built
 * on the spot; so a prepared query without a name is the very query Drizzle
 * would send, with the same per-driver statement policy (node-postgres sends
 * an unnamed statement, postgres.js keeps `prepare: false`, so it works
 * behind transaction-mode PgBouncer), only built once instead of per call.
 */
const UNNAMED = undefined as unknown as string;

/**
 * The hot statements of one table on one database, each built once on first
 * use: building a query (and rendering its SQL) costs about as much client
 * CPU as a loopback round trip, which halves throughput when the client and
 * PostgreSQL share a few cores. Every statement is still exactly one SQL
 * statement; only the query builder's work is cached, never a result.
 */
function buildStatements(db: CodeStoreDatabase, table: AuthorizationCodesTable) {
  const columns = getTableColumns(table);
  const codeHash = sql.placeholder('codeHash');
  const once = <T>(make: () => T): (() => T) => {
    let made: T | undefined;
    return () => (made ??= make());
  };
  return {
    put: once(() =>
      db
        .insert(table)
        .values({
          codeHash,
          clientId: sql.placeholder('clientId'),
          subject: sql.placeholder('subject'),
          redirectUri: sql.placeholder('redirectUri'),
          scope: sql.placeholder('scope'),
          resource: sql.placeholder('resource'),
          codeChallenge: sql.placeholder('codeChallenge'),
          codeChallengeMethod: sql.placeholder('codeChallengeMethod'),
          dpopJkt: sql.placeholder('dpopJkt'),
          nonce: sql.placeholder('nonce'),
          claims: sql.placeholder('claims'),
          familyId: sql.placeholder('familyId'),
          expiresAt: sql.placeholder('expiresAt'),
        })
        // ON CONFLICT DO NOTHING never overwrites; an empty RETURNING tells a
        // duplicate apart in the same statement on every driver alike.
        .onConflictDoNothing({ target: table.codeHash })
        .returning({ codeHash: table.codeHash })
        .prepare(UNNAMED),
    ),
    get: once(() =>
      db
        .select()
        .from(table)
        .where(and(eq(table.codeHash, codeHash), isNull(table.consumedAt)))
        .limit(1)
        .prepare(UNNAMED),
    ),
    take: once(() => {
      // The conditional UPDATE is the only thing that can grant `taken`: under
      // concurrency PostgreSQL lets exactly one UPDATE see consumed_at IS NULL.
      // The outer SELECT reads the statement's snapshot (the row as it was
      // before any racing winner committed), so a miss is classified only by
      // `won` and consumed_success, in the same round trip.
      const taken = db.$with('taken').as(
        db
          .update(table)
          .set({ consumedAt: sql`now()` })
          .where(and(eq(table.codeHash, codeHash), isNull(table.consumedAt)))
          .returning({ codeHash: table.codeHash }),
      );
      return db
        .with(taken)
        .select({ ...columns, won: sql<number>`(select count(*) from ${taken})`.mapWith(Number) })
        .from(table)
        .where(eq(table.codeHash, codeHash))
        .prepare(UNNAMED);
    }),
    markConsumed: once(() => markConsumedStatement(db, table, false)),
    markConsumedWithToken: once(() => markConsumedStatement(db, table, true)),
    revokeFamily: once(() =>
      db
        .update(table)
        .set({ accessTokenRevokedAt: sql`now()` })
        .where(
          and(
            eq(table.familyId, sql.placeholder('familyId')),
            isNotNull(table.accessTokenJti),
            isNull(table.accessTokenRevokedAt),
          ),
        )
        .returning({ codeHash: table.codeHash })
        .prepare(UNNAMED),
    ),
    isAccessTokenRevoked: once(() =>
      db
        .select({ one: sql<number>`1` })
        .from(table)
        .where(
          and(
            eq(table.accessTokenJti, sql.placeholder('jti')),
            isNotNull(table.accessTokenRevokedAt),
            sql`${table.accessTokenExpiresAt} > now()`,
          ),
        )
        .limit(1)
        .prepare(UNNAMED),
    ),
  };
}

function markConsumedStatement(db: CodeStoreDatabase, table: AuthorizationCodesTable, withToken: boolean) {
  return db
    .update(table)
    .set({
      consumedSuccess: true,
      // Never erase a family the code was issued with.
      familyId: sql`coalesce(cast(${sql.placeholder('familyId')} as text), ${table.familyId})`,
      ...(withToken
        ? {
            // `set` takes no bare placeholders; the expiry is bound as Drizzle's
            // timestamp column would bind it, an ISO string.
            accessTokenJti: sql`cast(${sql.placeholder('accessTokenJti')} as text)`,
            accessTokenExpiresAt: sql`cast(${sql.placeholder('accessTokenExpiresAt')} as timestamptz)`,
          }
        : {}),
    })
    .where(and(eq(table.codeHash, sql.placeholder('codeHash')), isNotNull(table.consumedAt)))
    .returning({ codeHash: table.codeHash })
    .prepare(UNNAMED);
}

type Statements = ReturnType<typeof buildStatements>;

// Per database handle and table; a handle that is dropped takes its cache along.
const statementCache = new WeakMap<object, WeakMap<object, Statements>>();

function statementsFor(db: CodeStoreDatabase, table: AuthorizationCodesTable): Statements {
  let byTable = statementCache.get(db);
  if (byTable === undefined) {
    byTable = new WeakMap();
    statementCache.set(db, byTable);
  }
  let statements = byTable.get(table);
  if (statements === undefined) {
    statements = buildStatements(db, table);
    byTable.set(table, statements);
  }
  return statements;
}

/**
 * Creates the store over a Drizzle PostgreSQL database. Does no I/O; make one
 * per request with that request's `db`. A missing `db` throws
 * {@link CodeStoreConfigError}: a store that cannot reach a database would
 * guarantee nothing.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 6749 §10.5
 */
export function createCodeStore(db: CodeStoreDatabase, options: CodeStoreOptions = {}): CodeStore {
  if (!isDrizzlePgDatabase(db)) {
    throw new CodeStoreConfigError('createCodeStore needs a Drizzle PostgreSQL database; got none');
  }
  const table = options.table ?? authorizationCodes;
  if (typeof table !== 'object' || table === null || !('codeHash' in table) || !('consumedAt' in table)) {
    throw new CodeStoreConfigError('createCodeStore: `table` must come from authorizationCodesTable()');
  }
  const statements = statementsFor(db, table);

  return {
    async put(entry) {
      const values = fromRecord(entry);
      const rows = await run('put', () => statements.put().execute(values));
      if (rows.length === 0) throw new DuplicateCodeError();
    },

    async get(codeHash) {
      if (!isBase64url43(codeHash)) return null;
      const rows = await run('get', () => statements.get().execute({ codeHash }));
      const row = rows[0];
      return row === undefined ? null : toRecord(row);
    },

    async take(codeHash) {
      if (!isBase64url43(codeHash)) return { status: 'unknown' };
      const rows = await run('take', () => statements.take().execute({ codeHash }));
      const row = rows[0];
      if (row === undefined) return { status: 'unknown' };
      if (row.won === 1) return { status: 'taken', entry: toRecord(row) };
      if (row.consumedSuccess) return { status: 'reused', meta: consumedMeta(row) };
      return { status: 'unknown' };
    },

    async markConsumed(codeHash, meta) {
      requireCodeHash(codeHash);
      if (typeof meta !== 'object' || meta === null) throw new InvalidCodeRecordError('meta', 'must be an object');
      const familyId = requireFamilyId('familyId', meta.familyId);
      let accessToken: { jti: string; expiresAt: Date } | null = null;
      if (meta.accessToken !== undefined) {
        if (typeof meta.accessToken !== 'object' || meta.accessToken === null) {
          throw new InvalidCodeRecordError('accessToken', 'must be an object of jti and expiresAt');
        }
        const { jti, expiresAt } = meta.accessToken;
        accessToken = {
          jti: requireJti('accessToken.jti', jti),
          expiresAt: new Date(requireUnixSeconds('accessToken.expiresAt', expiresAt) * 1000),
        };
      }
      const rows = await run('markConsumed', () =>
        accessToken
          ? statements.markConsumedWithToken().execute({
              codeHash,
              familyId,
              accessTokenJti: accessToken.jti,
              accessTokenExpiresAt: accessToken.expiresAt.toISOString(),
            })
          : statements.markConsumed().execute({ codeHash, familyId }),
      );
      if (rows.length === 0) throw new CodeNotTakenError();
    },

    async revokeFamily(familyId) {
      const family = requireFamilyId('familyId', familyId);
      if (family === null) throw new InvalidCodeRecordError('familyId', 'must not be null');
      const rows = await run('revokeFamily', () => statements.revokeFamily().execute({ familyId: family }));
      return rows.length;
    },

    async isAccessTokenRevoked(jti) {
      const valid = requireJti('jti', jti);
      const rows = await run('isAccessTokenRevoked', () => statements.isAccessTokenRevoked().execute({ jti: valid }));
      return rows.length > 0;
    },

    async sweep(sweepOptions) {
      const { retentionSeconds, limit } = sweepOptions ?? ({} as Partial<SweepOptions>);
      if (typeof retentionSeconds !== 'number' || !Number.isSafeInteger(retentionSeconds) || retentionSeconds < 0) {
        throw new CodeStoreConfigError('sweep: retentionSeconds must be a non-negative integer');
      }
      if (typeof limit !== 'number' || !Number.isSafeInteger(limit) || limit < 1 || limit > MAX_SWEEP_LIMIT) {
        throw new CodeStoreConfigError(`sweep: limit must be an integer from 1 to ${MAX_SWEEP_LIMIT}`);
      }
      // SKIP LOCKED lets sweepers on every node run at once without waiting
      // on each other or on a redemption in flight.
      const victims = db
        .select({ codeHash: table.codeHash })
        .from(table)
        .where(
          and(
            lt(table.expiresAt, sql`now() - make_interval(secs => ${retentionSeconds})`),
            // A row that proves a live (possibly revoked) token is evidence: keep it.
            or(isNull(table.accessTokenExpiresAt), lt(table.accessTokenExpiresAt, sql`now()`)),
          ),
        )
        .orderBy(table.expiresAt)
        .limit(limit)
        .for('update', { skipLocked: true });
      const deleted = db.$with('deleted').as(
        db
          .delete(table)
          .where(sql`${table.codeHash} in ${victims}`)
          .returning({ codeHash: table.codeHash }),
      );
      const rows = await run('sweep', () =>
        db
          .with(deleted)
          .select({ count: sql<number>`count(*)`.mapWith(Number) })
          .from(deleted),
      );
      return rows[0]?.count ?? 0;
    },
  };
}
