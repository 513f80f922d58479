/**
 * Database factories: the contract and race suites are written once against
 * this interface and run unchanged over every driver.
 */
import pg from 'pg';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js';
import { drizzle as drizzleNeonHttp } from 'drizzle-orm/neon-http';
import { drizzle as drizzleNeonServerless } from 'drizzle-orm/neon-serverless';
import { PGlite } from '@electric-sql/pglite';
import postgres from 'postgres';
import { neon, neonConfig, Pool as NeonPool } from '@neondatabase/serverless';
import type { CodeStoreDatabase } from '../../src/index.js';
import { createMigratedDatabase, migrationsFolder } from './database.js';
import { startNeonHTTPEndpoint, type NeonHTTPEndpoint } from './neon-http-endpoint.js';
import { startNeonWebSocketRelay, type NeonWebSocketRelay } from './neon-ws-relay.js';

export interface TestDatabase {
  /** A Drizzle database whose statements are counted. */
  db: CodeStoreDatabase;
  /** Every SQL statement Drizzle sent, in order. */
  statements: string[];
  /** Runs raw SQL for assertions outside the store (not counted). */
  query<T = Record<string, unknown>>(text: string, params?: unknown[]): Promise<T[]>;
  close(): Promise<void>;
}

export interface DriverFactory {
  readonly name: string;
  /** Whether racing callers use separate server connections. */
  readonly separateConnections: boolean;
  /** A database with the migrations applied; `connections` sizes the pool. */
  open(options?: { connections?: number }): Promise<TestDatabase>;
}

/** A Drizzle logger that records every statement sent. */
export function statementLog(statements: string[]): { logQuery(query: string): void } {
  return { logQuery: (query: string) => void statements.push(query) };
}

/** A driver over a PostgreSQL server, which can also attach to an existing database. */
export interface ServerDriverFactory extends DriverFactory {
  /** Connects to an already migrated database by URL. */
  connect(url: string, options?: { connections?: number }): Promise<TestDatabase>;
}

export const nodePostgres: ServerDriverFactory = {
  name: 'node-postgres',
  separateConnections: true,
  async open(options = {}) {
    return this.connect(await createMigratedDatabase('node_pg'), options);
  },
  async connect(url, options = {}) {
    const pool = new pg.Pool({ connectionString: url, max: options.connections ?? 10 });
    pool.on('error', () => {});
    const statements: string[] = [];
    return {
      db: drizzleNodePg(pool, { logger: statementLog(statements) }),
      statements,
      query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[],
      close: () => pool.end(),
    };
  },
};

export const pglite: DriverFactory = {
  name: 'pglite',
  separateConnections: false,
  async open() {
    const client = new PGlite();
    const statements: string[] = [];
    const db = drizzlePglite(client, { logger: statementLog(statements) });
    await migratePglite(db, { migrationsFolder });
    statements.length = 0;
    return {
      db,
      statements,
      query: async <T>(text: string, params?: unknown[]) => (await client.query<T>(text, params)).rows,
      close: () => client.close(),
    };
  },
};

export const postgresJs: ServerDriverFactory = {
  name: 'postgres.js',
  separateConnections: true,
  async open(options = {}) {
    return this.connect(await createMigratedDatabase('postgres_js'), options);
  },
  async connect(url, options = {}) {
    const sql = postgres(url, { max: options.connections ?? 10, onnotice: () => {} });
    const statements: string[] = [];
    return {
      db: drizzlePostgresJs(sql, { logger: statementLog(statements) }),
      statements,
      query: async <T>(text: string, params?: unknown[]) =>
        (await sql.unsafe(text, (params ?? []) as postgres.ParameterOrJSON<never>[])) as unknown as T[],
      close: () => sql.end({ timeout: 5 }),
    };
  },
};

/**
 * One process-wide resource shared by every open database: the Neon driver's
 * `fetchEndpoint` and `wsProxy` are global settings, so one local endpoint
 * (and one relay) serves every database of the process, each request naming
 * its database in the connection string. Started on first use, closed when
 * the last database using it is closed.
 */
function shared<T extends { close(): Promise<void> }>(start: () => Promise<T>): {
  acquire(): Promise<T>;
  release(): Promise<void>;
} {
  let users = 0;
  let instance: Promise<T> | undefined;
  return {
    async acquire() {
      // Counted before waiting, so that a release meanwhile cannot close it under us.
      users++;
      instance ??= start();
      try {
        return await instance;
      } catch (error) {
        users--;
        // A failed start is not cached: the next caller tries again.
        if (users === 0) instance = undefined;
        throw error;
      }
    },
    async release() {
      users--;
      if (users > 0 || instance === undefined) return;
      const closing = instance;
      instance = undefined;
      await (await closing).close();
    },
  };
}

const neonHTTPEndpoint = shared<NeonHTTPEndpoint>(async () => {
  // Racers of one code each need a server connection of their own.
  const endpoint = await startNeonHTTPEndpoint({ connections: 40 });
  neonConfig.fetchEndpoint = endpoint.url;
  return endpoint;
});

const neonRelay = shared<NeonWebSocketRelay>(async () => {
  const relay = await startNeonWebSocketRelay();
  relay.configure(neonConfig);
  return relay;
});

/**
 * Neon's HTTP driver: every statement is one stateless HTTP request, no
 * session, no interactive transaction. Concurrent requests run on separate
 * server connections of the endpoint's pool (40), whatever `connections` says.
 */
export const neonHttp: ServerDriverFactory = {
  name: 'neon-http',
  separateConnections: true,
  async open(options = {}) {
    return this.connect(await createMigratedDatabase('neon_http'), options);
  },
  async connect(url) {
    await neonHTTPEndpoint.acquire();
    const sql = neon(url);
    const statements: string[] = [];
    return {
      db: drizzleNeonHttp({ client: sql, logger: statementLog(statements) }),
      statements,
      query: async <T>(text: string, params?: unknown[]) => (await sql.query(text, params ?? [])) as T[],
      close: () => neonHTTPEndpoint.release(),
    };
  },
};

/** Neon's `Pool` over WebSockets (node-postgres wire protocol through the relay). */
export const neonServerless: ServerDriverFactory = {
  name: 'neon-serverless',
  separateConnections: true,
  async open(options = {}) {
    return this.connect(await createMigratedDatabase('neon_ws'), options);
  },
  async connect(url, options = {}) {
    await neonRelay.acquire();
    const pool = new NeonPool({ connectionString: url, max: options.connections ?? 10 });
    pool.on('error', () => {});
    const statements: string[] = [];
    return {
      db: drizzleNeonServerless({ client: pool, logger: statementLog(statements) }),
      statements,
      query: async <T>(text: string, params?: unknown[]) => (await pool.query(text, params)).rows as T[],
      close: async () => {
        await pool.end();
        await neonRelay.release();
      },
    };
  },
};

/** Every driver that talks to a PostgreSQL server, for races across drivers on one database. */
export const serverDrivers: readonly ServerDriverFactory[] = [nodePostgres, postgresJs, neonHttp, neonServerless];
