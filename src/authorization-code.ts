/**
 * The protocol layer an authorization server calls: issue a code at the
 * authorization endpoint, redeem and finalize it at the token endpoint.
 *
 * The store guarantees single use; this layer decides what a taken code is
 * good for (expiry, client, redirect URI, PKCE, DPoP binding) and turns every
 * way of failing into a value, never an exception.
 *
 * @see RFC 6749 §4.1
 * @see RFC 7636 §4.6
 * @module
 */
import { InvalidAuthorizationRequestError, InvalidCodeOptionsError, InvalidCodeRecordError } from './errors.js';
import {
  isAbsoluteURIWithoutFragment,
  isBase64url43,
  isScopeToken,
  requireClaims,
  requireFamilyId,
  type ConsumedMeta,
  type JSONObject,
} from './record.js';
import { generateCode, hashCode, sha256Base64url, type RandomSource } from './secret.js';
import type { CodeStore } from './store.js';

/**
 * What the authorization endpoint decided: the grant a new code stands for.
 *
 * @see RFC 6749 §4.1.1
 * @see RFC 7636 §4.3
 */
export interface AuthorizationCodeAttributes {
  clientId: string;
  /** The redirect URI the response goes to; the token request must repeat it exactly. */
  redirectUri: string;
  /** The authenticated resource owner. */
  subject: string;
  /** The S256 code challenge: 43 characters of base64url. */
  codeChallenge: string;
  /** Only `S256` is accepted; `plain` and an absent method are rejected. */
  codeChallengeMethod: string;
  /** Scope-tokens (RFC 6749 §3.3); defaults to none. */
  scope?: readonly string[] | undefined;
  /** Resource indicators (RFC 8707); defaults to none. */
  resource?: readonly string[] | undefined;
  /** The JWK thumbprint to bind the code to (RFC 9449 §10); defaults to null. */
  dpopJkt?: string | null | undefined;
  /** OpenID Connect nonce, at most 255 characters; defaults to null. */
  nonce?: string | null | undefined;
  /** Groups the code with the tokens issued from it, for revocation on replay. */
  familyId?: string | null | undefined;
  /** A plain JSON object carried to the token endpoint; defaults to `{}`. */
  claims?: JSONObject | undefined;
}

/**
 * Options of {@link issueCode}.
 *
 * @see RFC 6749 §4.1.2
 */
export interface IssueCodeOptions {
  /** Lifetime of the code in seconds, 1 to 600; defaults to 60. */
  ttlSeconds?: number | undefined;
  /** The clock, in unix seconds; defaults to the system clock. */
  now?: (() => number) | undefined;
  /** The random source for the code; defaults to `crypto.getRandomValues`. */
  random?: RandomSource | undefined;
}

/**
 * A freshly issued code. `code` is the only copy of the plaintext: send it in
 * the authorization response and nowhere else.
 *
 * @see RFC 6749 §4.1.2
 */
export interface IssuedCode {
  code: string;
  /** Unix seconds. */
  expiresAt: number;
}

/**
 * What the token request presents with the code.
 *
 * @see RFC 6749 §4.1.3
 * @see RFC 7636 §4.5
 */
export interface RedeemCodeParams {
  /** The authenticated client, or the `client_id` of a public client. */
  clientId?: string | null | undefined;
  /** The `redirect_uri` of the token request, compared by exact string equality. */
  redirectUri: string;
  /** The PKCE `code_verifier`. */
  codeVerifier: string;
  /** The thumbprint of the DPoP proof's key, when the request carried a valid proof (RFC 9449 §10). */
  dpopJkt?: string | null | undefined;
}

/**
 * Options of {@link redeemCode}.
 *
 * @see RFC 6749 §4.1.3
 */
export interface RedeemCodeOptions {
  /** The clock, in unix seconds; defaults to the system clock. */
  now?: (() => number) | undefined;
  /**
   * Skip the client check when no client is named. Only for a server that
   * has established the client some other way; a public client must send
   * `client_id` (RFC 6749 §4.1.3).
   */
  allowMissingClientId?: boolean | undefined;
}

/**
 * What a successfully redeemed code grants: everything the token endpoint
 * needs to mint tokens.
 *
 * @see RFC 6749 §4.1.3
 */
