/**
 * A small OAuth 2.0 authorization server on attesto-drizzle: authorization
 * code with mandatory PKCE (S256), opaque access tokens, token introspection
 * and server metadata. Runtime-agnostic (Web APIs only): the Node, Cloudflare
 * Worker and Vercel Edge entries only differ in how they make the Drizzle
 * `db`, which happens once per request.
 *
 * It registers one public client and one resource server, and signs in a
 * fixed demo subject without a login page: it shows the token endpoint, not
 * user management.
 *
 * @see RFC 6749 §4.1
 * @see RFC 7636
 * @see RFC 7662
 * @see RFC 8414
 * @see RFC 9207
 */
import { Hono, type Context } from 'hono';
import { eq } from 'drizzle-orm';
import {
  AttestoError,
  authorizationCodes,
  base64url,
  createCodeStore,
  finalizeCode,
  generateCode,
  InvalidAuthorizationRequestError,
  InvalidCodeRecordError,
  issueCode,
  redeemCode,
  tokenErrorResponse,
  type CodeStoreDatabase,
  type RedeemError,
} from '../src/index.js';

/** A registered public client (no secret; PKCE protects its codes). */
export interface ClientRegistration {
  clientId: string;
  /** Compared by exact string equality (RFC 6749 §3.1.2.3). */
  redirectUris: readonly string[];
}

/** A resource server allowed to introspect tokens, with HTTP Basic credentials. */
export interface ResourceServerRegistration {
  id: string;
  secret: string;
}

/** What the app reports for logs and metrics: reasons and identifiers, never a code or token. */
export type ExampleEvent =
  | { type: 'code_issued'; clientId: string; subject: string; familyId: string }
  | { type: 'token_issued'; clientId: string; subject: string; familyId: string | null; jti: string }
  | { type: 'token_rejected'; reason: RedeemError }
  | { type: 'replay_detected'; familyId: string | null; subject: string; revokedTokens: number }
  | { type: 'server_error'; error: string };

/** One readable log line for an event; identifiers only, never a code or token. */
export function describeEvent(event: ExampleEvent): string {
  switch (event.type) {
    case 'code_issued':
      return `issued a code to ${event.clientId} for ${event.subject} (family ${event.familyId})`;
    case 'token_issued':
      return `redeemed a code: access token ${event.jti.slice(0, 8)}… for ${event.subject}`;
    case 'token_rejected':
      return `rejected a token request: ${event.reason}`;
    case 'replay_detected':
      return `REPLAY of a redeemed code: revoked ${event.revokedTokens} token(s) of family ${event.familyId ?? '(none)'}`;
    case 'server_error':
      return `server error: ${event.error}`;
  }
}

export interface ExampleOptions<Env> {
  /** Makes the Drizzle database for one request. */
  database(env: Env): CodeStoreDatabase;
  /** The issuer identifier; defaults to the origin the request reached (RFC 8414 §2). */
  issuer?: string | undefined;
  clients?: readonly ClientRegistration[] | undefined;
  resourceServers?: readonly ResourceServerRegistration[] | undefined;
  /** The subject every authorization signs in. */
  subject?: string | undefined;
  codeTtlSeconds?: number | undefined;
  accessTokenTtlSeconds?: number | undefined;
  /** The clock, in unix seconds. */
  now?: (() => number) | undefined;
  onEvent?: ((event: ExampleEvent) => void) | undefined;
}

export const DEMO_CLIENT: ClientRegistration = { clientId: 'demo', redirectUris: ['http://127.0.0.1:8788/callback'] };
export const DEMO_RESOURCE_SERVER: ResourceServerRegistration = { id: 'demo-rs', secret: 'demo-rs-secret' };
export const DEMO_SUBJECT = 'demo-user';

/**
 * Options from environment variables, shared by every entry point:
 * `ISSUER`, `DEMO_REDIRECT_URI`, `DEMO_RS_ID`, `DEMO_RS_SECRET`,
 * `CODE_TTL_SECONDS`, and `EXTRA_CLIENTS` (more public clients, as
 * comma-separated `client_id=redirect_uri` pairs).
 */
export function optionsFromEnvironment(env: Record<string, string | undefined>): Omit<ExampleOptions<object>, 'database'> {
  const clients: ClientRegistration[] = [
    { clientId: DEMO_CLIENT.clientId, redirectUris: [env.DEMO_REDIRECT_URI || DEMO_CLIENT.redirectUris[0]!] },
  ];
  for (const pair of (env.EXTRA_CLIENTS ?? '').split(',')) {
    const at = pair.indexOf('=');
    if (at > 0) clients.push({ clientId: pair.slice(0, at).trim(), redirectUris: [pair.slice(at + 1).trim()] });
  }
  return {
    issuer: env.ISSUER || undefined,
    clients,
    resourceServers: [
      { id: env.DEMO_RS_ID || DEMO_RESOURCE_SERVER.id, secret: env.DEMO_RS_SECRET || DEMO_RESOURCE_SERVER.secret },
    ],
    codeTtlSeconds: env.CODE_TTL_SECONDS ? Number(env.CODE_TTL_SECONDS) : undefined,
  };
}

