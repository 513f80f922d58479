import type { TestProject } from 'vitest/node';
import { startPostgres, type PostgresServer } from './postgres.js';

declare module 'vitest' {
  export interface ProvidedContext {
    /** Admin URL of the PostgreSQL started for this run. */
    postgresUrl: string;
  }
}

let server: PostgresServer | undefined;

// No test that needs PostgreSQL may skip: if it cannot start, the run fails here.
export async function setup(project: TestProject): Promise<void> {
  server = await startPostgres();
  project.provide('postgresUrl', server.url);
}

export async function teardown(): Promise<void> {
  await server?.destroy();
}
