/**
 * The Cloudflare Worker entry, bundled as wrangler would and run inside
 * workerd by miniflare, over Neon's HTTP driver against the local Neon HTTP
 * endpoint: the same oauth4webapi flow as on Node, reached over HTTP.
 */
import { Miniflare } from 'miniflare';
import { fileURLToPath } from 'node:url';
import type { Readable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { computeS256Challenge } from '../../src/index.js';
import { bundleForEdge } from '../runtimes/bundle.js';
import { createMigratedDatabase } from '../support/database.js';
import { startNeonHTTPEndpoint } from '../support/neon-http-endpoint.js';
import { flowSuite } from './flow-suite.js';
import { OTHER_REDIRECT_URI, REDIRECT_URI, type Target } from './targets.js';
import type { NeonHTTPEndpoint } from '../support/neon-http-endpoint.js';

const CODE_TTL_SECONDS = 3;
let current: { target: Target; endpoint: NeonHTTPEndpoint } | undefined;

async function workerd(): Promise<Target> {
  // Bundled as wrangler would: a module Worker with no Node built-ins to resolve.
  const bundle = await bundleForEdge(
    { entry: fileURLToPath(new URL('../../examples/worker.ts', import.meta.url)) },
    { format: 'esm' },
  );
  const databaseURL = await createMigratedDatabase('example_workerd');
  const endpoint = await startNeonHTTPEndpoint({ connections: 30 });
  let logs = '';
  const collect = (stream: Readable): void => {
    stream.on('data', (chunk: Buffer) => (logs += chunk.toString()));
  };
  const mf = new Miniflare({
    modules: true,
    script: bundle.code,
    compatibilityDate: '2025-12-01',
    host: '127.0.0.1',
    port: 0,
    bindings: {
      DATABASE_URL: databaseURL,
      NEON_FETCH_ENDPOINT: endpoint.url,
      CODE_TTL_SECONDS: String(CODE_TTL_SECONDS),
      EXTRA_CLIENTS: `other=${OTHER_REDIRECT_URI}`,
    },
    handleRuntimeStdio: (stdout, stderr) => {
      collect(stdout);
      collect(stderr);
    },
  });
  const url = await mf.ready;
  const target: Target = {
    name: 'workerd',
    baseURL: url.origin,
    fetch: (input, init) => fetch(input, init),
    async expireCodes() {
      await new Promise((resolve) => setTimeout(resolve, (CODE_TTL_SECONDS + 1) * 1000));
    },
    databaseURL,
    logs: () => logs,
    async close() {
      await mf.dispose();
      await endpoint.close();
    },
  };
  current = { target, endpoint };
  return target;
}

describe('example authorization server inside workerd, over neon-http', () => {
  flowSuite(workerd);

  it('exchanges a code in two HTTP round trips to the database, with no transaction', async () => {
    const { target, endpoint } = current!;
    const verifier = 'dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk';
    const authorize = new URL('/authorize', target.baseURL);
    authorize.search = new URLSearchParams({
      client_id: 'demo',
      redirect_uri: REDIRECT_URI,
      response_type: 'code',
      code_challenge: await computeS256Challenge(verifier),
      code_challenge_method: 'S256',
    }).toString();
    const redirect = await fetch(authorize, { redirect: 'manual' });
    const code = new URL(redirect.headers.get('location')!).searchParams.get('code')!;
    const before = endpoint.requests.length;
    const response = await fetch(new URL('/token', target.baseURL), {
      method: 'POST',
      body: new URLSearchParams({
        grant_type: 'authorization_code',
        client_id: 'demo',
        code,
        redirect_uri: REDIRECT_URI,
        code_verifier: verifier,
      }),
    });
    expect(response.status).toBe(200);
    const requests = endpoint.requests.slice(before);
    expect(requests).toHaveLength(2);
    expect(requests.every((request) => !request.batch && request.queries.length === 1)).toBe(true);
  });
});
