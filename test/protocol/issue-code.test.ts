import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AttestoError,
  createCodeStore,
  DuplicateCodeError,
  hashCode,
  InvalidAuthorizationRequestError,
  InvalidCodeOptionsError,
  InvalidCodeRecordError,
  issueCode,
  type CodeStore,
  type InvalidAuthorizationRequestCode,
} from '../../src/index.js';
import { nodePostgres, type TestDatabase } from '../support/drivers.js';
import { attributes, CHALLENGE, clock, NOW } from './fixtures.js';

let database: TestDatabase;
let store: CodeStore;

beforeAll(async () => {
  database = await nodePostgres.open({ connections: 2 });
  store = createCodeStore(database.db);
});
afterAll(async () => {
  await database.close();
});

async function rowCount(): Promise<number> {
  const [row] = await database.query<{ n: number }>('select count(*)::int as n from attesto_authorization_codes');
  return row!.n;
}

async function rejection(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (error) {
    return error;
  }
  throw new Error('expected a rejection');
}

describe('issueCode', () => {
  it('stores only the SHA-256 digest of a fresh 43-character code, expiring 60 s from now by default', async () => {
    database.statements.length = 0;
    const { code, expiresAt } = await issueCode(store, attributes(), { now: clock });
    expect(code).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(expiresAt).toBe(NOW + 60);
    expect(database.statements).toHaveLength(1);

    const rows = await database.query<Record<string, unknown>>(
      'select *, extract(epoch from expires_at)::bigint as expires_epoch from attesto_authorization_codes where code_hash = $1',
      [await hashCode(code)],
    );
    expect(rows).toHaveLength(1);
    const row = rows[0]!;
    expect(JSON.stringify(row)).not.toContain(code);
    expect(row).toMatchObject({
      client_id: 'demo',
      subject: 'alice',
      redirect_uri: 'http://127.0.0.1:8788/callback',
      scope: ['openid', 'profile'],
      resource: ['https://api.example.com/'],
      code_challenge: CHALLENGE,
      code_challenge_method: 'S256',
      dpop_jkt: null,
      nonce: 'n-0S6_WzA2Mj',
      family_id: 'family-1',
      claims: { acr: 'urn:example:pwd', amr: ['pwd'] },
      consumed_at: null,
    });
    expect(Number(row.expires_epoch)).toBe(NOW + 60);
  });

  it('gives every code its own value', async () => {
    const codes = await Promise.all(Array.from({ length: 20 }, () => issueCode(store, attributes(), { now: clock })));
    expect(new Set(codes.map((issued) => issued.code)).size).toBe(20);
  });

  it('defaults the optional attributes to empty lists, null and an empty claims object', async () => {
    const { code } = await issueCode(store, {
      clientId: 'demo',
      redirectUri: 'https://client.example.org/cb',
      subject: 'bob',
      codeChallenge: CHALLENGE,
      codeChallengeMethod: 'S256',
    });
    const entry = await store.get(await hashCode(code));
    expect(entry?.data).toEqual({
      clientId: 'demo',
      redirectUri: 'https://client.example.org/cb',
      subject: 'bob',
      scope: [],
      resource: [],
      codeChallenge: CHALLENGE,
      codeChallengeMethod: 'S256',
      dpopJkt: null,
      nonce: null,
      familyId: null,
      claims: {},
    });
  });

  it('honours ttlSeconds from 1 to 600', async () => {
    expect((await issueCode(store, attributes(), { now: clock, ttlSeconds: 1 })).expiresAt).toBe(NOW + 1);
    expect((await issueCode(store, attributes(), { now: clock, ttlSeconds: 600 })).expiresAt).toBe(NOW + 600);
  });

  it.each([0, -1, 601, 1.5, Number.NaN, Number.POSITIVE_INFINITY, '60'])(
    'rejects ttlSeconds %s with invalid_code_options and stores nothing',
    async (ttlSeconds) => {
      const before = await rowCount();
      const error = await rejection(issueCode(store, attributes(), { now: clock, ttlSeconds: ttlSeconds as number }));
      expect(error).toBeInstanceOf(InvalidCodeOptionsError);
      expect((error as InvalidCodeOptionsError).code).toBe('invalid_code_options');
      expect(await rowCount()).toBe(before);
    },
  );

  it.each([() => 1_800_000_000.5, () => 0, () => -5, () => Number.NaN, () => '1800000000'])(
    'rejects a clock that does not return unix seconds (%s)',
    async (now) => {
      const error = await rejection(issueCode(store, attributes(), { now: now as () => number }));
      expect(error).toBeInstanceOf(InvalidCodeOptionsError);
    },
  );

  it('generates the code from the given random source, and a repeated source is a DuplicateCodeError that overwrites nothing', async () => {
    const fixed = (bytes: Uint8Array): Uint8Array => bytes.fill(7);
    const first = await issueCode(store, attributes({ subject: 'first' }), { now: clock, random: fixed });
    expect(first.code).toBe('BwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwcHBwc');
    const error = await rejection(issueCode(store, attributes({ subject: 'second' }), { now: clock, random: fixed }));
    expect(error).toBeInstanceOf(DuplicateCodeError);
    expect((await store.get(await hashCode(first.code)))?.data.subject).toBe('first');
  });
});

