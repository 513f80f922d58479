/**
 * The benchmark: per driver, each store operation against the same statement
 * sent raw through the driver; then three redemption designs under
 * contention, at loopback and through a latency-injecting proxy.
 *
 *   npm run bench -- [--rtt-ms 5] [--json] [--ops 600] [--rounds 5]
 *
 * Starts its own PostgreSQL; nothing else is needed.
 */
import { randomBytes } from 'node:crypto';
import { cpus, totalmem } from 'node:os';
import { performance } from 'node:perf_hooks';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { PGlite } from '@electric-sql/pglite';
import { drizzle as drizzleNodePg } from 'drizzle-orm/node-postgres';
import { migrate as migrateNodePg } from 'drizzle-orm/node-postgres/migrator';
import { drizzle as drizzlePglite } from 'drizzle-orm/pglite';
import { migrate as migratePglite } from 'drizzle-orm/pglite/migrator';
import { drizzle as drizzleNeonHttp } from 'drizzle-orm/neon-http';
import { drizzle as drizzlePostgresJs } from 'drizzle-orm/postgres-js';
import { neon, neonConfig } from '@neondatabase/serverless';
import pg from 'pg';
import postgres from 'postgres';
import {
  computeS256Challenge,
  createCodeStore,
  finalizeCode,
  generateCode,
  issueCode,
  redeemCode,
  type CodeEntry,
  type CodeStore,
  type CodeStoreDatabase,
} from '../src/index.js';
import { validEntry } from '../test/support/entries.js';
import { startNeonHTTPEndpoint } from '../test/support/neon-http-endpoint.js';
import { startPostgres } from '../test/support/postgres.js';
import { startLatencyProxy } from './latency-proxy.js';

// ---------------------------------------------------------------- options

function argument(name: string): string | undefined {
  const i = process.argv.indexOf(name);
  return i === -1 ? undefined : process.argv[i + 1];
}

const json = process.argv.includes('--json');
const rttMs = Number(argument('--rtt-ms') ?? 5);
const opsPerRound = Number(argument('--ops') ?? 600);
const rounds = Number(argument('--rounds') ?? 5);
if (!Number.isFinite(rttMs) || rttMs < 0) throw new RangeError('--rtt-ms must be a non-negative number');
if (!Number.isInteger(opsPerRound) || opsPerRound < 10) throw new RangeError('--ops must be an integer of at least 10');
if (!Number.isInteger(rounds) || rounds < 1) throw new RangeError('--rounds must be a positive integer');

/** Progress goes to stderr so that `--json` leaves stdout to the result. */
const progress = (line: string): void => void process.stderr.write(`${line}\n`);
const migrationsFolder = fileURLToPath(new URL('../drizzle', import.meta.url));
const TABLE = 'attesto_authorization_codes';
const CONCURRENCY = 4;

// ---------------------------------------------------------------- fixtures

const newHash = (): string => randomBytes(32).toString('base64url');
const hashes = (n: number): string[] => Array.from({ length: n }, newHash);
const EXPIRES_AT = Math.floor(Date.now() / 1000) + 3600;

function entry(codeHash: string): CodeEntry {
  return validEntry(
    codeHash,
    {
      clientId: 'bench-client',
      subject: 'bench-user',
      resource: ['https://api.example/'],
      nonce: 'n-0S6_WzA2Mj',
      familyId: 'family-bench',
      claims: { auth_time: 1_700_000_000, acr: 'urn:mace:incommon:iap:silver' },
    },
    EXPIRES_AT,
  );
}

const MARK_META = { familyId: 'family-bench', accessToken: { jti: 'jti-bench', expiresAt: EXPIRES_AT } };

// ---------------------------------------------------------------- statistics

interface Stats {
  opsPerSec: number;
  p50Ms: number;
  p99Ms: number;
  statements: number;
}

function percentile(sorted: number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/** Runs `n` calls with `concurrency` in flight; returns throughput and every latency. */
async function measure(
  n: number,
  concurrency: number,
  call: (i: number) => Promise<unknown>,
): Promise<{ opsPerSec: number; latencies: number[] }> {
  const latencies: number[] = [];
  let next = 0;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < n) {
        const i = next++;
        const t = performance.now();
        await call(i);
        latencies.push(performance.now() - t);
      }
    }),
  );
  return { opsPerSec: n / ((performance.now() - started) / 1000), latencies };
}

