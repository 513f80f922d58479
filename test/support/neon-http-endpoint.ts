/**
 * A local stand-in for Neon's SQL-over-HTTP endpoint, backed by the real
 * PostgreSQL of the test run through node-postgres, so that
 * `@neondatabase/serverless` (and `drizzle-orm/neon-http` on top of it) runs
 * unchanged against it via `neonConfig.fetchEndpoint`.
 *
 * It speaks what the driver (v1.2) sends and expects:
 *
 * - `POST` with the headers `Neon-Connection-String`, `Neon-Raw-Text-Output`
 *   and `Neon-Array-Mode`, plus `Neon-Batch-Isolation-Level`,
 *   `Neon-Batch-Read-Only` and `Neon-Batch-Deferrable` on a batch;
 * - a body of `{ query, params }`, or `{ queries: [{ query, params }, …] }`
 *   for a batch, which runs in one transaction and rolls back whole on error;
 * - a result of `{ command, rowCount, rows, fields, rowAsArray }` (a batch:
 *   `{ results: [...] }`) with every value in PostgreSQL's text output, which
 *   the driver then parses by `dataTypeID`;
 * - a database error as HTTP 400 with PostgreSQL's error fields (`message`,
 *   `code`, `detail`, `constraint`, …), which the driver copies onto its
 *   `NeonDbError`.
 *
 * Each query is one statement: the extended protocol refuses several
 * statements in one string, as Neon's endpoint does.
 *
 * For fault tests, `dropResponseOnce()` (or the `onAfterCommit` hook) lets a
 * request run and commit and then destroys the connection without an answer:
 * the client cannot know whether its statement took effect.
 */
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';
import pg from 'pg';

/** One HTTP request as the endpoint received it. */
export interface NeonHTTPRequest {
  /** The SQL text of each query, in order; one for a non-batch request. */
  readonly queries: readonly string[];
  readonly batch: boolean;
  /** The database the request named (path of `Neon-Connection-String`). */
  readonly database: string;
}

/** What a fault hook may decide after the request's statements committed. */
export type AfterCommitDecision = 'respond' | 'drop';

export interface NeonHTTPEndpointOptions {
  /** Pooled server connections per connection string (default 20). */
  connections?: number;
  /**
   * Runs after a request's statements committed (a batch: after `COMMIT`)
   * and before the response is written. `'drop'` destroys the connection
   * without an answer: an ambiguous commit, as when a network fails.
   */
  onAfterCommit?: (request: NeonHTTPRequest) => AfterCommitDecision | void | Promise<AfterCommitDecision | void>;
}

export interface NeonHTTPEndpoint {
  /** The URL to set as `neonConfig.fetchEndpoint`. */
  readonly url: string;
  /** Every request received, in order (successful or not). */
  readonly requests: NeonHTTPRequest[];
  /** The next request runs and commits, and then gets no response at all. */
  dropResponseOnce(): void;
  /** Stops the server and closes every pooled connection. */
  close(): Promise<void>;
}

/** The fields PostgreSQL reports on an error, as the driver reads them from the 400 body. */
const ERROR_FIELDS = [
  'severity',
  'code',
  'detail',
  'hint',
  'position',
  'internalPosition',
  'internalQuery',
  'where',
  'schema',
  'table',
  'column',
  'dataType',
  'constraint',
  'file',
  'line',
  'routine',
] as const;

const ISOLATION_LEVELS: Record<string, string> = {
  ReadUncommitted: 'read uncommitted',
  ReadCommitted: 'read committed',
  RepeatableRead: 'repeatable read',
  Serializable: 'serializable',
};

// Every value stays in PostgreSQL's text output; the driver parses it.
const textOutput = { getTypeParser: () => (value: string) => value };

interface QueryData {
  query: string;
  params: unknown[];
}

interface ResultBody {
  command: string;
  rowCount: number;
  rows: unknown[];
  fields: pg.FieldDef[];
  rowAsArray: boolean;
}

