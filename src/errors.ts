/**
 * Error classes for misuse, invalid records and requests, and infrastructure failures.
 *
 * Expected outcomes of a redemption are values (`TakeResult`), never these.
 * Every error carries a stable string `code` to branch on (messages may
 * change), and none ever contains a plaintext authorization code.
 *
 * @see RFC 6749 §4.1.2
 * @module
 */

/**
 * Base class of every error thrown by this package.
 *
 * @see RFC 6749 §4.1.2
 */
export class AttestoError extends Error {
  /** A stable, machine-readable identifier of the failure. */
  readonly code: string;

  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/**
 * A code record broke a rule of the table (SPEC §2) and was not written.
 * `field` names the first offending field, e.g. `data.redirectUri`; the value
 * itself is never echoed.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 7636 §4.3
 */
export class InvalidCodeRecordError extends AttestoError {
  /** Dotted path of the first field that broke a rule. */
  readonly field: string;

  constructor(field: string, reason: string) {
    super('invalid_code_record', `invalid authorization code record: ${field} ${reason}`);
    this.field = field;
  }
}

/**
 * `put` found the code hash already stored. A caller bug (the random source
 * repeated, or the same entry was put twice); the stored row is untouched.
 *
 * @see RFC 6749 §10.10
 */
export class DuplicateCodeError extends AttestoError {
  constructor() {
    super('duplicate_code', 'an authorization code with this hash is already stored; nothing was overwritten');
  }
}

/**
 * The store was created or called with an unusable configuration (no
 * database, an invalid table, invalid sweep limits). Fails closed: a store
 * without a database can guarantee nothing.
 *
 * @see RFC 6749 §4.1.2
 */
export class CodeStoreConfigError extends AttestoError {
  constructor(message: string) {
    super('code_store_config', message);
  }
}

/**
 * `markConsumed` matched no taken code: marking a code that was never taken
 * (or was swept) is a caller bug and fails closed.
 *
 * @see RFC 6749 §4.1.2
 */
export class CodeNotTakenError extends AttestoError {
  constructor() {
    super('code_not_taken', 'no taken authorization code matches this hash');
  }
}

/**
 * The database failed a statement. The driver's error is the `cause`; the
 * statement's outcome is unknown and is never guessed.
 *
 * @see RFC 6749 §5.2
 */
export class CodeStoreError extends AttestoError {
  /** The store operation that failed, e.g. `take`. */
  readonly operation: string;

  constructor(operation: string, cause: unknown) {
    super('code_store_failure', `authorization code store: ${operation} failed in the database`, { cause });
    this.operation = operation;
  }
}

/**
 * The stable codes of {@link InvalidAuthorizationRequestError}, in the order
 * `issueCode` checks them.
 *
 * @see RFC 6749 §4.1.2.1
 * @see RFC 7636 §4.4.1
 */
export type InvalidAuthorizationRequestCode =
  | 'invalid_client_id'
  | 'invalid_redirect_uri'
  | 'missing_code_challenge'
  | 'unsupported_code_challenge_method'
  | 'invalid_code_challenge'
  | 'invalid_subject'
  | 'invalid_scope'
  | 'invalid_resource'
  | 'invalid_dpop_jkt'
  | 'invalid_family_id'
  | 'invalid_claims';

/**
 * The attributes handed to `issueCode` broke a rule; no code was generated
 * and nothing was stored. `code` names the first rule that failed; the
 * offending value is never echoed.
 *
 * @see RFC 6749 §4.1.2.1
 * @see RFC 7636 §4.4.1
 */
export class InvalidAuthorizationRequestError extends AttestoError {
  declare readonly code: InvalidAuthorizationRequestCode;

  constructor(code: InvalidAuthorizationRequestCode, message: string) {
    super(code, message);
  }
}

/**
 * `issueCode` or `redeemCode` was called with unusable options: a lifetime
 * outside 1 to 600 seconds, or a clock that does not return unix seconds.
 * A caller bug; fails closed rather than fall back to a default.
 *
 * @see RFC 6749 §4.1.2
 */
export class InvalidCodeOptionsError extends AttestoError {
  constructor(message: string) {
    super('invalid_code_options', message);
  }
}