export interface AuthorizationGrant {
  clientId: string;
  redirectUri: string;
  subject: string;
  scope: string[];
  resource: string[];
  dpopJkt: string | null;
  familyId: string | null;
  nonce: string | null;
  claims: JSONObject;
}

/**
 * Why a redemption failed. For logs and metrics only: every one of them is
 * `invalid_grant` to the client.
 *
 * @see RFC 6749 §5.2
 */
export type RedeemError =
  | 'invalid_grant'
  | 'expired'
  | 'client_required'
  | 'client_mismatch'
  | 'redirect_uri_mismatch'
  | 'pkce_failed'
  | 'dpop_proof_required'
  | 'dpop_binding_mismatch';

/**
 * A failed redemption. `reuse` means the code had already been redeemed
 * successfully: revoke what was issued from it (`meta.familyId`).
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 6749 §5.2
 */
export type RedeemFailure = { ok: false; error: 'reuse'; meta: ConsumedMeta } | { ok: false; error: RedeemError };

/**
 * The outcome of {@link redeemCode}.
 *
 * @see RFC 6749 §4.1.3
 */
export type RedeemResult = { ok: true; grant: AuthorizationGrant } | RedeemFailure;

/**
 * Options of {@link finalizeCode}.
 *
 * @see RFC 6749 §4.1.2
 */
export interface FinalizeCodeOptions {
  /** The access token minted from the code, recorded so a replay can revoke it. */
  accessToken?: { jti: string; expiresAt: number } | undefined;
}

/**
 * The token endpoint's error body for a failed redemption.
 *
 * @see RFC 6749 §5.2
 */
export interface TokenErrorResponse {
  error: 'invalid_grant';
  error_description?: string;
}

const DEFAULT_TTL_SECONDS = 60;
const MAX_TTL_SECONDS = 600;
// No code this layer issues is longer; a longer string is not worth hashing.
const MAX_PRESENTED_CODE = 512;
// code-verifier = 43*128unreserved
const CODE_VERIFIER = /^[A-Za-z0-9\-._~]{43,128}$/;
const encoder = new TextEncoder();

const GENERIC_INVALID_GRANT =
  'The authorization code is invalid, expired or already used, or does not match the client, redirect URI or code verifier.';

function systemClock(): number {
  return Math.floor(Date.now() / 1000);
}

function readClock(now: (() => number) | undefined): number {
  if (now !== undefined && typeof now !== 'function') {
    throw new InvalidCodeOptionsError('`now` must be a function returning unix seconds');
  }
  const value = (now ?? systemClock)();
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value <= 0) {
    throw new InvalidCodeOptionsError('`now` must return unix seconds, a positive safe integer');
  }
  return value;
}

function reject(code: ConstructorParameters<typeof InvalidAuthorizationRequestError>[0], message: string): never {
  throw new InvalidAuthorizationRequestError(code, message);
}

/** Runs a validator of the record; true when the value passes it. */
function passes(validate: () => unknown): boolean {
  try {
    validate();
    return true;
  } catch (error) {
    if (error instanceof InvalidCodeRecordError) return false;
    throw error;
  }
}

/** Non-empty text of at most 255 characters: the record's rule for client ids, subjects and family ids alike. */
function isBoundedText(value: unknown): value is string {
  return typeof value === 'string' && passes(() => requireFamilyId('text', value));
}

function isList<T>(value: unknown, check: (item: unknown) => item is T): value is readonly T[] {
  return Array.isArray(value) && value.every((item: unknown) => check(item));
}

/**
 * Validates the authorization request's outcome, generates a fresh code and
 * stores its SHA-256 digest with `expiresAt = now + ttl`. One statement.
 *
 * Checks run in a fixed order and the first failure throws
 * {@link InvalidAuthorizationRequestError}: client id, redirect URI, PKCE
 * challenge and method, subject, scope, resource, DPoP thumbprint, family id,
 * claims. A nonce that breaks the record's rule (over 255 characters) is
 * rejected by the record validation as `InvalidCodeRecordError`, also before
 * any I/O.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 7636 §4.4
 * @see RFC 9449 §10
 */
