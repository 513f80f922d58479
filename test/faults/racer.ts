/**
 * One "node" of the multi-process race: its own pool, its own store. Told the
 * codes over IPC, it warms its pool, reports ready, waits for `go`, then
 * races `racersPerCode` redemptions of every code and reports each outcome.
 * Codes are raced in time slots of a shared wall clock, so that every node
 * hits the same code within the same millisecond or so.
 */
import { drizzle } from 'drizzle-orm/node-postgres';
import pg from 'pg';
import { createCodeStore } from '../../src/index.js';

export interface RacerTask {
  url: string;
  codes: string[];
  racersPerCode: number;
  poolSize: number;
  /** Codes raced per time slot; every node fires slot k at `startAt + k * slotMs`. */
  codesPerSlot: number;
  slotMs: number;
}

/** The start signal: a wall-clock instant shared by every node on the machine. */
export interface RacerGo {
  startAt: number;
}

export type RacerOutcome = 'taken' | 'reused' | 'unknown' | 'error';

export interface RacerReport {
  pid: number;
  /** Per code, in the order given: how many of this node's racers got each outcome. */
  outcomes: Record<RacerOutcome, number>[];
}

function send(message: unknown): void {
  process.send?.(message);
}

process.once('message', (task: RacerTask) => {
  void (async () => {
    const pool = new pg.Pool({ connectionString: task.url, max: task.poolSize });
    pool.on('error', () => {});
    // Open every connection before the start signal so the race is not a connect race.
    const clients = await Promise.all(Array.from({ length: task.poolSize }, () => pool.connect()));
    for (const client of clients) client.release();
    const store = createCodeStore(drizzle(pool));
    send({ type: 'ready' });
    process.once('message', (go: RacerGo) => {
      void (async () => {
        const sleepUntil = (at: number) => new Promise((resolve) => setTimeout(resolve, Math.max(0, at - Date.now())));
        const outcomes = await Promise.all(
          task.codes.map(async (codeHash, i) => {
            await sleepUntil(go.startAt + Math.floor(i / task.codesPerSlot) * task.slotMs);
            const counts: Record<RacerOutcome, number> = { taken: 0, reused: 0, unknown: 0, error: 0 };
            await Promise.all(
              Array.from({ length: task.racersPerCode }, async () => {
                try {
                  counts[(await store.take(codeHash)).status]++;
                } catch {
                  counts.error++;
                }
              }),
            );
            return counts;
          }),
        );
        await pool.end();
        const report: RacerReport = { pid: process.pid, outcomes };
        send({ type: 'done', report });
      })();
    });
  })().catch((error: unknown) => {
    send({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
    process.exitCode = 1;
  });
});
