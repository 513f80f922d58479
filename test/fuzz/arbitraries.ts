/**
 * Hostile input for the fuzz suites: malformed and oversized values, unicode
 * and control characters, SQL-looking strings, wrong types, missing fields.
 */
import fc from 'fast-check';
import { AttestoError, type CodeEntry } from '../../src/index.js';

/** Strings an attacker would try first. */
export const SQL_LOOKING = [
  "'; drop table attesto_authorization_codes; --",
  "' or '1'='1",
  '" or 1=1 --',
  "x') returning *; --",
  '$1',
  '$$; select pg_sleep(10); $$',
  '\\x00',
  '%00',
  '%27%20or%201%3D1',
  '${7*7}',
  '{{constructor.constructor("return process")()}}',
  '__proto__',
  'constructor',
  '<script>alert(1)</script>',
  '../../../../etc/passwd',
  'null',
  'undefined',
  'NaN',
  '',
  ' ',
];

/** Unicode and control characters PostgreSQL or a driver might choke on. */
export const AWKWARD_TEXT = [
  '\u0000',
  'a\u0000b',
  '\ud800',
  'x\udfffy',
  '\u202egnp.exe',
  '\ufeff',
  '\r\n\t\v\f\b',
  '\u0007\u001b[31m',
  'é'.normalize('NFD'),
  '𝕬𝖙𝖙𝖊𝖘𝖙𝖔',
  '👩‍👩‍👧‍👦',
  '\u{10ffff}',
  '\u2028\u2029',
];

/** One megabyte and a bit: oversized for every field. */
export const MEGABYTES = 'A'.repeat(1_100_000);

export const hostileString: fc.Arbitrary<string> = fc.oneof(
  { weight: 3, arbitrary: fc.constantFrom(...SQL_LOOKING, ...AWKWARD_TEXT) },
  { weight: 3, arbitrary: fc.string({ unit: 'binary', maxLength: 80 }) },
  { weight: 2, arbitrary: fc.string({ unit: 'grapheme', maxLength: 300 }) },
  { weight: 1, arbitrary: fc.string({ unit: fc.constantFrom('a', '-', '_', '=', '+', '/', '.'), minLength: 40, maxLength: 46 }) },
  { weight: 1, arbitrary: fc.constant(MEGABYTES) },
);

/** Anything at all: wrong types included. */
export const hostileValue: fc.Arbitrary<unknown> = fc.oneof(
  { weight: 3, arbitrary: hostileString },
  { weight: 2, arbitrary: fc.anything({ maxDepth: 2 }) },
  {
    weight: 1,
    arbitrary: fc.constantFrom<unknown>(
      undefined,
      null,
      NaN,
      Infinity,
      -1,
      0,
      2 ** 53,
      1.5,
      true,
      [],
      {},
      new Date(),
      () => 'x',
      Symbol('x'),
      10n,
      new Map(),
      Object.create(null),
      [MEGABYTES],
      { toString: () => "'; drop table x; --" },
    ),
  },
);

const DATA_FIELDS = [
  'clientId',
  'subject',
  'redirectUri',
  'scope',
  'resource',
  'codeChallenge',
  'codeChallengeMethod',
  'dpopJkt',
  'nonce',
  'familyId',
  'claims',
] as const;

type Mutation =
  | { kind: 'delete'; path: string }
  | { kind: 'set'; path: string; value: unknown }
  | { kind: 'element'; path: 'scope' | 'resource'; value: unknown }
  | { kind: 'claim'; value: unknown };

const path = fc.constantFrom('entry', 'codeHash', 'expiresAt', 'data', ...DATA_FIELDS.map((f) => `data.${f}`));

const mutation: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({ kind: fc.constant('delete' as const), path }),
  fc.record({ kind: fc.constant('set' as const), path, value: hostileValue }),
  fc.record({ kind: fc.constant('element' as const), path: fc.constantFrom('scope' as const, 'resource' as const), value: hostileValue }),
  fc.record({ kind: fc.constant('claim' as const), value: fc.oneof(hostileValue, fc.jsonValue({ maxDepth: 3 })) }),
);

/** Applies one mutation in place (the entry is a fresh copy); returns what the store is to see. */
function apply(entry: CodeEntry, m: Mutation): unknown {
  const copy = entry as unknown as Record<string, unknown> & { data: Record<string, unknown> };
  switch (m.kind) {
    case 'delete':
      if (m.path === 'entry') return undefined;
      if (m.path.startsWith('data.')) delete copy.data[m.path.slice(5)];
      else delete copy[m.path];
      return copy;
    case 'set':
      if (m.path === 'entry') return m.value;
      if (m.path.startsWith('data.')) copy.data[m.path.slice(5)] = m.value;
      else copy[m.path] = m.value;
      return copy;
    case 'element':
      if (!Array.isArray(copy.data[m.path])) return copy;
      (copy.data[m.path] as unknown[]).push(m.value);
      return copy;
    case 'claim': {
      const claims = copy.data.claims;
      if (typeof claims !== 'object' || claims === null) return copy;
      (claims as Record<string, unknown>)['hostile'] = m.value;
      return copy;
    }
  }
}

/** A valid entry with one to three hostile mutations, as the store would see it. */
export function mutatedEntry(valid: () => CodeEntry): fc.Arbitrary<unknown> {
  return fc.array(mutation, { minLength: 1, maxLength: 3 }).map((mutations) => {
    let value: unknown = valid();
    for (const m of mutations) {
      if (typeof value !== 'object' || value === null || !('data' in value)) break;
      if (typeof (value as { data: unknown }).data !== 'object' || (value as { data: unknown }).data === null) break;
      value = apply(value as CodeEntry, m);
    }
    return value;
  });
}

/** Whether the error is one of the package's own, with a stable string code. */
export function isTypedError(error: unknown): error is AttestoError {
  return error instanceof AttestoError && typeof error.code === 'string' && error.code.length > 0;
}

/** A short, printable description of a value for failure messages (never megabytes). */
export function describe(value: unknown): string {
  try {
    const text = typeof value === 'string' ? JSON.stringify(value) : JSON.stringify(value, (_, v: unknown) => (typeof v === 'bigint' ? `${v}n` : v));
    return (text ?? String(value)).slice(0, 200);
  } catch {
    return Object.prototype.toString.call(value);
  }
}