const NO_STORE = { 'Cache-Control': 'no-store', Pragma: 'no-cache' } as const;
const encoder = new TextEncoder();

/** base64url(SHA-256(value)). The access token's jti is its digest: the token itself is never stored. */
async function digest(value: string): Promise<string> {
  return base64url(new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value))));
}

/** Compares secrets in constant time over their SHA-256 digests. */
async function sameSecret(presented: string, expected: string): Promise<boolean> {
  const [a, b] = await Promise.all(
    [presented, expected].map(async (value) => new Uint8Array(await crypto.subtle.digest('SHA-256', encoder.encode(value)))),
  );
  let difference = 0;
  for (let i = 0; i < a!.length; i++) difference |= a![i]! ^ b![i]!;
  return difference === 0;
}

/** The single value of a parameter, or an error when it was sent more than once (RFC 6749 §3.1, §3.2). */
function single(params: URLSearchParams, name: string): string | undefined | typeof REPEATED {
  const values = params.getAll(name);
  if (values.length > 1) return REPEATED;
  return values[0];
}
const REPEATED = Symbol('repeated');

function firstRepeated(params: URLSearchParams, allowedRepeats: readonly string[] = []): string | undefined {
  const seen = new Set<string>();
  for (const name of params.keys()) {
    if (seen.has(name) && !allowedRepeats.includes(name)) return name;
    seen.add(name);
  }
  return undefined;
}

async function formBody(c: Context): Promise<URLSearchParams | undefined> {
  const type = c.req.header('content-type') ?? '';
  if (type.split(';')[0]!.trim().toLowerCase() !== 'application/x-www-form-urlencoded') return undefined;
  return new URLSearchParams(await c.req.text());
}

/** Decodes HTTP Basic credentials, each part form-urlencoded (RFC 6749 §2.3.1). */
function basicCredentials(header: string | undefined): { id: string; secret: string } | undefined {
  const match = /^Basic ([A-Za-z0-9+/]+=*)$/i.exec(header?.trim() ?? '');
  if (!match) return undefined;
  try {
    const decoded = atob(match[1]!);
    const colon = decoded.indexOf(':');
    if (colon < 0) return undefined;
    const formDecode = (part: string): string => decodeURIComponent(part.replace(/\+/g, ' '));
    return { id: formDecode(decoded.slice(0, colon)), secret: formDecode(decoded.slice(colon + 1)) };
  } catch {
    return undefined;
  }
}

