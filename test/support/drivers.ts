/**
 * Database factories: the contract and race suites are written once against
 * this interface and run unchanged over every driver.
 */
import pg from 'pg';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { PGlite } from '@electric-sql/pglite';
import type { CodeStoreDatabase } from '../../src/index.js';
import { createMigratedDatabase, migrationsFolder } from './database.js';

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

export const nodePostgres: DriverFactory = {
  name: 'node-postgres',
  separateConnections: true,
  async open(options = {}) {
    const url = await createMigratedDatabase('node_pg');
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