/** Collects rounds of one operation into its figures: median throughput, pooled latencies. */
class Series {
  private readonly throughputs: number[] = [];
  private readonly latencies: number[] = [];
  private statementCount = 0;
  private calls = 0;

  add(result: { opsPerSec: number; latencies: number[] }, statements: number): void {
    this.throughputs.push(result.opsPerSec);
    for (const l of result.latencies) this.latencies.push(l);
    this.statementCount += statements;
    this.calls += result.latencies.length;
  }

  stats(): Stats {
    const sorted = [...this.latencies].sort((a, b) => a - b);
    return {
      opsPerSec: Math.round(median(this.throughputs)),
      p50Ms: round3(percentile(sorted, 50)),
      p99Ms: round3(percentile(sorted, 99)),
      statements: round3(this.statementCount / this.calls),
    };
  }
}

const round3 = (x: number): number => Math.round(x * 1000) / 1000;

// ---------------------------------------------------------------- drivers

interface BenchDriver {
  name: string;
  /** Concurrency the driver can use: a pool, or one in-process connection. */
  concurrency: number;
  db: CodeStoreDatabase;
  /** Sends a statement through the driver itself, without Drizzle. */
  raw(text: string, params: unknown[]): Promise<unknown>;
  close(): Promise<void>;
}

/** A Drizzle logger that counts statements and remembers the last one. */
class StatementCounter {
  count = 0;
  last: { query: string; params: unknown[] } | undefined;
  logQuery(query: string, params: unknown[]): void {
    this.count++;
    this.last = { query, params };
  }
}

interface Counted {
  driver: BenchDriver;
  counter: StatementCounter;
}

async function nodePostgresDriver(url: string, counter: StatementCounter): Promise<BenchDriver> {
  const pool = new pg.Pool({ connectionString: url, max: CONCURRENCY });
  pool.on('error', () => {});
  return {
    name: 'node-postgres',
    concurrency: CONCURRENCY,
    db: drizzleNodePg(pool, { logger: counter }),
    raw: (text, params) => pool.query(text, params),
    close: () => pool.end(),
  };
}

async function postgresJsDriver(url: string, counter: StatementCounter): Promise<BenchDriver> {
  const sql = postgres(url, { max: CONCURRENCY, onnotice: () => {} });
  return {
    name: 'postgres.js',
    concurrency: CONCURRENCY,
    db: drizzlePostgresJs(sql, { logger: counter }),
    // The same protocol Drizzle uses on postgres.js: no server-side prepare.
    raw: (text, params) => sql.unsafe(text, params as postgres.ParameterOrJSON<never>[], { prepare: false }),
    close: () => sql.end({ timeout: 5 }),
  };
}

/**
 * Neon's HTTP driver through the local stand-in for Neon's SQL-over-HTTP
 * endpoint (in this process, backed by the same PostgreSQL): every statement
 * is one HTTP request.
 */
async function neonHttpDriver(url: string, counter: StatementCounter): Promise<BenchDriver> {
  const endpoint = await startNeonHTTPEndpoint({ connections: CONCURRENCY });
  neonConfig.fetchEndpoint = endpoint.url;
  const sql = neon(url);
  return {
    name: 'neon-http',
    concurrency: CONCURRENCY,
    db: drizzleNeonHttp({ client: sql, logger: counter }),
    raw: (text, params) => sql.query(text, params),
    close: () => endpoint.close(),
  };
}

async function pgliteDriver(counter: StatementCounter): Promise<BenchDriver> {
  const client = new PGlite();
  await migratePglite(drizzlePglite(client), { migrationsFolder });
  return {
    name: 'pglite',
    concurrency: 1,
    db: drizzlePglite(client, { logger: counter }),
    raw: (text, params) => client.query(text, params),
    close: () => client.close(),
  };
}

// ---------------------------------------------------------------- per-driver operations

const OPS = ['put', 'get', 'takeHit', 'takeMiss', 'markConsumed'] as const;
type Op = (typeof OPS)[number];

interface OpFigures {
  store: Stats;
  raw: Stats;
  /** store ops/s divided by raw ops/s. */
  ratio: number;
}

/**
 * The raw baseline replays exactly the statement Drizzle sent (text and
 * parameters, captured once from the logger), with the code hash swapped in.
 */
