/**
 * The Vercel Edge function entry, bundled as a script and run in the Edge VM
 * (the `edge-runtime` package: Web APIs only, no code generation) behind its
 * HTTP server, over Neon's HTTP driver against the local Neon HTTP endpoint.
 * Vercel provides `process.env` to Edge functions; the VM gets just that.
 */
import { EdgeRuntime, runServer } from 'edge-runtime';
import { describe } from 'vitest';
import { bundleForEdge } from '../runtimes/bundle.js';
import { createMigratedDatabase } from '../support/database.js';
import { startNeonHTTPEndpoint } from '../support/neon-http-endpoint.js';
import { flowSuite } from './flow-suite.js';
import { OTHER_REDIRECT_URI, type Target } from './targets.js';

const CODE_TTL_SECONDS = 3;

async function edgeRuntime(): Promise<Target> {
  const bundle = await bundleForEdge(
    {
      contents:
        "import handler from './examples/vercel-edge.ts';\n" +
        'addEventListener("fetch", (event) => event.respondWith(handler(event.request)));\n',
    },
    { format: 'iife' },
  );
  const databaseURL = await createMigratedDatabase('example_edge');
  const endpoint = await startNeonHTTPEndpoint({ connections: 30 });
  const env = {
    DATABASE_URL: databaseURL,
    NEON_FETCH_ENDPOINT: endpoint.url,
    CODE_TTL_SECONDS: String(CODE_TTL_SECONDS),
    EXTRA_CLIENTS: `other=${OTHER_REDIRECT_URI}`,
  };
  let logs = '';
  const runtime = new EdgeRuntime({
    initialCode: bundle.code,
    extend: (context) =>
      Object.assign(context, {
        process: { env },
        console: { ...context.console, log: (...args: unknown[]) => void (logs += `${args.join(' ')}\n`) },
      }),
  });
  const server = await runServer({ runtime, port: 0, host: '127.0.0.1' });
  return {
    name: 'edge-runtime',
    baseURL: new URL(server.url).origin,
    fetch: (input, init) => fetch(input, init),
    async expireCodes() {
      await new Promise((resolve) => setTimeout(resolve, (CODE_TTL_SECONDS + 1) * 1000));
    },
    databaseURL,
    logs: () => logs,
    async close() {
      await server.close();
      await endpoint.close();
    },
  };
}

describe('example authorization server as a Vercel Edge function, over neon-http', () => {
  flowSuite(edgeRuntime);
});
