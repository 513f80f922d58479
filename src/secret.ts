/**
 * The authorization code's secret and its digest, with Web Crypto only.
 *
 * @see RFC 6749 §4.1.2
 * @see RFC 6749 §10.10
 * @module
 */

/**
 * Fills a byte array with cryptographically strong random values.
 *
 * @see RFC 6749 §10.10
 */
export type RandomSource = (bytes: Uint8Array) => Uint8Array;

/**
 * Options of {@link generateCode}.
 *
 * @see RFC 6749 §10.10
 */
export interface GenerateCodeOptions {
  /** The random source; defaults to `crypto.getRandomValues`. */
  random?: RandomSource;
}

const CODE_BYTES = 32;
const ALPHABET = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const encoder = new TextEncoder();

/**
 * Encodes bytes as base64url without padding.
 *
 * @see RFC 4648 §5
 */
export function base64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]! + ALPHABET[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += ALPHABET[n >>> 18]! + ALPHABET[(n >>> 12) & 63]! + ALPHABET[(n >>> 6) & 63]!;
  }
  return out;
}

/**
 * Generates a fresh authorization code: 32 random bytes (256 bits), base64url
 * without padding, 43 characters.
 *
 * @see RFC 6749 §10.10
 * @see RFC 6749 §4.1.2
 */
export function generateCode(options: GenerateCodeOptions = {}): string {
  const bytes = new Uint8Array(CODE_BYTES);
  const random = options.random ?? ((target: Uint8Array) => crypto.getRandomValues(target));
  random(bytes);
  return base64url(bytes);
}

/**
 * The SHA-256 digest of the UTF-8 code, base64url without padding (43
 * characters): the primary key under which the code is stored. The plaintext
 * code itself is never written anywhere.
 *
 * @see RFC 6749 §10.3
 * @see RFC 6749 §4.1.2
 */
export async function hashCode(code: string): Promise<string> {
  if (typeof code !== 'string') throw new TypeError('hashCode expects a string');
  return sha256Base64url(code);
}

/**
 * SHA-256 of the UTF-8 string, base64url without padding.
 *
 * @see RFC 7636 §4.2
 */
export async function sha256Base64url(value: string): Promise<string> {
  const digest = await crypto.subtle.digest('SHA-256', encoder.encode(value));
  return base64url(new Uint8Array(digest));
}
