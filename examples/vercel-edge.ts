/**
 * The example authorization server as a Vercel Edge function, over Neon's
 * HTTP driver. Place it as `api/[[...route]].ts` in a Vercel project (with a
 * rewrite of `/(.*)` to `/api/$1` so that the OAuth paths stay at the root)
 * and set `DATABASE_URL`; optionally `ISSUER`, `DEMO_REDIRECT_URI`,
 * `DEMO_RS_ID`, `DEMO_RS_SECRET`, and `NEON_FETCH_ENDPOINT` to send the
 * driver's queries to another SQL-over-HTTP endpoint (local development and
 * tests).
 *
 * Apply the migrations in `drizzle/` to the database before deploying
 * (`drizzle-kit migrate`); the function never changes the schema.
 */
import { neon, neonConfig } from '@neondatabase/serverless';
import { drizzle } from 'drizzle-orm/neon-http';
import { createApp, describeEvent, optionsFromEnvironment } from './app.js';

export const config = { runtime: 'edge' };

if (process.env.NEON_FETCH_ENDPOINT) neonConfig.fetchEndpoint = process.env.NEON_FETCH_ENDPOINT;

const app = createApp({
  ...optionsFromEnvironment(process.env),
  // A database handle per request, from the function's environment.
  database: () => {
    const url = process.env.DATABASE_URL;
    if (!url) throw new Error('DATABASE_URL is not set');
    return drizzle({ client: neon(url) });
  },
  onEvent: (event) => console.log(describeEvent(event)),
});

export default function handler(request: Request): Response | Promise<Response> {
  return app.fetch(request);
}