async function template(counter: StatementCounter, hash: string, call: () => Promise<unknown>) {
  const before = counter.count;
  await call();
  const captured = counter.last;
  if (captured === undefined || counter.count !== before + 1) throw new Error('expected exactly one statement');
  return (codeHash: string): [string, unknown[]] => [
    captured.query,
    captured.params.map((p) => (p === hash ? codeHash : p)),
  ];
}

async function benchDriver({ driver, counter }: Counted): Promise<Record<Op, OpFigures>> {
  const store = createCodeStore(driver.db);
  const c = driver.concurrency;

  // Templates of the raw statements, from one call of each store method.
  const [t] = hashes(1);
  const putSQL = await template(counter, t!, () => store.put(entry(t!)));
  const getSQL = await template(counter, t!, () => store.get(t!));
  const takeSQL = await template(counter, t!, () => store.take(t!));
  const markSQL = await template(counter, t!, () => store.markConsumed(t!, MARK_META));
  const raw = (sqlFor: (h: string) => [string, unknown[]], h: string) => driver.raw(...sqlFor(h));

  const series = Object.fromEntries(OPS.map((op) => [op, { store: new Series(), raw: new Series() }])) as Record<
    Op,
    { store: Series; raw: Series }
  >;

  // One round: each operation measured for the store and for raw SQL side by
  // side (the order alternating between rounds), so that drift in the machine's
  // load hits both alike. Each side works on its own codes.
  const round = async (n: number, record: boolean, storeFirst: boolean): Promise<void> => {
    const codes = { store: hashes(n), raw: hashes(n) };
    const misses = hashes(n);
    const calls: Record<Op, { store: (i: number) => Promise<unknown>; raw: (i: number) => Promise<unknown> }> = {
      put: { store: (i) => store.put(entry(codes.store[i]!)), raw: (i) => raw(putSQL, codes.raw[i]!) },
      get: { store: (i) => store.get(codes.store[i]!), raw: (i) => raw(getSQL, codes.raw[i]!) },
      takeHit: { store: (i) => store.take(codes.store[i]!), raw: (i) => raw(takeSQL, codes.raw[i]!) },
      takeMiss: { store: (i) => store.take(misses[i]!), raw: (i) => raw(takeSQL, misses[i]!) },
      markConsumed: {
        store: (i) => store.markConsumed(codes.store[i]!, MARK_META),
        raw: (i) => raw(markSQL, codes.raw[i]!),
      },
    };
    for (const op of OPS) {
      for (const side of storeFirst ? (['store', 'raw'] as const) : (['raw', 'store'] as const)) {
        const before = counter.count;
        const result = await measure(n, c, calls[op][side]);
        // Raw SQL is one statement per call by construction.
        if (record) series[op][side].add(result, side === 'store' ? counter.count - before : n);
      }
    }
  };

  // Warm up the JIT, the pool and the server's caches.
  await round(Math.min(300, opsPerRound), false, true);
  const n = driver.name === 'pglite' ? Math.max(10, Math.floor(opsPerRound / 2)) : opsPerRound;
  for (let r = 0; r < rounds; r++) await round(n, true, r % 2 === 0);

  return Object.fromEntries(
    OPS.map((op) => {
      const s = series[op].store.stats();
      const r = series[op].raw.stats();
      return [op, { store: s, raw: r, ratio: round3(s.opsPerSec / r.opsPerSec) }];
    }),
  ) as Record<Op, OpFigures>;
}

// ---------------------------------------------------------------- full exchange

interface ExchangeFigures extends Stats {
  /** Statements of redeemCode + finalizeCode alone: the exchange at the token endpoint. */
  exchangeRoundTrips: number;
}

/**
 * The full exchange: issueCode at the authorization endpoint, then redeemCode
 * and finalizeCode at the token endpoint (with an access token recorded).
 */
