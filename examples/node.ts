/**
 * `npm start`: the example authorization server on Node.js.
 *
 * Without `DATABASE_URL` it runs an embedded PostgreSQL whose data lives in
 * `.data/postgres` (kept between runs), applies the migrations in `drizzle/`
 * and serves on 127.0.0.1:`PORT` (default 8788).
 *
 * Environment: `PORT`, `DATABASE_URL`, and the options read by
 * `optionsFromEnvironment` in `app.ts` (`ISSUER`, `DEMO_REDIRECT_URI`, …).
 */
import { serve } from '@hono/node-server';
import { drizzle } from 'drizzle-orm/node-postgres';
import { migrate } from 'drizzle-orm/node-postgres/migrator';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { startPostgres, type PostgresServer } from '../test/support/postgres.js';
import { createApp, describeEvent, optionsFromEnvironment } from './app.js';

const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));
const dataDir = fileURLToPath(new URL('../.data/postgres', import.meta.url));
const DATABASE = 'attesto_example';

async function embeddedDatabase(): Promise<{ url: string; server: PostgresServer }> {
  const server = await startPostgres({ dataDir });
  const admin = new pg.Client({ connectionString: server.url });
  await admin.connect();
  try {
    const { rowCount } = await admin.query('select 1 from pg_database where datname = $1', [DATABASE]);
    if (rowCount === 0) await admin.query(`create database ${DATABASE}`);
  } finally {
    await admin.end();
  }
  return { url: server.urlFor(DATABASE), server };
}

async function main(): Promise<void> {
  const embedded = process.env.DATABASE_URL ? undefined : await embeddedDatabase();
  const databaseUrl = process.env.DATABASE_URL || embedded!.url;
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 20 });
  pool.on('error', () => {});
  await migrate(drizzle(pool), { migrationsFolder });

  const app = createApp({
    ...optionsFromEnvironment(process.env),
    // One pool for the process; the Drizzle handle is made per request, as on the edge.
    database: () => drizzle(pool),
    onEvent: (event) => console.log(`  ${describeEvent(event)}`),
  });

  const port = Number(process.env.PORT ?? 8788);
  const server = serve({ fetch: app.fetch, port, hostname: '127.0.0.1' }, (info) => {
    console.log(`attesto-drizzle example authorization server listening on http://127.0.0.1:${info.port}`);
    console.log(`  metadata: http://127.0.0.1:${info.port}/.well-known/oauth-authorization-server`);
    console.log(embedded ? `  database: embedded PostgreSQL, data in ${dataDir}` : '  database: DATABASE_URL');
  });

  let stopping = false;
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    server.close();
    void pool
      .end()
      .then(() => embedded?.server.stop())
      .finally(() => process.exit());
  };
  server.once('error', (error: NodeJS.ErrnoException) => {
    console.error(
      error.code === 'EADDRINUSE' ? `port ${port} is in use; set PORT to another one` : `server error: ${error.message}`,
    );
    process.exitCode = 1;
    stop();
  });
  process.once('SIGINT', stop);
  process.once('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error('could not start the example authorization server:', error);
  process.exit(1);
});