export async function issueCode(
  store: CodeStore,
  attributes: AuthorizationCodeAttributes,
  options: IssueCodeOptions = {},
): Promise<IssuedCode> {
  const ttlSeconds = options.ttlSeconds ?? DEFAULT_TTL_SECONDS;
  if (!Number.isSafeInteger(ttlSeconds) || ttlSeconds < 1 || ttlSeconds > MAX_TTL_SECONDS) {
    throw new InvalidCodeOptionsError(`ttlSeconds must be an integer from 1 to ${MAX_TTL_SECONDS}`);
  }
  if (typeof attributes !== 'object' || attributes === null) {
    throw new InvalidCodeOptionsError('issueCode needs the attributes of the authorization');
  }
  const a = attributes;

  if (!isBoundedText(a.clientId)) reject('invalid_client_id', 'clientId must be 1 to 255 characters');
  if (!isAbsoluteURIWithoutFragment(a.redirectUri)) {
    reject('invalid_redirect_uri', 'redirectUri must be an absolute URI without fragment, at most 2048 characters');
  }
  if (a.codeChallenge === undefined || a.codeChallenge === null || a.codeChallenge === '') {
    reject('missing_code_challenge', 'a PKCE code challenge is required');
  }
  // An absent method means `plain` (RFC 7636 §4.3), which is not accepted.
  if (a.codeChallengeMethod !== 'S256')
    reject('unsupported_code_challenge_method', "codeChallengeMethod must be 'S256'");
  if (!isBase64url43(a.codeChallenge))
    reject('invalid_code_challenge', 'codeChallenge must be 43 characters of base64url');
  if (!isBoundedText(a.subject)) reject('invalid_subject', 'subject must be 1 to 255 characters');
  const scope = a.scope ?? [];
  if (!isList(scope, isScopeToken)) reject('invalid_scope', 'scope must be a list of scope-tokens');
  const resource = a.resource ?? [];
  if (!isList(resource, isAbsoluteURIWithoutFragment)) {
    reject('invalid_resource', 'resource must be a list of absolute URIs without fragment');
  }
  const dpopJkt = a.dpopJkt ?? null;
  if (dpopJkt !== null && !isBase64url43(dpopJkt))
    reject('invalid_dpop_jkt', 'dpopJkt must be a 43-character JWK thumbprint');
  const familyId = a.familyId ?? null;
  if (familyId !== null && !isBoundedText(familyId))
    reject('invalid_family_id', 'familyId must be 1 to 255 characters');
  const claims = a.claims ?? {};
  if (!passes(() => requireClaims('claims', claims)))
    reject('invalid_claims', 'claims must be a plain object of JSON values');

  const now = readClock(options.now);
  const expiresAt = now + ttlSeconds;
  const code = generateCode(options.random === undefined ? {} : { random: options.random });
  await store.put({
    codeHash: await hashCode(code),
    expiresAt,
    data: {
      clientId: a.clientId,
      subject: a.subject,
      redirectUri: a.redirectUri,
      scope: [...scope],
      resource: [...resource],
      codeChallenge: a.codeChallenge,
      codeChallengeMethod: 'S256',
      dpopJkt,
      nonce: a.nonce ?? null,
      familyId,
      claims,
    },
  });
  return { code, expiresAt };
}

/**
 * Redeems a code at the token endpoint. The code is taken FIRST, in one
 * atomic statement, so a code presented once is spent even when the
 * redemption is then rejected: a captured code gives an attacker no repeated
 * attempts at the verifier. Then, in order: expiry, client, exact redirect
 * URI, PKCE S256 in constant time, DPoP binding.
 *
 * Every failure is a value; all of them are `invalid_grant` to the client
 * (see {@link tokenErrorResponse}). On `reuse`, revoke the tokens of
 * `meta.familyId`. Call {@link finalizeCode} once the token response is built.
 *
 * @see RFC 6749 §4.1.3
 * @see RFC 6749 §10.5
 * @see RFC 7636 §4.6
 * @see RFC 9449 §10
 */