/** A client error (bad request) or a database error, answered with status 400. */
class RequestError extends Error {
  constructor(
    message: string,
    readonly fields: Record<string, unknown> = {},
  ) {
    super(message);
  }
}

function parseQueryData(value: unknown): QueryData {
  if (typeof value !== 'object' || value === null) throw new RequestError('query must be an object');
  const { query, params } = value as { query?: unknown; params?: unknown };
  if (typeof query !== 'string') throw new RequestError('query must be a string');
  if (params !== undefined && !Array.isArray(params)) throw new RequestError('params must be an array');
  return { query, params: params ?? [] };
}

function isDatabaseError(error: unknown): error is pg.DatabaseError {
  return error instanceof pg.DatabaseError;
}

function databaseErrorBody(error: pg.DatabaseError): Record<string, unknown> {
  const body: Record<string, unknown> = { message: error.message };
  for (const field of ERROR_FIELDS) {
    const value = error[field];
    if (value !== undefined) body[field] = value;
  }
  return body;
}

async function readBody(request: IncomingMessage): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of request) chunks.push(chunk as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function header(request: IncomingMessage, name: string): string | undefined {
  const value = request.headers[name.toLowerCase()];
  return Array.isArray(value) ? value[0] : value;
}

function toResultBody(result: pg.QueryResult<unknown[]>, arrayMode: boolean): ResultBody {
  const fields = result.fields.map((field) => ({
    name: field.name,
    tableID: field.tableID,
    columnID: field.columnID,
    dataTypeID: field.dataTypeID,
    dataTypeSize: field.dataTypeSize,
    dataTypeModifier: field.dataTypeModifier,
    format: field.format,
  }));
  const rows = arrayMode
    ? result.rows
    : result.rows.map((row) => Object.fromEntries(fields.map((field, i) => [field.name, row[i] ?? null])));
  return { command: result.command, rowCount: result.rowCount ?? 0, rows, fields, rowAsArray: arrayMode };
}

/** Starts the endpoint on 127.0.0.1 and an ephemeral port. */
export async function startNeonHTTPEndpoint(options: NeonHTTPEndpointOptions = {}): Promise<NeonHTTPEndpoint> {
  const pools = new Map<string, pg.Pool>();
  const sockets = new Set<Socket>();
  const requests: NeonHTTPRequest[] = [];
  let dropsPending = 0;

  const poolFor = (connectionString: string): pg.Pool => {
    let pool = pools.get(connectionString);
    if (pool === undefined) {
      pool = new pg.Pool({ connectionString, max: options.connections ?? 20 });
      // A server connection that dies while idle is replaced on the next request.
      pool.on('error', () => {});
      pools.set(connectionString, pool);
    }
    return pool;
  };

  const run = (client: pg.PoolClient, data: QueryData): Promise<pg.QueryResult<unknown[]>> =>
    client.query({
      text: data.query,
      values: data.params,
      rowMode: 'array',
      types: textOutput,
      // One statement per query, parsed and bound like Neon's endpoint does.
      queryMode: 'extended',
    } as pg.QueryArrayConfig);

  const execute = async (http: IncomingMessage): Promise<{ request: NeonHTTPRequest; body: unknown }> => {
    const connectionString = header(http, 'Neon-Connection-String');
    if (connectionString === undefined) throw new RequestError('missing Neon-Connection-String header');
    let url: URL;
    try {
      url = new URL(connectionString);
    } catch {
      throw new RequestError('Neon-Connection-String is not a valid URL');
    }
    if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
      throw new RequestError('Neon-Connection-String must be a postgres:// URL');
    }
    // The driver always asks for raw text output; the JSON-typed output of
    // Neon's endpoint is not served here, rather than served differently.
    if (header(http, 'Neon-Raw-Text-Output') !== 'true') {
      throw new RequestError('this endpoint serves only Neon-Raw-Text-Output: true');
    }
    const arrayMode = header(http, 'Neon-Array-Mode') === 'true';

    let payload: unknown;
    try {
      payload = JSON.parse(await readBody(http));
    } catch {
      throw new RequestError('request body is not JSON');
    }
    const isBatch = typeof payload === 'object' && payload !== null && 'queries' in payload;
    const queries = isBatch
      ? (() => {
          const list = (payload as { queries: unknown }).queries;
          if (!Array.isArray(list)) throw new RequestError('queries must be an array');
          return list.map(parseQueryData);
        })()
      : [parseQueryData(payload)];
    const request: NeonHTTPRequest = {
      queries: queries.map((q) => q.query),
      batch: isBatch,
      database: decodeURIComponent(url.pathname.slice(1)),
    };
    requests.push(request);

    let begin = 'begin';
    if (isBatch) {
      const isolation = header(http, 'Neon-Batch-Isolation-Level');
      if (isolation !== undefined) {
        const level = ISOLATION_LEVELS[isolation];
        if (level === undefined) throw new RequestError(`unknown Neon-Batch-Isolation-Level: ${isolation}`);
        begin += ` isolation level ${level}`;
      }
      const readOnly = header(http, 'Neon-Batch-Read-Only');
      if (readOnly !== undefined) begin += readOnly === 'true' ? ' read only' : ' read write';
      const deferrable = header(http, 'Neon-Batch-Deferrable');
      if (deferrable !== undefined) begin += deferrable === 'true' ? ' deferrable' : ' not deferrable';
    }

    let client: pg.PoolClient;
    try {
      client = await poolFor(connectionString).connect();
    } catch (error) {
      if (isDatabaseError(error)) throw new RequestError(error.message, databaseErrorBody(error));
      throw error;
    }
    let broken: Error | undefined;
    try {
      if (!isBatch) {
        const result = await run(client, queries[0]!);
        return { request, body: toResultBody(result, arrayMode) };
      }
      await client.query(begin);
      try {
        const results: ResultBody[] = [];
        for (const data of queries) results.push(toResultBody(await run(client, data), arrayMode));
        await client.query('commit');
        return { request, body: { results } };
      } catch (error) {
        await client.query('rollback').catch((rollbackError: Error) => {
          broken = rollbackError;
        });
        throw error;
      }
    } catch (error) {
      if (isDatabaseError(error)) throw new RequestError(error.message, databaseErrorBody(error));
      broken ??= error as Error;
      throw error;
    } finally {
      client.release(broken);
    }
  };

  const respond = (response: ServerResponse, status: number, body: unknown): void => {
    const text = JSON.stringify(body);
    response.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
    response.end(text);
  };

  const server = createServer((http, response) => {
    if (http.method !== 'POST') {
      respond(response, 405, { message: 'only POST is served' });
      return;
    }
    void (async () => {
      let outcome: { request: NeonHTTPRequest; body: unknown };
      try {
        outcome = await execute(http);
      } catch (error) {
        if (error instanceof RequestError) respond(response, 400, { message: error.message, ...error.fields });
        else respond(response, 500, { message: error instanceof Error ? error.message : String(error) });
        return;
      }
      let decision: AfterCommitDecision | void = 'respond';
      if (dropsPending > 0) {
        dropsPending--;
        decision = 'drop';
      } else if (options.onAfterCommit) {
        try {
          decision = await options.onAfterCommit(outcome.request);
        } catch (error) {
          respond(response, 500, { message: `onAfterCommit failed: ${String(error)}` });
          return;
        }
      }
      if (decision === 'drop') {
        http.socket.destroy();
        return;
      }
      respond(response, 200, outcome.body);
    })();
  });
  // Racing tests open thousands of keep-alive connections at once on a busy
  // machine: outlive the client's idle timeout so that the server never closes
  // a socket the client is just reusing (a reset, not a database outcome).
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  server.requestTimeout = 0;
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ port: 0, host: '127.0.0.1', backlog: 4096 }, () => resolve());
  });
  const { port } = server.address() as AddressInfo;

  return {
    url: `http://127.0.0.1:${port}/sql`,
    requests,
    dropResponseOnce() {
      dropsPending++;
    },
    async close() {
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      await Promise.all([...pools.values()].map((pool) => pool.end()));
      pools.clear();
    },
  };
}
