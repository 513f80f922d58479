/**
 * Pure mapping between the protocol's code record and the table's row.
 * No I/O, no clock, no randomness: deterministic and tested without a
 * database.
 *
 * @see RFC 6749 §4.1.2
 * @module
 */
import { InvalidCodeRecordError } from './errors.js';
import type { CodeInsert, CodeRow } from './schema.js';

/**
 * A JSON value as stored in the `claims` column.
 *
 * @see RFC 8259 §3
 */
export type JSONValue = null | boolean | number | string | JSONValue[] | { [key: string]: JSONValue };

/**
 * A plain object of JSON values.
 *
 * @see RFC 8259 §4
 */
export type JSONObject = { [key: string]: JSONValue };

/**
 * The grant an authorization code stands for.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 7636 §4.3
 */
export interface CodeData {
  clientId: string;
  subject: string;
  /** Compared later by exact string equality (RFC 6749 §4.1.3). */
  redirectUri: string;
  scope: string[];
  /** Resource indicators (RFC 8707). */
  resource: string[];
  /** The S256 code challenge (RFC 7636 §4.2). */
  codeChallenge: string;
  codeChallengeMethod: 'S256';
  /** JWK SHA-256 thumbprint the code is bound to (RFC 9449 §10), or null. */
  dpopJkt: string | null;
  /** OpenID Connect nonce, or null. */
  nonce: string | null;
  /** Groups the code with the tokens issued from it, for revocation. */
  familyId: string | null;
  claims: JSONObject;
}

/**
 * What the protocol layer hands the store: the code's digest, its expiry in
 * unix seconds and the grant.
 *
 * @see RFC 6749 §4.1.2
 */
export interface CodeEntry {
  codeHash: string;
  /** Unix seconds. */
  expiresAt: number;
  data: CodeData;
}

/**
 * What a replay of a successfully redeemed code reveals, so the caller can
 * revoke what the code produced.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 6819 §5.2.1.1
 */
export interface ConsumedMeta {
  familyId: string | null;
  subject: string;
  accessTokenJti: string | null;
}

const BASE64URL_43 = /^[A-Za-z0-9_-]{43}$/;
// scope-token = 1*( %x21 / %x23-5B / %x5D-7E )
const SCOPE_TOKEN = /^[\x21\x23-\x5B\x5D-\x7E]+$/;
const URI_SCHEME = /^[A-Za-z][A-Za-z0-9+.-]*:/;
// Control characters and white space never belong in a URI (RFC 3986 §2).
// eslint-disable-next-line no-control-regex
const URI_FORBIDDEN = /[\x00-\x20\x7F]/;
const LONE_SURROGATE = /\p{Cs}/u;
const MAX_TEXT = 255;
const MAX_URI = 2048;
const MAX_CLAIMS_DEPTH = 32;
/** 9999-12-31T23:59:59Z: the last second both JavaScript dates and PostgreSQL timestamptz hold. */
const MAX_UNIX_SECONDS = 253_402_300_799;

/**
 * Whether the value is a 43-character base64url string: a SHA-256 digest or
 * thumbprint, encoded without padding.
 *
 * @see RFC 7636 §4.2
 */
export function isBase64url43(value: unknown): value is string {
  return typeof value === 'string' && BASE64URL_43.test(value);
}

function fail(field: string, reason: string): never {
  throw new InvalidCodeRecordError(field, reason);
}

/** PostgreSQL text holds neither NUL nor unpaired UTF-16 surrogates; reject rather than let a driver alter them. */
function storableText(value: string): boolean {
  return !value.includes('\u0000') && !LONE_SURROGATE.test(value);
}

function requireText(field: string, value: unknown, max: number): string {
  if (typeof value !== 'string') fail(field, 'must be a string');
  if (value.length === 0) fail(field, 'must not be empty');
  if (value.length > max) fail(field, `must be at most ${max} characters`);
  if (!storableText(value)) fail(field, 'must be well-formed text without NUL');
  return value;
}

function nullableText(field: string, value: unknown, max: number, allowEmpty: boolean): string | null {
  if (value === null) return null;
  if (typeof value === 'string' && value.length === 0 && allowEmpty) return value;
  return requireText(field, value, max);
}

function requireBase64url43(field: string, value: unknown): string {
  if (!isBase64url43(value)) fail(field, 'must be 43 characters of base64url');
  return value;
}

/**
 * Whether the string is an absolute URI without a fragment, at most 2048
 * characters, as redirect URIs and resource indicators must be.
 *
 * @see RFC 3986 §4.3
 * @see RFC 6749 §3.1.2
 * @see RFC 8707 §2
 */
export function isAbsoluteURIWithoutFragment(value: unknown): value is string {
  if (typeof value !== 'string' || value.length === 0 || value.length > MAX_URI) return false;
  if (!URI_SCHEME.test(value) || value.includes('#') || URI_FORBIDDEN.test(value)) return false;
  if (!storableText(value)) return false;
  try {
    new URL(value);
    return true;
  } catch {
    return false;
  }
}

function requireURI(field: string, value: unknown): string {
  if (!isAbsoluteURIWithoutFragment(value))
    fail(field, 'must be an absolute URI without fragment, at most 2048 characters');
  return value;
}

/**
 * Whether the string is a scope-token.
 *
 * @see RFC 6749 §3.3
 */
export function isScopeToken(value: unknown): value is string {
  return typeof value === 'string' && SCOPE_TOKEN.test(value);
}

