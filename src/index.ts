/**
 * attesto-drizzle: single-use OAuth 2.0 authorization codes in PostgreSQL
 * through Drizzle ORM.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 7636
 * @module
 */
export {
  AttestoError,
  CodeNotTakenError,
  CodeStoreConfigError,
  CodeStoreError,
  DuplicateCodeError,
  InvalidAuthorizationRequestError,
  InvalidCodeOptionsError,
  InvalidCodeRecordError,
  type InvalidAuthorizationRequestCode,
} from './errors.js';
export { base64url, generateCode, hashCode, type GenerateCodeOptions, type RandomSource } from './secret.js';
export {
  authorizationCodes,
  authorizationCodesTable,
  DEFAULT_TABLE_NAME,
  type AuthorizationCodesTable,
  type AuthorizationCodesTableOptions,
  type CodeInsert,
  type CodeRow,
} from './schema.js';
export {
  consumedMeta,
  fromRecord,
  toRecord,
  type CodeData,
  type CodeEntry,
  type ConsumedMeta,
  type JSONObject,
  type JSONValue,
} from './record.js';
export {
  createCodeStore,
  type CodeStore,
  type CodeStoreDatabase,
  type CodeStoreOptions,
  type MarkConsumedMeta,
  type SweepOptions,
  type TakeResult,
} from './store.js';
export {
  computeS256Challenge,
  finalizeCode,
  issueCode,
  redeemCode,
  tokenErrorResponse,
  verifyPKCE,
  type AuthorizationCodeAttributes,
  type AuthorizationGrant,
  type FinalizeCodeOptions,
  type IssueCodeOptions,
  type IssuedCode,
  type RedeemCodeOptions,
  type RedeemCodeParams,
  type RedeemError,
  type RedeemFailure,
  type RedeemResult,
  type TokenErrorResponse,
} from './authorization-code.js';
