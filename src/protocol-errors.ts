/**
 * Errors of the protocol layer: an authorization request the code cannot be
 * issued for, and unusable issue or redeem options.
 *
 * @see RFC 6749 §4.1.2.1
 * @module
 */
import { AttestoError } from './errors.js';

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