export async function redeemCode(
  store: CodeStore,
  code: string,
  params: RedeemCodeParams,
  options: RedeemCodeOptions = {},
): Promise<RedeemResult> {
  if (typeof params !== 'object' || params === null) {
    throw new InvalidCodeOptionsError('redeemCode needs the parameters of the token request');
  }
  // Read the clock before taking, so that a broken clock never spends a code.
  const now = readClock(options.now);
  if (typeof code !== 'string' || code.length === 0 || code.length > MAX_PRESENTED_CODE) {
    return { ok: false, error: 'invalid_grant' };
  }

  const taken = await store.take(await hashCode(code));
  if (taken.status === 'reused') return { ok: false, error: 'reuse', meta: taken.meta };
  if (taken.status !== 'taken') return { ok: false, error: 'invalid_grant' };
  const { expiresAt, data } = taken.entry;

  if (now >= expiresAt) return { ok: false, error: 'expired' };
  const clientId = params.clientId ?? null;
  if (clientId === null) {
    if (options.allowMissingClientId !== true) return { ok: false, error: 'client_required' };
  } else if (clientId !== data.clientId) {
    return { ok: false, error: 'client_mismatch' };
  }
  if (params.redirectUri !== data.redirectUri) return { ok: false, error: 'redirect_uri_mismatch' };
  if (!(await verifyPKCE(params.codeVerifier, data.codeChallenge))) return { ok: false, error: 'pkce_failed' };
  if (data.dpopJkt !== null) {
    const presented = params.dpopJkt ?? null;
    if (presented === null) return { ok: false, error: 'dpop_proof_required' };
    if (presented !== data.dpopJkt) return { ok: false, error: 'dpop_binding_mismatch' };
  }

  return {
    ok: true,
    grant: {
      clientId: data.clientId,
      redirectUri: data.redirectUri,
      subject: data.subject,
      scope: data.scope,
      resource: data.resource,
      dpopJkt: data.dpopJkt,
      familyId: data.familyId,
      nonce: data.nonce,
      claims: data.claims,
    },
  };
}

/**
 * Records that the redemption succeeded, with the grant's family and, when
 * given, the access token minted from it, so a later replay is told apart as
 * `reuse` and can revoke that token. One statement. A caller that never gets
 * here leaves a spent code whose replay is plain `invalid_grant`.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 6749 §10.5
 */
export async function finalizeCode(
  store: CodeStore,
  code: string,
  grant: AuthorizationGrant,
  options: FinalizeCodeOptions = {},
): Promise<void> {
  if (typeof code !== 'string') throw new InvalidCodeRecordError('code', 'must be a string');
  if (typeof grant !== 'object' || grant === null) throw new InvalidCodeRecordError('grant', 'must be an object');
  const accessToken = options.accessToken;
  await store.markConsumed(
    await hashCode(code),
    accessToken === undefined ? { familyId: grant.familyId } : { familyId: grant.familyId, accessToken },
  );
}

/**
 * The S256 code challenge of a verifier: BASE64URL(SHA-256(verifier)).
 *
 * @see RFC 7636 §4.2
 */
export async function computeS256Challenge(verifier: string): Promise<string> {
  if (typeof verifier !== 'string') throw new TypeError('computeS256Challenge expects a string');
  return sha256Base64url(verifier);
}

/**
 * Whether the verifier is a well-formed code verifier (43 to 128 unreserved
 * characters) whose S256 challenge equals `challenge`. The comparison runs in
 * constant time over SHA-256 digests of both sides, so it reveals neither
 * where the strings differ nor the challenge's length.
 *
 * @see RFC 7636 §4.1
 * @see RFC 7636 §4.6
 */
export async function verifyPKCE(verifier: string, challenge: string): Promise<boolean> {
  if (typeof verifier !== 'string' || !CODE_VERIFIER.test(verifier)) return false;
  if (typeof challenge !== 'string') return false;
  const computed = await computeS256Challenge(verifier);
  const [left, right] = await Promise.all([
    crypto.subtle.digest('SHA-256', encoder.encode(computed)),
    crypto.subtle.digest('SHA-256', encoder.encode(challenge)),
  ]);
  const a = new Uint8Array(left);
  const b = new Uint8Array(right);
  // Accumulate every difference; never return early on the first one.
  let difference = 0;
  for (let i = 0; i < a.length; i++) difference |= a[i]! ^ b[i]!;
  return difference === 0;
}

/**
 * The token endpoint's error body for any failed redemption: always
 * `invalid_grant` with a generic description. The specific reason is for
 * logs and metrics, never for the client.
 *
 * @see RFC 6749 §5.2
 * @see RFC 7636 §4.6
 */
export function tokenErrorResponse(result: RedeemFailure): TokenErrorResponse {
  if (typeof result !== 'object' || result === null || result.ok !== false) {
    throw new InvalidCodeOptionsError('tokenErrorResponse maps failed redemptions only');
  }
  return { error: 'invalid_grant', error_description: GENERIC_INVALID_GRANT };
}