async function benchExchange({ driver, counter }: Counted): Promise<ExchangeFigures> {
  const store = createCodeStore(driver.db);
  const verifier = generateCode();
  const attributes = {
    clientId: 'bench-client',
    redirectUri: 'https://client.example/callback',
    subject: 'bench-user',
    codeChallenge: await computeS256Challenge(verifier),
    codeChallengeMethod: 'S256',
    scope: ['openid'],
    familyId: 'family-bench',
  };
  const params = { clientId: 'bench-client', redirectUri: 'https://client.example/callback', codeVerifier: verifier };
  const one = async (): Promise<number> => {
    const { code } = await issueCode(store, attributes);
    const before = counter.count;
    const result = await redeemCode(store, code, params);
    if (!result.ok) throw new Error(`exchange failed: ${result.error}`);
    await finalizeCode(store, code, result.grant, { accessToken: { jti: generateCode(), expiresAt: EXPIRES_AT } });
    return counter.count - before;
  };
  // Round trips of the exchange, counted one exchange at a time (concurrent
  // exchanges would share the statement counter).
  let exchangeStatements = 0;
  const sequential = 20;
  for (let i = 0; i < sequential; i++) exchangeStatements += await one();
  const exchanges = sequential;
  await measure(Math.min(200, opsPerRound), driver.concurrency, one);
  const series = new Series();
  const n = driver.name === 'pglite' ? Math.max(10, Math.floor(opsPerRound / 2)) : opsPerRound;
  for (let r = 0; r < rounds; r++) {
    const before = counter.count;
    series.add(await measure(n, driver.concurrency, one), counter.count - before);
  }
  return { ...series.stats(), exchangeRoundTrips: round3(exchangeStatements / exchanges) };
}

// ---------------------------------------------------------------- designs under contention

const DESIGNS = ['singleStatement', 'readThenWrite', 'selectForUpdate'] as const;
type Design = (typeof DESIGNS)[number];

interface DesignFigures {
  opsPerSec: number;
  roundTrips: number;
  doubleRedemptions: number;
  /** Codes raced, racers per code. */
  codes: number;
  racersPerCode: number;
}

const DESIGN_POOL = 16;
const RACERS_PER_CODE = 8;
const CODES_IN_FLIGHT = 4;

/**
 * One redemption attempt in each design; resolves whether this caller won,
 * counting every round trip it makes.
 */
function designs(
  pool: pg.Pool,
  store: CodeStore,
  trips: { count: number },
): Record<Design, (codeHash: string) => Promise<boolean>> {
  return {
    // This store: one conditional UPDATE in a data-modifying CTE.
    singleStatement: async (codeHash) => (await store.take(codeHash)).status === 'taken',

    // Find, check `consumed`, then mark (node-oidc-provider, Spring
    // Authorization Server, OpenAuth): nothing stops two readers both seeing
    // the code unconsumed.
    readThenWrite: async (codeHash) => {
      trips.count++;
      const { rows } = await pool.query<{ consumed_at: Date | null }>(
        `select consumed_at from ${TABLE} where code_hash = $1`,
        [codeHash],
      );
      const row = rows[0];
      if (row === undefined || row.consumed_at !== null) return false;
      trips.count++;
      await pool.query(`update ${TABLE} set consumed_at = now() where code_hash = $1`, [codeHash]);
      return true;
    },

    // SELECT … FOR UPDATE in a transaction (Doorkeeper's lock!): correct,
    // but four round trips with the row locked across two of them.
    selectForUpdate: async (codeHash) => {
      const client = await pool.connect();
      try {
        trips.count++;
        await client.query('begin');
        trips.count++;
        const { rows } = await client.query<{ consumed_at: Date | null }>(
          `select consumed_at from ${TABLE} where code_hash = $1 for update`,
          [codeHash],
        );
        const row = rows[0];
        if (row === undefined || row.consumed_at !== null) {
          trips.count++;
          await client.query('commit');
          return false;
        }
        trips.count++;
        await client.query(`update ${TABLE} set consumed_at = now() where code_hash = $1`, [codeHash]);
        trips.count++;
        await client.query('commit');
        return true;
      } catch (error) {
        await client.query('rollback').catch(() => {});
        throw error;
      } finally {
        client.release();
      }
    },
  };
}

