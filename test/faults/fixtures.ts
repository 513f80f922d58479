/**
 * Shared fixtures of the fault, fuzz and security suites: valid code entries
 * and pools that never crash the process when the server goes away.
 */
import pg from 'pg';
import { generateCode, hashCode } from '../../src/index.js';

/** A fresh code and its digest; the plaintext never leaves the test. */
export async function freshCode(): Promise<{ code: string; codeHash: string }> {
  const code = generateCode();
  return { code, codeHash: await hashCode(code) };
}

export { validEntry } from '../support/entries.js';

/** `n` fresh digests. */
export async function freshHashes(n: number): Promise<string[]> {
  return Promise.all(Array.from({ length: n }, async () => (await freshCode()).codeHash));
}

/**
 * A node-postgres pool with an `error` handler: a terminated backend or a
 * server shutdown otherwise crashes the process.
 */
export function safePool(config: pg.PoolConfig): pg.Pool {
  const pool = new pg.Pool(config);
  pool.on('error', () => {});
  pool.on('connect', (client) => client.on('error', () => {}));
  return pool;
}

/** Runs `tasks` with at most `limit` in flight. */
export async function mapLimit<T, R>(
  items: readonly T[],
  limit: number,
  task: (item: T, index: number) => Promise<R>,
): Promise<R[]> {
  const results = new Array<R>(items.length);
  let next = 0;
  const worker = async (): Promise<void> => {
    while (next < items.length) {
      const index = next++;
      results[index] = await task(items[index]!, index);
    }
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
  return results;
}

/** Waits until `check` resolves true, polling; throws after `timeoutMs`. */
export async function waitFor(check: () => Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

/** The SQLSTATE of the first error in the `cause` chain that has one. */
export function sqlState(error: unknown): string | undefined {
  for (let e: unknown = error, depth = 0; e !== null && typeof e === 'object' && depth < 8; depth++) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code)) return code;
    e = (e as { cause?: unknown }).cause;
  }
  return undefined;
}