describe('issueCode validation', () => {
  const cases: Array<[InvalidAuthorizationRequestCode, string, Record<string, unknown>]> = [
    ['invalid_client_id', 'missing client id', { clientId: undefined }],
    ['invalid_client_id', 'empty client id', { clientId: '' }],
    ['invalid_client_id', 'client id over 255 characters', { clientId: 'c'.repeat(256) }],
    ['invalid_client_id', 'client id with NUL', { clientId: 'de\u0000mo' }],
    ['invalid_client_id', 'client id that is not a string', { clientId: 42 }],
    ['invalid_redirect_uri', 'missing redirect URI', { redirectUri: undefined }],
    ['invalid_redirect_uri', 'relative redirect URI', { redirectUri: '/callback' }],
    ['invalid_redirect_uri', 'redirect URI with fragment', { redirectUri: 'https://client.example.org/cb#x' }],
    ['invalid_redirect_uri', 'redirect URI with a space', { redirectUri: 'https://client.example.org/c b' }],
    ['invalid_redirect_uri', 'redirect URI over 2048 characters', { redirectUri: `https://c.example/${'a'.repeat(2048)}` }],
    ['missing_code_challenge', 'missing code challenge', { codeChallenge: undefined }],
    ['missing_code_challenge', 'empty code challenge', { codeChallenge: '' }],
    ['unsupported_code_challenge_method', 'absent method (means plain)', { codeChallengeMethod: undefined }],
    ['unsupported_code_challenge_method', 'plain method', { codeChallengeMethod: 'plain' }],
    ['unsupported_code_challenge_method', 'lower-case s256', { codeChallengeMethod: 's256' }],
    ['invalid_code_challenge', 'challenge of 42 characters', { codeChallenge: CHALLENGE.slice(1) }],
    ['invalid_code_challenge', 'challenge with padding', { codeChallenge: `${CHALLENGE.slice(1)}=` }],
    ['invalid_code_challenge', 'challenge in base64 (not url)', { codeChallenge: `${CHALLENGE.slice(1)}+` }],
    ['invalid_subject', 'missing subject', { subject: undefined }],
    ['invalid_subject', 'empty subject', { subject: '' }],
    ['invalid_subject', 'subject over 255 characters', { subject: 's'.repeat(256) }],
    ['invalid_scope', 'scope as a string', { scope: 'openid profile' }],
    ['invalid_scope', 'scope-token with a space', { scope: ['openid profile'] }],
    ['invalid_scope', 'scope-token with a quote', { scope: ['a"b'] }],
    ['invalid_scope', 'empty scope-token', { scope: [''] }],
    ['invalid_resource', 'relative resource', { resource: ['/api'] }],
    ['invalid_resource', 'resource with fragment', { resource: ['https://api.example.com/#x'] }],
    ['invalid_resource', 'resource as a string', { resource: 'https://api.example.com/' }],
    ['invalid_dpop_jkt', 'thumbprint of 42 characters', { dpopJkt: 'a'.repeat(42) }],
    ['invalid_dpop_jkt', 'empty thumbprint', { dpopJkt: '' }],
    ['invalid_family_id', 'empty family id', { familyId: '' }],
    ['invalid_family_id', 'family id over 255 characters', { familyId: 'f'.repeat(256) }],
    ['invalid_claims', 'claims as an array', { claims: [] }],
    ['invalid_claims', 'claims holding a function', { claims: { f: () => 1 } }],
    ['invalid_claims', 'claims holding a Date', { claims: { at: new Date(0) } }],
    ['invalid_claims', 'claims holding NaN', { claims: { n: Number.NaN } }],
  ];

  it.each(cases)('rejects with %s: %s, storing nothing', async (code, _label, overrides) => {
    const before = await rowCount();
    database.statements.length = 0;
    const error = await rejection(issueCode(store, attributes(overrides), { now: clock }));
    expect(error).toBeInstanceOf(InvalidAuthorizationRequestError);
    expect(error).toBeInstanceOf(AttestoError);
    expect((error as InvalidAuthorizationRequestError).code).toBe(code);
    expect(database.statements).toHaveLength(0);
    expect(await rowCount()).toBe(before);
  });

  it('checks in the documented order: the first failure wins', async () => {
    const broken: Record<string, unknown> = {
      clientId: '',
      redirectUri: 'relative',
      codeChallenge: undefined,
      codeChallengeMethod: 'plain',
      subject: '',
      scope: ['a b'],
      resource: ['relative'],
      dpopJkt: 'short',
      familyId: '',
      claims: [],
    };
    const fixes: Array<[InvalidAuthorizationRequestCode, Record<string, unknown>]> = [
      ['invalid_client_id', { clientId: 'demo' }],
      ['invalid_redirect_uri', { redirectUri: 'https://client.example.org/cb' }],
      ['missing_code_challenge', { codeChallenge: 'not-a-digest' }],
      ['unsupported_code_challenge_method', { codeChallengeMethod: 'S256' }],
      ['invalid_code_challenge', { codeChallenge: CHALLENGE }],
      ['invalid_subject', { subject: 'alice' }],
      ['invalid_scope', { scope: [] }],
      ['invalid_resource', { resource: [] }],
      ['invalid_dpop_jkt', { dpopJkt: null }],
      ['invalid_family_id', { familyId: null }],
      ['invalid_claims', { claims: {} }],
    ];
    const seen: string[] = [];
    for (const [, fix] of fixes) {
      const error = await rejection(issueCode(store, attributes(broken), { now: clock }));
      seen.push((error as InvalidAuthorizationRequestError).code);
      Object.assign(broken, fix);
    }
    expect(seen).toEqual(fixes.map(([code]) => code));
    await expect(issueCode(store, attributes(broken), { now: clock })).resolves.toMatchObject({ expiresAt: NOW + 60 });
  });

  it('never echoes the offending value in the error message', async () => {
    const secretish = 'https://attacker.example/cb#SECRET-VALUE';
    const error = await rejection(issueCode(store, attributes({ redirectUri: secretish }), { now: clock }));
    expect((error as Error).message).not.toContain('SECRET-VALUE');
  });

  it('rejects a nonce over 255 characters through the record rules, before any statement', async () => {
    database.statements.length = 0;
    const error = await rejection(issueCode(store, attributes({ nonce: 'n'.repeat(256) }), { now: clock }));
    expect(error).toBeInstanceOf(InvalidCodeRecordError);
    expect((error as InvalidCodeRecordError).field).toBe('data.nonce');
    expect(database.statements).toHaveLength(0);
  });
});