async function benchDesigns(
  adminUrl: string,
  port: number,
  rtt: number,
  codesPerDesign: number,
): Promise<Record<Design, DesignFigures>> {
  const proxy = rtt > 0 ? await startLatencyProxy({ targetPort: port, rttMs: rtt }) : undefined;
  const url = new URL(adminUrl);
  if (proxy) url.port = String(proxy.port);
  const pool = new pg.Pool({ connectionString: url.toString(), max: DESIGN_POOL });
  pool.on('error', () => {});
  const direct = new pg.Pool({ connectionString: adminUrl, max: 2 });
  direct.on('error', () => {});
  const counter = new StatementCounter();
  const store = createCodeStore(drizzleNodePg(pool, { logger: counter }));
  const trips = { count: 0 };
  const attempts = designs(pool, store, trips);
  // Open every connection before measuring: connection set-up is not the point.
  const clients = await Promise.all(Array.from({ length: DESIGN_POOL }, () => pool.connect()));
  for (const client of clients) client.release();

  const results = {} as Record<Design, DesignFigures>;
  try {
    for (const design of DESIGNS) {
      const run = async (n: number): Promise<{ opsPerSec: number; doubles: number; trips: number }> => {
        const codes = hashes(n);
        // Put directly, bypassing the proxy: only redemption is measured.
        await direct.query(
          `insert into ${TABLE} (code_hash, client_id, subject, redirect_uri, scope, resource, code_challenge, code_challenge_method, claims, expires_at)
           select h, 'bench-client', 'bench-user', 'https://client.example/callback', '{openid}', '{}', 'E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM', 'S256', '{}', now() + interval '1 hour'
           from unnest($1::text[]) as h`,
          [codes],
        );
        trips.count = 0;
        const statementsBefore = counter.count;
        let doubles = 0;
        let next = 0;
        const started = performance.now();
        await Promise.all(
          Array.from({ length: CODES_IN_FLIGHT }, async () => {
            while (next < codes.length) {
              const codeHash = codes[next++]!;
              const won = await Promise.all(Array.from({ length: RACERS_PER_CODE }, () => attempts[design](codeHash)));
              const winners = won.filter(Boolean).length;
              if (winners > 1) doubles += winners - 1;
            }
          }),
        );
        const seconds = (performance.now() - started) / 1000;
        const roundTrips = trips.count + (counter.count - statementsBefore);
        return { opsPerSec: (n * RACERS_PER_CODE) / seconds, doubles, trips: roundTrips / (n * RACERS_PER_CODE) };
      };
      await run(Math.max(4, Math.floor(codesPerDesign / 5))); // warm-up
      const measured = await run(codesPerDesign);
      results[design] = {
        opsPerSec: Math.round(measured.opsPerSec),
        roundTrips: round3(measured.trips),
        doubleRedemptions: measured.doubles,
        codes: codesPerDesign,
        racersPerCode: RACERS_PER_CODE,
      };
      progress(
        `  ${design} at ${rtt} ms: ${results[design].opsPerSec} attempts/s, ${results[design].doubleRedemptions} doubles`,
      );
    }
  } finally {
    await pool.end();
    await direct.end();
    await proxy?.close();
  }
  return results;
}

// ---------------------------------------------------------------- output

function pad(value: string | number, width: number, left = false): string {
  const s = String(value);
  return left ? s.padEnd(width) : s.padStart(width);
}

function table(rows: (string | number)[][]): string {
  const widths = rows[0]!.map((_, col) => Math.max(...rows.map((r) => String(r[col]).length)));
  return rows.map((r) => r.map((cell, col) => pad(cell, widths[col]!, col === 0)).join('  ')).join('\n');
}

// ---------------------------------------------------------------- main

