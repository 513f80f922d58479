/**
 * Every Drizzle PostgreSQL database is accepted by createCodeStore without a
 * cast. This file is type-checked by `npm run typecheck`; at run time it
 * checks that creating a store does no I/O (nothing here connects).
 */
import { describe, expect, it } from 'vitest';
import pg from 'pg';
import postgres from 'postgres';
import { neon, Pool as NeonPool } from '@neondatabase/serverless';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg, type NodePgDatabase } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePostgresJs, type PostgresJsDatabase } from 'drizzle-orm/postgres-js';
import { drizzle as drizzleNeonHttp, type NeonHttpDatabase } from 'drizzle-orm/neon-http';
import { drizzle as drizzleNeonServerless, type NeonDatabase } from 'drizzle-orm/neon-serverless';
import { drizzle as drizzlePglite, type PgliteDatabase } from 'drizzle-orm/pglite';
import { createCodeStore, type CodeStore } from '../../src/index.js';

// An unreachable address: any attempt to connect would fail the test.
const URL_NOWHERE = 'postgres://nobody:secret@127.0.0.1:1/none';

describe('createCodeStore accepts every Drizzle PostgreSQL driver', () => {
  it('node-postgres, postgres.js, neon-http, neon-serverless and PGlite, with and without a schema', () => {
    const schema = {};
    const pool = new pg.Pool({ connectionString: URL_NOWHERE });
    pool.on('error', () => {});
    const sql = postgres(URL_NOWHERE, { max: 1 });
    const neonPool = new NeonPool({ connectionString: URL_NOWHERE });
    const lite = new PGlite({ dataDir: 'memory://types' });

    const nodePg: NodePgDatabase = drizzleNodePg(pool);
    const nodePgWithSchema: NodePgDatabase<typeof schema> = drizzleNodePg(pool, { schema });
    const postgresJs: PostgresJsDatabase = drizzlePostgresJs(sql);
    const neonHttp: NeonHttpDatabase = drizzleNeonHttp(neon(URL_NOWHERE));
    const neonServerless: NeonDatabase = drizzleNeonServerless(neonPool);
    const pglite: PgliteDatabase = drizzlePglite(lite);

    const stores: CodeStore[] = [
      createCodeStore(nodePg),
      createCodeStore(nodePgWithSchema),
      createCodeStore(postgresJs),
      createCodeStore(neonHttp),
      createCodeStore(neonServerless),
      createCodeStore(pglite),
    ];
    for (const store of stores) {
      expect(Object.keys(store).sort()).toEqual([
        'get',
        'isAccessTokenRevoked',
        'markConsumed',
        'put',
        'revokeFamily',
        'sweep',
        'take',
      ]);
    }
    expect(pool.totalCount).toBe(0);
    void sql.end({ timeout: 0 });
    void neonPool.end();
    void pool.end();
    void lite.close();
  });
});
