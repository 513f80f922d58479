/**
 * The pure mapping (SPEC §3): every rule of SPEC §2 accepted and rejected,
 * and properties over generated entries. No database, no clock.
 */
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  InvalidCodeRecordError,
  consumedMeta,
  fromRecord,
  toRecord,
  type CodeEntry,
  type CodeInsert,
  type CodeRow,
} from '../../src/index.js';

const HASH = 'rozK2ehnYrIGTgWufaGETvlsYviiFl8Qn7e84zPe5oU';
const CHALLENGE = 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM';
const FROZEN_NOW = new Date('2026-01-01T00:00:00Z');

function valid(): CodeEntry {
  return {
    codeHash: HASH,
    expiresAt: 1_767_225_660,
    data: {
      clientId: 'client-1',
      subject: 'user-42',
      redirectUri: 'https://client.example/cb?state=ignored',
      scope: ['openid', 'profile'],
      resource: ['https://api.example/v1'],
      codeChallenge: CHALLENGE,
      codeChallengeMethod: 'S256',
      dpopJkt: null,
      nonce: null,
      familyId: null,
      claims: {},
    },
  };
}

/** What the database hands back for an inserted row, before it is taken. */
function rowOf(insert: CodeInsert): CodeRow {
  return {
    ...insert,
    scope: insert.scope,
    resource: insert.resource,
    dpopJkt: insert.dpopJkt ?? null,
    nonce: insert.nonce ?? null,
    familyId: insert.familyId ?? null,
    insertedAt: FROZEN_NOW,
    consumedAt: null,
    consumedSuccess: false,
    accessTokenJti: null,
    accessTokenExpiresAt: null,
    accessTokenRevokedAt: null,
  };
}

type Patch = (entry: Record<string, unknown> & { data: Record<string, unknown> }) => void;

function rejects(patch: Patch, field: string): void {
  const entry = structuredClone(valid()) as unknown as Record<string, unknown> & { data: Record<string, unknown> };
  patch(entry);
  let error: unknown;
  try {
    fromRecord(entry as unknown as CodeEntry);
  } catch (e) {
    error = e;
  }
  expect(error, `expected ${field} to be rejected`).toBeInstanceOf(InvalidCodeRecordError);
  expect((error as InvalidCodeRecordError).field).toBe(field);
  expect((error as InvalidCodeRecordError).code).toBe('invalid_code_record');
}

function accepts(patch: Patch): void {
  const entry = structuredClone(valid()) as unknown as Record<string, unknown> & { data: Record<string, unknown> };
  patch(entry);
  expect(() => fromRecord(entry as unknown as CodeEntry)).not.toThrow();
}