async function main(): Promise<void> {
  const started = performance.now();
  progress('starting PostgreSQL');
  const server = await startPostgres();
  try {
    const url = await server.createDatabase('bench');
    {
      const pool = new pg.Pool({ connectionString: url, max: 1 });
      pool.on('error', () => {});
      await migrateNodePg(drizzleNodePg(pool), { migrationsFolder });
      await pool.end();
    }

    const drivers: Record<string, Record<string, Stats>> = {};
    const rawRatio: Record<string, number> = {};
    const perOpRatio: Record<string, Record<Op, number>> = {};
    const exchangeRoundTrips: Record<string, number> = {};
    const rawFigures: Record<string, Record<Op, Stats>> = {};
    const factories: [string, (counter: StatementCounter) => Promise<BenchDriver>][] = [
      ['node-postgres', (counter) => nodePostgresDriver(url, counter)],
      ['postgres.js', (counter) => postgresJsDriver(url, counter)],
      ['neon-http', (counter) => neonHttpDriver(url, counter)],
      ['pglite', (counter) => pgliteDriver(counter)],
    ];
    for (const [name, open] of factories) {
      progress(`driver ${name}`);
      const counter = new StatementCounter();
      const driver = await open(counter);
      try {
        const figures = await benchDriver({ driver, counter });
        drivers[name] = Object.fromEntries(OPS.map((op) => [op, figures[op].store]));
        rawFigures[name] = Object.fromEntries(OPS.map((op) => [op, figures[op].raw])) as Record<Op, Stats>;
        perOpRatio[name] = Object.fromEntries(OPS.map((op) => [op, figures[op].ratio])) as Record<Op, number>;
        // One figure per driver: the geometric mean of the per-operation ratios.
        rawRatio[name] = round3(Math.exp(OPS.reduce((sum, op) => sum + Math.log(figures[op].ratio), 0) / OPS.length));
        const { exchangeRoundTrips: trips, ...exchange } = await benchExchange({ driver, counter });
        drivers[name].fullExchange = exchange;
        exchangeRoundTrips[name] = trips;
      } finally {
        await driver.close();
      }
    }

    progress('designs under contention');
    const codesPerDesign = 120;
    const atRtt = await benchDesigns(url, server.port, rttMs, codesPerDesign);
    const loopback = rttMs > 0 ? await benchDesigns(url, server.port, 0, codesPerDesign) : atRtt;

    const result = {
      rttMs,
      machine: {
        cpus: cpus().length,
        cpuModel: cpus()[0]?.model ?? 'unknown',
        memoryGiB: Math.round(totalmem() / 2 ** 30),
        node: process.version,
      },
      settings: {
        opsPerRound,
        rounds,
        concurrency: CONCURRENCY,
        designPool: DESIGN_POOL,
        racersPerCode: RACERS_PER_CODE,
      },
      drivers,
      raw: rawFigures,
      rawRatio,
      rawRatioPerOp: perOpRatio,
      exchangeRoundTrips,
      designs: atRtt,
      designsLoopback: loopback,
      seconds: Math.round((performance.now() - started) / 1000),
    };

    if (json) {
      process.stdout.write(`${JSON.stringify(result, null, 2)}\n`);
      return;
    }
    const out: string[] = [];
    out.push(
      `attesto-drizzle benchmark — ${result.machine.cpus} × ${result.machine.cpuModel}, Node ${process.version}`,
    );
    out.push(
      `per-driver figures at loopback, ${CONCURRENCY} in flight (pglite: 1, in-process), median of ${rounds} rounds of ${opsPerRound} ops;`,
    );
    out.push(
      "neon-http goes through a local stand-in for Neon's HTTP endpoint in the same process; fullExchange = issueCode + redeemCode + finalizeCode\n",
    );
    for (const name of Object.keys(drivers)) {
      const rows: (string | number)[][] = [[name, 'ops/s', 'p50 ms', 'p99 ms', 'stmts/op', 'raw ops/s', 'store/raw']];
      for (const [op, s] of Object.entries(drivers[name]!)) {
        const r = rawFigures[name]![op as Op];
        rows.push([
          op,
          s.opsPerSec,
          s.p50Ms.toFixed(3),
          s.p99Ms.toFixed(3),
          s.statements,
          r ? r.opsPerSec : '-',
          r ? perOpRatio[name]![op as Op].toFixed(2) : '-',
        ]);
      }
      out.push(table(rows));
      out.push(
        `store/raw (geometric mean): ${rawRatio[name]!.toFixed(2)}; exchange (redeemCode + finalizeCode) round trips: ${exchangeRoundTrips[name]}`,
      );
      out.push('');
    }
    const rows: (string | number)[][] = [
      ['design', `ops/s @${rttMs} ms`, 'ops/s loopback', 'round trips', `doubles @${rttMs} ms`, 'doubles loopback'],
    ];
    for (const design of DESIGNS) {
      rows.push([
        design,
        atRtt[design].opsPerSec,
        loopback[design].opsPerSec,
        atRtt[design].roundTrips,
        atRtt[design].doubleRedemptions,
        loopback[design].doubleRedemptions,
      ]);
    }
    out.push(
      `designs under contention: ${codesPerDesign} codes × ${RACERS_PER_CODE} racers, ${DESIGN_POOL} connections, ${CODES_IN_FLIGHT} codes in flight`,
    );
    out.push(table(rows));
    out.push(
      `single statement / SELECT FOR UPDATE at ${rttMs} ms: ${(atRtt.singleStatement.opsPerSec / atRtt.selectForUpdate.opsPerSec).toFixed(2)}×; at loopback: ${(loopback.singleStatement.opsPerSec / loopback.selectForUpdate.opsPerSec).toFixed(2)}×`,
    );
    out.push(`\ntotal ${result.seconds} s`);
    process.stdout.write(`${out.join('\n')}\n`);
  } finally {
    await server.destroy();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) {
  await main();
}
