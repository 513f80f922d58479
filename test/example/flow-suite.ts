/**
 * The authorization-code flow driven by oauth4webapi, a certified OAuth
 * client written elsewhere, against a target of the example server.
 */
import * as oauth from 'oauth4webapi';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { OTHER_REDIRECT_URI, REDIRECT_URI, type Target } from './targets.js';

const demo: oauth.Client = { client_id: 'demo' };
const other: oauth.Client = { client_id: 'other' };
const resourceServer: oauth.Client = { client_id: 'demo-rs' };
const RESOURCE = 'https://api.example.com/';

export function flowSuite(start: () => Promise<Target>): void {
  let target: Target;
  let as: oauth.AuthorizationServer;
  let options: { [oauth.allowInsecureRequests]: true; [oauth.customFetch]: typeof fetch };

  beforeAll(async () => {
    target = await start();
    options = {
      // A local server on plain HTTP; production issuers are HTTPS.
      [oauth.allowInsecureRequests]: true,
      [oauth.customFetch]: ((input: RequestInfo | URL, init?: RequestInit) => target.fetch(input as string, init)) as typeof fetch,
    };
    const issuer = new URL(target.baseURL);
    as = await oauth.processDiscoveryResponse(issuer, await oauth.discoveryRequest(issuer, { algorithm: 'oauth2', ...options }));
  });
  afterAll(async () => {
    await target?.close();
  });

  interface Authorization {
    verifier: string;
    state: string;
    callback: URLSearchParams;
  }

  async function authorize(client: oauth.Client = demo, redirectURI = REDIRECT_URI): Promise<Authorization> {
    const verifier = oauth.generateRandomCodeVerifier();
    const state = oauth.generateRandomState();
    const url = new URL(as.authorization_endpoint!);
    url.search = new URLSearchParams({
      client_id: client.client_id,
      redirect_uri: redirectURI,
      response_type: 'code',
      scope: 'read write',
      resource: RESOURCE,
      state,
      code_challenge: await oauth.calculatePKCECodeChallenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const response = await target.fetch(url.toString(), { redirect: 'manual' });
    expect(response.status).toBe(302);
    const location = new URL(response.headers.get('location')!);
    expect(`${location.origin}${location.pathname}`).toBe(redirectURI);
    const callback = oauth.validateAuthResponse(as, client, location, state);
    return { verifier, state, callback };
  }

  async function exchange(
    authorization: Authorization,
    overrides: { client?: oauth.Client; redirectURI?: string; verifier?: string } = {},
  ): Promise<oauth.TokenEndpointResponse> {
    const client = overrides.client ?? demo;
    const response = await oauth.authorizationCodeGrantRequest(
      as,
      client,
      oauth.None(),
      authorization.callback,
      overrides.redirectURI ?? REDIRECT_URI,
      overrides.verifier ?? authorization.verifier,
      options,
    );
    expect(response.headers.get('cache-control')).toBe('no-store');
    return oauth.processAuthorizationCodeResponse(as, client, response);
  }

  async function introspect(token: string): Promise<oauth.IntrospectionResponse> {
    const response = await oauth.introspectionRequest(as, resourceServer, oauth.ClientSecretBasic('demo-rs-secret'), token, options);
    return oauth.processIntrospectionResponse(as, resourceServer, response);
  }

  async function expectInvalidGrant(promise: Promise<unknown>): Promise<void> {
    const error = await promise.then(
      () => undefined,
      (reason: unknown) => reason,
    );
    expect(error).toBeInstanceOf(oauth.ResponseBodyError);
    expect((error as oauth.ResponseBodyError).error).toBe('invalid_grant');
    expect((error as oauth.ResponseBodyError).status).toBe(400);
  }

  it('publishes RFC 8414 metadata with S256 only and the iss response parameter', () => {
    expect(as.issuer).toBe(new URL(target.baseURL).origin);
    expect(as.code_challenge_methods_supported).toEqual(['S256']);
    expect(as.authorization_response_iss_parameter_supported).toBe(true);
    expect(as.token_endpoint).toBe(`${as.issuer}/token`);
    expect(as.introspection_endpoint).toBe(`${as.issuer}/introspect`);
  });

  it('completes authorize, code exchange with PKCE and introspection', async () => {
    const authorization = await authorize();
    expect(authorization.callback.get('iss')).toBe(as.issuer);
    const tokens = await exchange(authorization);
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.access_token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(tokens.expires_in).toBe(3600);
    expect(tokens.scope).toBe('read write');
    const introspection = await introspect(tokens.access_token);
    expect(introspection).toMatchObject({
      active: true,
      client_id: 'demo',
      sub: 'demo-user',
      scope: 'read write',
      token_type: 'Bearer',
      iss: as.issuer,
      aud: [RESOURCE],
    });
    expect(introspection.exp).toBeGreaterThan(Date.now() / 1000);
  });

  it('answers a replayed code with invalid_grant and revokes the token it produced', async () => {
    const authorization = await authorize();
    const tokens = await exchange(authorization);
    expect((await introspect(tokens.access_token)).active).toBe(true);
    await expectInvalidGrant(exchange(authorization));
    expect(await introspect(tokens.access_token)).toEqual({ active: false });
  });

  it('stores and logs neither the code nor the access token, and reports the replay', async () => {
    const authorization = await authorize();
    const code = authorization.callback.get('code')!;
    const tokens = await exchange(authorization);
    await expectInvalidGrant(exchange(authorization));
    const client = new pg.Client({ connectionString: target.databaseURL });
    await client.connect();
    try {
      const { rows } = await client.query('select * from attesto_authorization_codes');
      const stored = JSON.stringify(rows);
      expect(stored).not.toContain(code);
      expect(stored).not.toContain(tokens.access_token);
    } finally {
      await client.end();
    }
    // Logs may arrive a moment after the response over HTTP.
    await expect.poll(() => /replay/i.test(target.logs())).toBe(true);
    expect(target.logs()).not.toContain(code);
    expect(target.logs()).not.toContain(tokens.access_token);
  });

  it('answers a wrong code verifier with invalid_grant, and the code is spent', async () => {
    const authorization = await authorize();
    await expectInvalidGrant(exchange(authorization, { verifier: oauth.generateRandomCodeVerifier() }));
    await expectInvalidGrant(exchange(authorization));
  });

  it('answers a wrong redirect URI with invalid_grant', async () => {
    const authorization = await authorize();
    await expectInvalidGrant(exchange(authorization, { redirectURI: OTHER_REDIRECT_URI }));
  });

  it('answers a code redeemed by another registered client with invalid_grant', async () => {
    const authorization = await authorize();
    await expectInvalidGrant(exchange(authorization, { client: other, redirectURI: REDIRECT_URI }));
    // The other client's own codes work.
    const own = await authorize(other, OTHER_REDIRECT_URI);
    expect((await exchange(own, { client: other, redirectURI: OTHER_REDIRECT_URI })).access_token).toBeTruthy();
  });

  it('answers an unknown or malformed code with invalid_grant', async () => {
    // oauth4webapi only sends codes it validated from a callback, so these go out by hand.
    const authorization = await authorize();
    for (const code of ['A'.repeat(43), 'not a code', 'x'.repeat(5000), authorization.callback.get('code')!.slice(1)]) {
      const response = await target.fetch(as.token_endpoint!, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'authorization_code',
          client_id: 'demo',
          code,
          redirect_uri: REDIRECT_URI,
          code_verifier: authorization.verifier,
        }),
      });
      expect(response.status).toBe(400);
      expect(await response.json()).toMatchObject({ error: 'invalid_grant' });
    }
    // None of that touched the real code.
    expect((await exchange(authorization)).access_token).toBeTruthy();
  });

  it('issues exactly one access token to 20 concurrent token requests with one code', async () => {
    const authorization = await authorize();
    const results = await Promise.allSettled(Array.from({ length: 20 }, () => exchange(authorization)));
    const tokens = results.filter((result) => result.status === 'fulfilled');
    expect(tokens).toHaveLength(1);
    for (const result of results) {
      if (result.status === 'rejected') {
        expect(result.reason).toBeInstanceOf(oauth.ResponseBodyError);
        expect((result.reason as oauth.ResponseBodyError).error).toBe('invalid_grant');
      }
    }
  });

  it('answers an expired code with invalid_grant', async () => {
    const authorization = await authorize();
    await target.expireCodes();
    await expectInvalidGrant(exchange(authorization));
  });

  describe('authorization endpoint errors', () => {
    const base = (): Record<string, string> => ({
      client_id: 'demo',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      state: 'state-1',
      code_challenge: 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM',
      code_challenge_method: 'S256',
    });
    const request = (params: Record<string, string | undefined>): Promise<Response> => {
      const url = new URL(as.authorization_endpoint!);
      for (const [name, value] of Object.entries(params)) if (value !== undefined) url.searchParams.append(name, value);
      return target.fetch(url.toString(), { redirect: 'manual' });
    };

    it.each([
      ['no client', { client_id: undefined }],
      ['an unknown client', { client_id: 'mallory' }],
      ['no redirect URI', { redirect_uri: undefined }],
      ['an unregistered redirect URI', { redirect_uri: 'https://attacker.example/cb' }],
      ['a redirect URI of another client', { redirect_uri: OTHER_REDIRECT_URI }],
    ])('shows a 400 page and never redirects for %s', async (_label, overrides) => {
      const response = await request({ ...base(), ...overrides });
      expect(response.status).toBe(400);
      expect(response.headers.get('location')).toBeNull();
      expect(response.headers.get('content-type')).toContain('text/html');
    });

    it.each([
      ['no code challenge', { code_challenge: undefined }, 'invalid_request'],
      ['no challenge method (plain)', { code_challenge_method: undefined }, 'invalid_request'],
      ['the plain method', { code_challenge_method: 'plain' }, 'invalid_request'],
      ['a malformed challenge', { code_challenge: 'short' }, 'invalid_request'],
      ['response_type=token', { response_type: 'token' }, 'unsupported_response_type'],
      ['no response_type', { response_type: undefined }, 'invalid_request'],
      ['a malformed scope', { scope: 'read "write"' }, 'invalid_scope'],
      ['a relative resource', { resource: '/api' }, 'invalid_target'],
    ])('redirects back with an error, state and iss for %s (RFC 6749 §4.1.2.1, RFC 9207)', async (_label, overrides, error) => {
      const response = await request({ ...base(), ...overrides });
      expect(response.status).toBe(302);
      const location = new URL(response.headers.get('location')!);
      expect(location.searchParams.get('code')).toBeNull();
      expect(location.searchParams.get('state')).toBe('state-1');
      expect(location.searchParams.get('iss')).toBe(as.issuer);
      expect(() => oauth.validateAuthResponse(as, demo, location, 'state-1')).toThrow(oauth.AuthorizationResponseError);
      expect(location.searchParams.get('error')).toBe(error);
    });
  });

  describe('bad input never causes a 500', () => {
    const form = (body: string, headers: Record<string, string> = {}): RequestInit => ({
      method: 'POST',
      body,
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers },
    });
    const basic = `Basic ${btoa('demo-rs:demo-rs-secret')}`;

    it.each([
      ['a JSON body', '/token', { method: 'POST', body: '{"grant_type":"authorization_code"}', headers: { 'content-type': 'application/json' } }, 400, 'invalid_request'],
      ['no body', '/token', { method: 'POST' }, 400, 'invalid_request'],
      ['no grant_type', '/token', form('code=x&client_id=demo'), 400, 'invalid_request'],
      ['another grant type', '/token', form('grant_type=password&client_id=demo'), 400, 'unsupported_grant_type'],
      ['a repeated code', '/token', form('grant_type=authorization_code&client_id=demo&code=a&code=b'), 400, 'invalid_request'],
      ['no client', '/token', form('grant_type=authorization_code&code=abc'), 401, 'invalid_client'],
      ['an unknown client', '/token', form('grant_type=authorization_code&client_id=mallory&code=abc'), 401, 'invalid_client'],
      ['client credentials for a public client', '/token', form('grant_type=authorization_code&client_id=demo&code=abc', { authorization: 'Basic ZGVtbzp4' }), 401, 'invalid_client'],
      ['no code', '/token', form('grant_type=authorization_code&client_id=demo'), 400, 'invalid_request'],
      ['broken percent-encoding', '/token', form('grant_type=authorization_code&client_id=demo&code=%E0%A4%A&code_verifier=%%'), 400, 'invalid_grant'],
      ['a NUL in the code', '/token', form('grant_type=authorization_code&client_id=demo&code=%00abc&redirect_uri=x&code_verifier=y'), 400, 'invalid_grant'],
      ['introspection without credentials', '/introspect', form('token=abc'), 401, 'invalid_client'],
      ['introspection with a wrong secret', '/introspect', form('token=abc', { authorization: `Basic ${btoa('demo-rs:wrong')}` }), 401, 'invalid_client'],
      ['introspection with garbage credentials', '/introspect', form('token=abc', { authorization: 'Basic %%%' }), 401, 'invalid_client'],
      ['introspection with broken percent-encoding in credentials', '/introspect', form('token=abc', { authorization: `Basic ${btoa('demo-rs:%E0%A4%A')}` }), 401, 'invalid_client'],
      ['introspection without a token', '/introspect', form('', { authorization: basic }), 400, 'invalid_request'],
    ])('answers %s with an RFC 6749 §5.2 error', async (_label, path, init, status, error) => {
      const response = await target.fetch(new URL(path, target.baseURL).toString(), init as RequestInit);
      expect(response.status).toBe(status);
      expect(response.headers.get('content-type')).toContain('application/json');
      expect(response.headers.get('cache-control')).toBe('no-store');
      expect(((await response.json()) as { error: string }).error).toBe(error);
    });

    it('answers introspection of an unknown token with active false', async () => {
      const response = await target.fetch(new URL('/introspect', target.baseURL).toString(), form('token=nothing-like-it', { authorization: basic }));
      expect(response.status).toBe(200);
      expect(await response.json()).toEqual({ active: false });
    });
  });
}