describe('fromRecord: every rule of the record', () => {
  it('accepts the valid entry and spreads it over the columns', () => {
    const values = fromRecord(valid());
    expect(values).toEqual({
      codeHash: HASH,
      clientId: 'client-1',
      subject: 'user-42',
      redirectUri: 'https://client.example/cb?state=ignored',
      scope: ['openid', 'profile'],
      resource: ['https://api.example/v1'],
      codeChallenge: CHALLENGE,
      codeChallengeMethod: 'S256',
      dpopJkt: null,
      nonce: null,
      claims: {},
      familyId: null,
      expiresAt: new Date(1_767_225_660 * 1000),
    });
  });

  it('is deterministic: the same entry gives equal values', () => {
    expect(fromRecord(valid())).toEqual(fromRecord(valid()));
  });

  it('entry and data must be objects', () => {
    expect(() => fromRecord(null as never)).toThrow(InvalidCodeRecordError);
    expect(() => fromRecord('x' as never)).toThrow(InvalidCodeRecordError);
    rejects((e) => void (e.data = null as never), 'data');
    rejects((e) => void (e.data = [] as never), 'data');
  });

  it('codeHash: exactly 43 characters of base64url', () => {
    rejects((e) => void (e.codeHash = HASH.slice(1)), 'codeHash');
    rejects((e) => void (e.codeHash = `${HASH}A`), 'codeHash');
    rejects((e) => void (e.codeHash = `${HASH.slice(1)}=`), 'codeHash');
    rejects((e) => void (e.codeHash = `${HASH.slice(1)}+`), 'codeHash');
    rejects((e) => void (e.codeHash = undefined), 'codeHash');
    rejects((e) => void (e.codeHash = 42), 'codeHash');
    accepts((e) => void (e.codeHash = '-_'.repeat(21) + 'A'));
  });

  it('expiresAt: unix seconds, a positive safe integer', () => {
    for (const bad of [
      0,
      -1,
      1.5,
      Number.NaN,
      Infinity,
      2 ** 53,
      Number.MAX_SAFE_INTEGER,
      253_402_300_800,
      '1767225660',
      null,
      undefined,
      1_767_225_660_000n,
    ]) {
      rejects((e) => void (e.expiresAt = bad), 'expiresAt');
    }
    accepts((e) => void (e.expiresAt = 1));
    accepts((e) => void (e.expiresAt = 253_402_300_799));
  });

  for (const field of ['clientId', 'subject'] as const) {
    it(`data.${field}: non-empty, at most 255 characters`, () => {
      rejects((e) => void (e.data[field] = ''), `data.${field}`);
      rejects((e) => void (e.data[field] = 'x'.repeat(256)), `data.${field}`);
      rejects((e) => void (e.data[field] = undefined), `data.${field}`);
      rejects((e) => void (e.data[field] = 7), `data.${field}`);
      rejects((e) => void (e.data[field] = 'a\u0000b'), `data.${field}`);
      rejects((e) => void (e.data[field] = 'lone \ud800 surrogate'), `data.${field}`);
      accepts((e) => void (e.data[field] = 'x'.repeat(255)));
      accepts((e) => void (e.data[field] = 'ünïcødé 😀'));
    });
  }

  it('data.redirectUri: non-empty absolute URI without fragment, at most 2048 characters', () => {
    for (const bad of [
      '',
      '/relative/path',
      'client.example/cb',
      'https://client.example/cb#fragment',
      'https://client.example/cb#',
      'https://client.example/c b',
      'https://client.example/cb\n',
      `https://client.example/${'a'.repeat(2049 - 23)}`,
      undefined,
      null,
    ]) {
      rejects((e) => void (e.data.redirectUri = bad), 'data.redirectUri');
    }
    accepts((e) => void (e.data.redirectUri = 'http://127.0.0.1:8788/callback'));
    accepts((e) => void (e.data.redirectUri = 'com.example.app:/oauth2redirect'));
    accepts((e) => void (e.data.redirectUri = `https://client.example/${'a'.repeat(2048 - 23)}`));
  });

  it('data.scope: an array of scope-tokens (RFC 6749 §3.3), possibly empty', () => {
    accepts((e) => void (e.data.scope = []));
    accepts((e) => void (e.data.scope = ['!', "#$%&'()*+,-./:;<=>?@[]^_`{|}~", 'read:all']));
    rejects((e) => void (e.data.scope = 'openid profile'), 'data.scope');
    rejects((e) => void (e.data.scope = undefined), 'data.scope');
    rejects((e) => void (e.data.scope = ['ok', '']), 'data.scope[1]');
    rejects((e) => void (e.data.scope = ['two words']), 'data.scope[0]');
    rejects((e) => void (e.data.scope = ['quote"']), 'data.scope[0]');
    rejects((e) => void (e.data.scope = ['back\\slash']), 'data.scope[0]');
    rejects((e) => void (e.data.scope = ['ünï']), 'data.scope[0]');
    rejects((e) => void (e.data.scope = [1]), 'data.scope[0]');
  });

  it('data.resource: absolute URIs without fragment (RFC 8707), possibly empty', () => {
    accepts((e) => void (e.data.resource = []));
    accepts((e) => void (e.data.resource = ['https://api.example/', 'urn:example:resource']));
    rejects((e) => void (e.data.resource = 'https://api.example/'), 'data.resource');
    rejects((e) => void (e.data.resource = ['https://api.example/#f']), 'data.resource[0]');
    rejects((e) => void (e.data.resource = ['https://ok.example/', 'relative']), 'data.resource[1]');
  });

  it('data.codeChallenge: required, 43 characters of base64url (an S256 digest)', () => {
    rejects((e) => void (e.data.codeChallenge = undefined), 'data.codeChallenge');
    rejects((e) => void (e.data.codeChallenge = ''), 'data.codeChallenge');
    rejects((e) => void (e.data.codeChallenge = CHALLENGE.slice(2)), 'data.codeChallenge');
    rejects((e) => void (e.data.codeChallenge = `${CHALLENGE.slice(1)}/`), 'data.codeChallenge');
  });

  it("data.codeChallengeMethod: exactly 'S256'; absent (which RFC 7636 reads as plain) is rejected", () => {
    for (const bad of [undefined, null, 'plain', 's256', 'S256 ', 'S384', '']) {
      rejects((e) => void (e.data.codeChallengeMethod = bad), 'data.codeChallengeMethod');
    }
    rejects((e) => void delete e.data.codeChallengeMethod, 'data.codeChallengeMethod');
  });

  it('data.dpopJkt: null or a 43-character base64url thumbprint (RFC 9449 §10)', () => {
    accepts((e) => void (e.data.dpopJkt = null));
    accepts((e) => void (e.data.dpopJkt = CHALLENGE));
    rejects((e) => void (e.data.dpopJkt = undefined), 'data.dpopJkt');
    rejects((e) => void (e.data.dpopJkt = ''), 'data.dpopJkt');
    rejects((e) => void (e.data.dpopJkt = 'not-a-thumbprint'), 'data.dpopJkt');
  });

  it('data.nonce: null or at most 255 characters', () => {
    accepts((e) => void (e.data.nonce = null));
    accepts((e) => void (e.data.nonce = 'x'.repeat(255)));
    rejects((e) => void (e.data.nonce = 'x'.repeat(256)), 'data.nonce');
    rejects((e) => void (e.data.nonce = undefined), 'data.nonce');
    rejects((e) => void (e.data.nonce = 5), 'data.nonce');
  });

  it('data.familyId: null, or non-empty and at most 255 characters', () => {
    accepts((e) => void (e.data.familyId = null));
    accepts((e) => void (e.data.familyId = 'f'.repeat(255)));
    rejects((e) => void (e.data.familyId = ''), 'data.familyId');
    rejects((e) => void (e.data.familyId = 'f'.repeat(256)), 'data.familyId');
    rejects((e) => void (e.data.familyId = undefined), 'data.familyId');
  });

  it('data.claims: a plain object of JSON values', () => {
    accepts((e) => void (e.data.claims = { a: null, b: [1, 'x', true, { c: [] }], d: -0.5 }));
    accepts((e) => void (e.data.claims = Object.create(null) as object));
    for (const bad of [
      null,
      undefined,
      [],
      'claims',
      new Date(0),
      new Map(),
      { f: () => 1 },
      { d: new Date(0) },
      { n: Number.NaN },
      { i: Infinity },
      { u: undefined },
      { b: 1n },
      { s: Symbol('x') },
      { nul: 'a\u0000b' },
      { ['k\u0000']: 1 },
    ]) {
      rejects((e) => void (e.data.claims = bad as never), 'data.claims');
    }
    const cyclic: Record<string, unknown> = {};
    cyclic.self = cyclic;
    rejects((e) => void (e.data.claims = cyclic as never), 'data.claims');
    let deep: Record<string, unknown> = {};
    for (let i = 0; i < 10_000; i++) deep = { d: deep };
    rejects((e) => void (e.data.claims = deep as never), 'data.claims');
  });

  it('reports the first violation in SPEC order, and never echoes the value', () => {
    const secret = 'SECRET-VALUE-THAT-MUST-NOT-LEAK';
    const entry = { ...valid(), codeHash: secret, data: { ...valid().data, clientId: '' } };
    try {
      fromRecord(entry);
      expect.unreachable();
    } catch (error) {
      expect((error as InvalidCodeRecordError).field).toBe('codeHash');
      expect((error as Error).message).not.toContain(secret);
    }
  });
});