function requireArray<T>(field: string, value: unknown, check: (item: unknown) => item is T, reason: string): T[] {
  if (!Array.isArray(value)) fail(field, 'must be an array');
  const out: T[] = [];
  for (let i = 0; i < value.length; i++) {
    const item: unknown = value[i];
    if (!check(item)) fail(`${field}[${i}]`, reason);
    out.push(item);
  }
  return out;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const proto: unknown = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function checkJSON(field: string, value: unknown, depth: number): void {
  if (depth > MAX_CLAIMS_DEPTH) fail(field, `must nest at most ${MAX_CLAIMS_DEPTH} levels`);
  if (value === null || typeof value === 'boolean') return;
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) fail(field, 'must hold only finite numbers');
    return;
  }
  if (typeof value === 'string') {
    if (!storableText(value)) fail(field, 'must hold only well-formed text without NUL');
    return;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) checkJSON(field, value[i], depth + 1);
    return;
  }
  if (isPlainObject(value)) {
    for (const key of Object.keys(value)) {
      if (!storableText(key)) fail(field, 'must have well-formed keys without NUL');
      checkJSON(field, value[key], depth + 1);
    }
    return;
  }
  fail(field, 'must hold only JSON values');
}

/**
 * Validates the JSON object of claims: a plain object of JSON values.
 *
 * @see RFC 7519 §4
 */
export function requireClaims(field: string, value: unknown): JSONObject {
  if (!isPlainObject(value)) fail(field, 'must be a plain JSON object');
  checkJSON(field, value, 0);
  return value as JSONObject;
}

/**
 * Validates a unix-seconds timestamp: a positive integer, at most the end of
 * year 9999 (the range PostgreSQL's timestamptz and JavaScript dates share).
 *
 * @see RFC 7519 §2
 */
export function requireUnixSeconds(field: string, value: unknown): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0 || value > MAX_UNIX_SECONDS) {
    fail(field, 'must be unix seconds, a positive integer no later than year 9999');
  }
  return value;
}

/**
 * Validates a family id: null, or 1 to 255 characters.
 *
 * @see RFC 6819 §5.2.2.3
 */
export function requireFamilyId(field: string, value: unknown): string | null {
  return nullableText(field, value, MAX_TEXT, false);
}

/**
 * Validates an access token identifier: 1 to 255 characters of text.
 *
 * @see RFC 7519 §4.1.7
 */
export function requireJti(field: string, value: unknown): string {
  return requireText(field, value, MAX_TEXT);
}

/**
 * Validates a code hash: 43 characters of base64url.
 *
 * @see RFC 6749 §10.3
 */
export function requireCodeHash(value: unknown): string {
  return requireBase64url43('codeHash', value);
}

/**
 * Validates every rule of the record and returns the values to insert. Throws
 * {@link InvalidCodeRecordError} naming the first field that breaks a rule;
 * nothing is ever defaulted, and a method other than `S256` (absent included)
 * is rejected.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 7636 §4.3
 * @see RFC 8707 §2
 * @see RFC 9449 §10
 */
export function fromRecord(entry: CodeEntry): CodeInsert {
  if (!isPlainObject(entry)) fail('entry', 'must be an object');
  const codeHash = requireCodeHash(entry.codeHash);
  const expiresAt = requireUnixSeconds('expiresAt', entry.expiresAt);
  const data: unknown = entry.data;
  if (!isPlainObject(data)) fail('data', 'must be an object');
  const clientId = requireText('data.clientId', data.clientId, MAX_TEXT);
  const subject = requireText('data.subject', data.subject, MAX_TEXT);
  const redirectUri = requireURI('data.redirectUri', data.redirectUri);
  const scope = requireArray('data.scope', data.scope, isScopeToken, 'must be a scope-token (RFC 6749 §3.3)');
  const resource = requireArray(
    'data.resource',
    data.resource,
    isAbsoluteURIWithoutFragment,
    'must be an absolute URI without fragment (RFC 8707)',
  );
  const codeChallenge = requireBase64url43('data.codeChallenge', data.codeChallenge);
  if (data.codeChallengeMethod !== 'S256') fail('data.codeChallengeMethod', "must be 'S256'");
  const dpopJkt = data.dpopJkt === null ? null : requireBase64url43('data.dpopJkt', data.dpopJkt);
  const nonce = nullableText('data.nonce', data.nonce, MAX_TEXT, true);
  const familyId = requireFamilyId('data.familyId', data.familyId);
  const claims = requireClaims('data.claims', data.claims);
  return {
    codeHash,
    clientId,
    subject,
    redirectUri,
    scope,
    resource,
    codeChallenge,
    codeChallengeMethod: 'S256',
    dpopJkt,
    nonce,
    claims,
    familyId,
    expiresAt: new Date(expiresAt * 1000),
  };
}

function toUnixSeconds(date: Date): number {
  return Math.floor(date.getTime() / 1000);
}

/**
 * Folds a loaded row back into the record the protocol layer works with
 * (`expiresAt` in unix seconds).
 *
 * @see RFC 6749 §4.1.2
 */
export function toRecord(row: CodeRow): CodeEntry {
  return {
    codeHash: row.codeHash,
    expiresAt: toUnixSeconds(row.expiresAt),
    data: {
      clientId: row.clientId,
      subject: row.subject,
      redirectUri: row.redirectUri,
      scope: row.scope,
      resource: row.resource,
      codeChallenge: row.codeChallenge,
      codeChallengeMethod: 'S256',
      dpopJkt: row.dpopJkt,
      nonce: row.nonce,
      familyId: row.familyId,
      claims: row.claims as JSONObject,
    },
  };
}

/**
 * What a replay reveals about an already redeemed code.
 *
 * @see RFC 6749 §4.1.2
 */
export function consumedMeta(row: Pick<CodeRow, 'familyId' | 'subject' | 'accessTokenJti'>): ConsumedMeta {
  return { familyId: row.familyId, subject: row.subject, accessTokenJti: row.accessTokenJti };
}