function escapeHTML(value: string): string {
  return value.replace(/[&<>"']/g, (char) => `&#${char.charCodeAt(0)};`);
}

function errorPage(c: Context, message: string): Response {
  return c.html(
    `<!doctype html><title>Authorization error</title><h1>Authorization error</h1><p>${escapeHTML(message)}</p>`,
    400,
    NO_STORE,
  );
}

/**
 * Builds the authorization server. `options.database` is called once per
 * request; nothing is held between requests.
 */
export function createApp<Env extends object = Record<string, unknown>>(options: ExampleOptions<Env>): Hono<{ Bindings: Env }> {
  const clients = options.clients ?? [DEMO_CLIENT];
  const resourceServers = options.resourceServers ?? [DEMO_RESOURCE_SERVER];
  const subject = options.subject ?? DEMO_SUBJECT;
  const accessTokenTtl = options.accessTokenTtlSeconds ?? 3600;
  const now = options.now ?? ((): number => Math.floor(Date.now() / 1000));
  const emit = options.onEvent ?? ((): void => {});
  const issuerOf = (c: Context): string => options.issuer ?? new URL(c.req.url).origin;
  const storeOf = (c: Context<{ Bindings: Env }>) => createCodeStore(options.database(c.env));

  const app = new Hono<{ Bindings: Env }>();

  const tokenError = (c: Context, error: string, status: 400 | 401, description?: string): Response => {
    const headers: Record<string, string> = { ...NO_STORE };
    if (status === 401) headers['WWW-Authenticate'] = 'Basic realm="attesto-drizzle example"';
    return c.json(description === undefined ? { error } : { error, error_description: description }, status, headers);
  };

  app.get('/.well-known/oauth-authorization-server', (c) => {
    const issuer = issuerOf(c);
    return c.json({
      issuer,
      authorization_endpoint: `${issuer}/authorize`,
      token_endpoint: `${issuer}/token`,
      introspection_endpoint: `${issuer}/introspect`,
      response_types_supported: ['code'],
      response_modes_supported: ['query'],
      grant_types_supported: ['authorization_code'],
      code_challenge_methods_supported: ['S256'],
      token_endpoint_auth_methods_supported: ['none'],
      introspection_endpoint_auth_methods_supported: ['client_secret_basic'],
      authorization_response_iss_parameter_supported: true,
    });
  });

  app.get('/authorize', async (c) => {
    const query = new URL(c.req.url).searchParams;
    const clientId = single(query, 'client_id');
    const redirectUri = single(query, 'redirect_uri');
    // Until the client and its redirect URI are known to belong together, never redirect (RFC 6749 §4.1.2.1).
    if (typeof clientId !== 'string') return errorPage(c, 'The request must name the client exactly once (client_id).');
    const client = clients.find((registered) => registered.clientId === clientId);
    if (client === undefined) return errorPage(c, 'Unknown client.');
    if (typeof redirectUri !== 'string') return errorPage(c, 'The request must name the redirect URI exactly once (redirect_uri).');
    if (!client.redirectUris.includes(redirectUri)) return errorPage(c, 'The redirect URI is not registered for this client.');

    const issuer = issuerOf(c);
    const state = single(query, 'state');
    const respond = (params: Record<string, string>): Response => {
      const target = new URL(redirectUri);
      for (const [name, value] of Object.entries(params)) target.searchParams.append(name, value);
      if (typeof state === 'string') target.searchParams.append('state', state);
      target.searchParams.append('iss', issuer);
      return c.redirect(target.toString(), 302);
    };
    const fail = (error: string, description: string): Response => {
      c.header('Cache-Control', 'no-store');
      return respond({ error, error_description: description });
    };

    const repeated = firstRepeated(query, ['resource']);
    if (repeated !== undefined) return fail('invalid_request', `The parameter ${repeated} was sent more than once.`);
    const responseType = query.get('response_type');
    if (responseType === null) return fail('invalid_request', 'response_type is required.');
    if (responseType !== 'code') return fail('unsupported_response_type', 'Only response_type=code is supported.');
    const codeChallenge = query.get('code_challenge');
    if (codeChallenge === null || codeChallenge === '') return fail('invalid_request', 'code_challenge is required (PKCE).');
    // An absent method means plain (RFC 7636 §4.3); only S256 is supported.
    if (query.get('code_challenge_method') !== 'S256') {
      return fail('invalid_request', 'code_challenge_method must be S256; plain is not supported.');
    }

    const familyId = crypto.randomUUID();
    try {
      const { code } = await issueCode(
        storeOf(c),
        {
          clientId,
          redirectUri,
          subject,
          codeChallenge,
          codeChallengeMethod: 'S256',
          scope: (query.get('scope') ?? '').split(' ').filter((token) => token !== ''),
          resource: query.getAll('resource'),
          nonce: query.get('nonce'),
          familyId,
        },
        { now, ttlSeconds: options.codeTtlSeconds },
      );
      emit({ type: 'code_issued', clientId, subject, familyId });
      c.header('Cache-Control', 'no-store');
      return respond({ code });
    } catch (error) {
      if (error instanceof InvalidAuthorizationRequestError) {
        if (error.code === 'invalid_scope') return fail('invalid_scope', 'The requested scope is malformed.');
        if (error.code === 'invalid_resource') return fail('invalid_target', 'The requested resource is not an absolute URI.');
        return fail('invalid_request', 'The authorization request is malformed.');
      }
      // The nonce is checked by the record rules.
      if (error instanceof InvalidCodeRecordError && error.field === 'data.nonce') {
        return fail('invalid_request', 'The nonce is too long.');
      }
      throw error;
    }
  });

  app.post('/token', async (c) => {
    const body = await formBody(c);
    if (body === undefined) return tokenError(c, 'invalid_request', 400, 'The body must be application/x-www-form-urlencoded.');
    const repeated = firstRepeated(body);
    if (repeated !== undefined) return tokenError(c, 'invalid_request', 400, `The parameter ${repeated} was sent more than once.`);
    const grantType = body.get('grant_type');
    if (grantType === null) return tokenError(c, 'invalid_request', 400, 'grant_type is required.');
    if (grantType !== 'authorization_code') return tokenError(c, 'unsupported_grant_type', 400);
    // Only public clients are registered: a client authenticates by naming itself, and PKCE binds the code.
    if (c.req.header('authorization') !== undefined) return tokenError(c, 'invalid_client', 401);
    const clientId = body.get('client_id');
    if (clientId === null || !clients.some((registered) => registered.clientId === clientId)) {
      return tokenError(c, 'invalid_client', 401);
    }
    const code = body.get('code');
    if (code === null || code === '') return tokenError(c, 'invalid_request', 400, 'code is required.');

    const store = storeOf(c);
    const result = await redeemCode(
      store,
      code,
      { clientId, redirectUri: body.get('redirect_uri') ?? '', codeVerifier: body.get('code_verifier') ?? '' },
      { now },
    );
    if (!result.ok) {
      if (result.error === 'reuse') {
        // A second redemption of a redeemed code: the first token may be in an attacker's hands (RFC 6749 §4.1.2).
        const revokedTokens = result.meta.familyId === null ? 0 : await store.revokeFamily(result.meta.familyId);
        emit({ type: 'replay_detected', familyId: result.meta.familyId, subject: result.meta.subject, revokedTokens });
      } else {
        emit({ type: 'token_rejected', reason: result.error });
      }
      return c.json(tokenErrorResponse(result), 400, NO_STORE);
    }

    const accessToken = generateCode();
    const jti = await digest(accessToken);
    const expiresAt = now() + accessTokenTtl;
    await finalizeCode(store, code, result.grant, { accessToken: { jti, expiresAt } });
    emit({ type: 'token_issued', clientId, subject: result.grant.subject, familyId: result.grant.familyId, jti });
    return c.json(
      {
        access_token: accessToken,
        token_type: 'Bearer',
        expires_in: accessTokenTtl,
        ...(result.grant.scope.length > 0 ? { scope: result.grant.scope.join(' ') } : {}),
      },
      200,
      NO_STORE,
    );
  });

  app.post('/introspect', async (c) => {
    const credentials = basicCredentials(c.req.header('authorization'));
    let authenticated = false;
    for (const server of resourceServers) {
      if (credentials !== undefined && credentials.id === server.id && (await sameSecret(credentials.secret, server.secret))) {
        authenticated = true;
      }
    }
    if (!authenticated) return tokenError(c, 'invalid_client', 401);
    const body = await formBody(c);
    if (body === undefined) return tokenError(c, 'invalid_request', 400, 'The body must be application/x-www-form-urlencoded.');
    const token = single(body, 'token');
    if (typeof token !== 'string' || token === '') return tokenError(c, 'invalid_request', 400, 'token is required once.');

    const db = options.database(c.env);
    const [row] = await db
      .select({
        clientId: authorizationCodes.clientId,
        subject: authorizationCodes.subject,
        scope: authorizationCodes.scope,
        resource: authorizationCodes.resource,
        consumedSuccess: authorizationCodes.consumedSuccess,
        expiresAt: authorizationCodes.accessTokenExpiresAt,
        revokedAt: authorizationCodes.accessTokenRevokedAt,
      })
      .from(authorizationCodes)
      .where(eq(authorizationCodes.accessTokenJti, await digest(token)))
      .limit(1);
    const exp = row?.expiresAt ? Math.floor(row.expiresAt.getTime() / 1000) : 0;
    if (row === undefined || !row.consumedSuccess || row.revokedAt !== null || exp <= now()) {
      return c.json({ active: false }, 200, NO_STORE);
    }
    return c.json(
      {
        active: true,
        client_id: row.clientId,
        sub: row.subject,
        token_type: 'Bearer',
        exp,
        iss: issuerOf(c),
        ...(row.scope.length > 0 ? { scope: row.scope.join(' ') } : {}),
        ...(row.resource.length > 0 ? { aud: row.resource } : {}),
      },
      200,
      NO_STORE,
    );
  });

  // The demo client's redirect URI lives on the same origin, so a browser run ends somewhere readable.
  app.get('/callback', (c) => {
    const query = new URL(c.req.url).searchParams;
    const rows = [...query.entries()].map(([name, value]) => `<dt>${escapeHTML(name)}</dt><dd><code>${escapeHTML(value)}</code></dd>`);
    return c.html(
      `<!doctype html><title>Demo client callback</title><h1>Demo client callback</h1><dl>${rows.join('')}</dl>` +
        '<p>Exchange the code at <code>POST /token</code> within its lifetime, with the PKCE code_verifier.</p>',
      200,
      NO_STORE,
    );
  });

  app.notFound((c) => c.json({ error: 'not_found' }, 404));
  app.onError((error, c) => {
    // Only the error's class and code: messages and causes stay out of responses.
    const code = error instanceof AttestoError ? `:${error.code}` : '';
    emit({ type: 'server_error', error: `${error.name}${code}` });
    return c.json({ error: 'server_error' }, 500, NO_STORE);
  });

  return app;
}