describe('toRecord and consumedMeta', () => {
  it('folds a row back with expiresAt in unix seconds', () => {
    const row = rowOf(fromRecord(valid()));
    expect(toRecord(row)).toEqual(valid());
    expect(toRecord({ ...row, expiresAt: new Date(1_767_225_660_999) }).expiresAt).toBe(1_767_225_660);
  });

  it('consumedMeta names the family, subject and access token', () => {
    const row = { ...rowOf(fromRecord(valid())), familyId: 'fam', accessTokenJti: 'jti-1' };
    expect(consumedMeta(row)).toEqual({ familyId: 'fam', subject: 'user-42', accessTokenJti: 'jti-1' });
    expect(consumedMeta({ familyId: null, subject: 's', accessTokenJti: null })).toEqual({
      familyId: null,
      subject: 's',
      accessTokenJti: null,
    });
  });
});

// ---- properties ----------------------------------------------------------

const b64u = fc.stringMatching(/^[A-Za-z0-9_-]{43}$/);
const text255 = fc
  .string({ minLength: 1, maxLength: 255, unit: 'grapheme' })
  .filter((s) => !s.includes('\u0000') && s.length <= 255);
const scopeToken = fc.stringMatching(/^[\x21\x23-\x5B\x5D-\x7E]{1,20}$/);
const absoluteURI = fc
  .webUrl({ withQueryParameters: true, withFragments: false })
  .filter((u) => u.length <= 2048 && !/[\s#]/.test(u));
const jsonValue = fc.jsonValue({ maxDepth: 4 }).map((v) => JSON.parse(JSON.stringify(v)) as unknown);
const claims = fc
  .dictionary(
    fc.string({ maxLength: 10 }).filter((k) => !k.includes('\u0000') && k !== '__proto__'),
    jsonValue,
    { maxKeys: 5 },
  )
  .filter((o) => !JSON.stringify(o).includes('\\u0000'));

const entryArb: fc.Arbitrary<CodeEntry> = fc.record({
  codeHash: b64u,
  expiresAt: fc.integer({ min: 1, max: 253_402_300_799 }),
  data: fc.record({
    clientId: text255,
    subject: text255,
    redirectUri: absoluteURI,
    scope: fc.array(scopeToken, { maxLength: 6 }),
    resource: fc.array(absoluteURI, { maxLength: 3 }),
    codeChallenge: b64u,
    codeChallengeMethod: fc.constant('S256' as const),
    dpopJkt: fc.option(b64u, { nil: null }),
    nonce: fc.option(
      fc.string({ maxLength: 255 }).filter((s) => !s.includes('\u0000')),
      { nil: null },
    ),
    familyId: fc.option(text255, { nil: null }),
    claims: claims as fc.Arbitrary<Record<string, never>>,
  }),
});

/** One corruption per field: each breaks exactly one rule. */
const corruptions: Array<[string, (e: CodeEntry) => unknown]> = [
  ['codeHash', (e) => ({ ...e, codeHash: e.codeHash.slice(1) })],
  ['expiresAt', (e) => ({ ...e, expiresAt: -e.expiresAt })],
  ['data.clientId', (e) => ({ ...e, data: { ...e.data, clientId: '' } })],
  ['data.subject', (e) => ({ ...e, data: { ...e.data, subject: 'x'.repeat(256) } })],
  ['data.redirectUri', (e) => ({ ...e, data: { ...e.data, redirectUri: `${e.data.redirectUri}#f` } })],
  ['data.scope', (e) => ({ ...e, data: { ...e.data, scope: e.data.scope.join(' ') } })],
  ['data.resource', (e) => ({ ...e, data: { ...e.data, resource: null } })],
  ['data.codeChallenge', (e) => ({ ...e, data: { ...e.data, codeChallenge: `${e.data.codeChallenge}=` } })],
  ['data.codeChallengeMethod', (e) => ({ ...e, data: { ...e.data, codeChallengeMethod: 'plain' } })],
  ['data.dpopJkt', (e) => ({ ...e, data: { ...e.data, dpopJkt: 'short' } })],
  ['data.nonce', (e) => ({ ...e, data: { ...e.data, nonce: 'n'.repeat(256) } })],
  ['data.familyId', (e) => ({ ...e, data: { ...e.data, familyId: '' } })],
  ['data.claims', (e) => ({ ...e, data: { ...e.data, claims: [e.data.claims] } })],
];

describe('properties', () => {
  it('toRecord(row of fromRecord(e)) round-trips any valid entry', () => {
    fc.assert(
      fc.property(entryArb, (entry) => {
        expect(toRecord(rowOf(fromRecord(entry)))).toEqual(entry);
      }),
      { numRuns: 500 },
    );
  });

  it('any single corrupted field is rejected, naming that field', () => {
    fc.assert(
      fc.property(entryArb, fc.constantFrom(...corruptions), (entry, [field, corrupt]) => {
        let error: unknown;
        try {
          fromRecord(corrupt(entry) as CodeEntry);
        } catch (e) {
          error = e;
        }
        expect(error).toBeInstanceOf(InvalidCodeRecordError);
        expect((error as InvalidCodeRecordError).field.startsWith(field)).toBe(true);
      }),
      { numRuns: 1000 },
    );
  });

  it('any value at all either maps or throws InvalidCodeRecordError, never anything else', () => {
    fc.assert(
      fc.property(
        fc.anything({ withBigInt: true, withDate: true, withMap: true, withNullPrototype: true }),
        (value) => {
          try {
            fromRecord(value as CodeEntry);
          } catch (e) {
            expect(e).toBeInstanceOf(InvalidCodeRecordError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});
