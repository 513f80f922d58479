/**
 * The Drizzle table that holds authorization codes, one row per code, keyed
 * by the code's SHA-256 digest.
 *
 * @see RFC 6749 §4.1.2
 * @module
 */
import { sql } from 'drizzle-orm';
import { boolean, check, index, jsonb, pgSchema, pgTable, text, timestamp, type PgSchema } from 'drizzle-orm/pg-core';

/**
 * The default table name.
 *
 * @see RFC 6749 §4.1.2
 */
export const DEFAULT_TABLE_NAME = 'attesto_authorization_codes';

/**
 * Options of {@link authorizationCodesTable}.
 *
 * @see RFC 6749 §4.1.2
 */
export interface AuthorizationCodesTableOptions {
  /** Table name; defaults to `attesto_authorization_codes`. */
  name?: string;
  /** A PostgreSQL schema, by name or as a Drizzle `pgSchema`. */
  schema?: string | PgSchema;
}

const timestamptz = (name: string) => timestamp(name, { withTimezone: true, mode: 'date' });

// A fresh set of column builders per table, so that tables never share state.
const columns = () => ({
  codeHash: text('code_hash').primaryKey(),
  clientId: text('client_id').notNull(),
  subject: text('subject').notNull(),
  redirectUri: text('redirect_uri').notNull(),
  scope: text('scope').array().notNull(),
  resource: text('resource').array().notNull(),
  codeChallenge: text('code_challenge').notNull(),
  codeChallengeMethod: text('code_challenge_method').notNull(),
  dpopJkt: text('dpop_jkt'),
  nonce: text('nonce'),
  claims: jsonb('claims').$type<Record<string, unknown>>().notNull(),
  familyId: text('family_id'),
  expiresAt: timestamptz('expires_at').notNull(),
  insertedAt: timestamptz('inserted_at').notNull().defaultNow(),
  consumedAt: timestamptz('consumed_at'),
  consumedSuccess: boolean('consumed_success').notNull().default(false),
  accessTokenJti: text('access_token_jti'),
  accessTokenExpiresAt: timestamptz('access_token_expires_at'),
  accessTokenRevokedAt: timestamptz('access_token_revoked_at'),
});

function define(name: string, schema: PgSchema | undefined) {
  // One table type for every name and schema: the store reads columns, not names.
  const table = (schema === undefined ? pgTable : schema.table.bind(schema)) as typeof pgTable;
  return table(name, columns(), (t) => [
    index(`${name}_family_id_idx`).on(t.familyId),
    index(`${name}_access_token_jti_idx`).on(t.accessTokenJti),
    index(`${name}_expires_at_idx`).on(t.expiresAt),
    // Only S256 is accepted (RFC 7636 §4.2); enforced by the database too.
    check(`${name}_code_challenge_method_check`, sql`${t.codeChallengeMethod} = 'S256'`),
  ]);
}

/**
 * The type of every table built by {@link authorizationCodesTable}.
 *
 * @see RFC 6749 §4.1.2
 */
export type AuthorizationCodesTable = ReturnType<typeof define>;

/**
 * Builds the authorization-code table under the host's chosen name or
 * PostgreSQL schema. Index and constraint names derive from the table name.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 7636 §4.3
 */
export function authorizationCodesTable(options: AuthorizationCodesTableOptions = {}): AuthorizationCodesTable {
  const name = options.name ?? DEFAULT_TABLE_NAME;
  const schema = typeof options.schema === 'string' ? pgSchema(options.schema) : options.schema;
  return define(name, schema);
}

/**
 * The default table, `attesto_authorization_codes` in the default schema,
 * ready for a drizzle-kit `schema` entry.
 *
 * @see RFC 6749 §4.1.2
 */
export const authorizationCodes: AuthorizationCodesTable = authorizationCodesTable();

/**
 * A row as loaded from the table.
 *
 * @see RFC 6749 §4.1.2
 */
export type CodeRow = AuthorizationCodesTable['$inferSelect'];

/**
 * The values `put` inserts for a new code.
 *
 * @see RFC 6749 §4.1.2
 */
export type CodeInsert = AuthorizationCodesTable['$inferInsert'];
