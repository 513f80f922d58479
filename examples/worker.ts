/**
 * The example authorization server as a Cloudflare Worker, over Neon's HTTP
 * driver: every statement is one HTTP request, no session and no interactive
 * transaction, which is all the store needs.
 *
 * Bindings: `DATABASE_URL` (a secret: `wrangler secret put DATABASE_URL`),
 * and optionally `ISSUER`, `DEMO_REDIRECT_URI`, `DEMO_RS_ID`,
 * `DEMO_RS_SECRET`, and `NEON_FETCH_ENDPOINT` to send the driver's queries to
 * another SQL-over-HTTP endpoint (local development and tests).
 *
 * Apply the migrations in `drizzle/` to the database before deploying
 * (`drizzle-kit migrate`); the Worker never changes the schema.
 */
import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import type { ExecutionContext, Hono } from 'hono';
import { createApp, describeEvent, optionsFromEnvironment } from './app.js';

export interface WorkerEnv {
  DATABASE_URL: string;
  ISSUER?: string;
  DEMO_REDIRECT_URI?: string;
  DEMO_RS_ID?: string;
  DEMO_RS_SECRET?: string;
  NEON_FETCH_ENDPOINT?: string;
  CODE_TTL_SECONDS?: string;
  EXTRA_CLIENTS?: string;
}

let app: Hono<{ Bindings: WorkerEnv }> | undefined;

export default {
  fetch(request: Request, env: WorkerEnv, context: ExecutionContext): Response | Promise<Response> {
    if (env.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = env.NEON_FETCH_ENDPOINT;
    // The bindings do not change within an isolate; the database handle is made per request.
    app ??= createApp<WorkerEnv>({
      ...optionsFromEnvironment({ ...env }),
      database: (bindings) => drizzle({ client: neon(bindings.DATABASE_URL) }),
      onEvent: (event) => console.log(describeEvent(event)),
    });
    return app.fetch(request, env, context);
  },
};
