/**
 * Several separate Node processes (the "nodes" of a deployment), each with
 * its own pool, race on the same codes: exactly one winner per code.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { drizzle } from 'drizzle-orm/node-postgres';
import type pg from 'pg';
import { createCodeStore } from '../../src/index.js';
import { createMigratedDatabase } from '../support/database.js';
import { freshHashes, safePool, validEntry } from './fixtures.js';
import type { RacerGo, RacerReport, RacerTask } from './racer.js';

const NODES = 4;
const CODES = 400;
const RACERS_PER_CODE_PER_NODE = 3;
const racerScript = fileURLToPath(new URL('./racer.ts', import.meta.url));

let url: string;
let pool: pg.Pool;
const children: ChildProcess[] = [];

beforeAll(async () => {
  url = await createMigratedDatabase('fault_nodes');
  pool = safePool({ connectionString: url, max: 4 });
});

afterAll(async () => {
  for (const child of children) if (child.exitCode === null) child.kill('SIGKILL');
  await pool?.end();
});

function nextMessage(child: ChildProcess, type: string): Promise<Record<string, unknown>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: Record<string, unknown>): void => {
      if (message.type === type) {
        cleanup();
        resolve(message);
      } else if (message.type === 'failed') {
        cleanup();
        reject(new Error(`racer ${child.pid} failed: ${String(message.message)}`));
      }
    };
    const onExit = (code: number | null): void => {
      cleanup();
      reject(new Error(`racer ${child.pid} exited with ${code} before '${type}'`));
    };
    const cleanup = (): void => {
      child.off('message', onMessage);
      child.off('exit', onExit);
    };
    child.on('message', onMessage);
    child.on('exit', onExit);
  });
}

describe('separate Node processes with their own pools', () => {
  it(`${NODES} processes racing on ${CODES} codes: exactly one winner per code`, { timeout: 90_000 }, async () => {
    const codes = await freshHashes(CODES);
    const store = createCodeStore(drizzle(pool));
    for (const codeHash of codes) await store.put(validEntry(codeHash));

    const task: RacerTask = { url, codes, racersPerCode: RACERS_PER_CODE_PER_NODE, poolSize: 4, codesPerSlot: 8, slotMs: 25 };
    for (let i = 0; i < NODES; i++) {
      children.push(fork(racerScript, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }));
    }
    const ready = children.map((child) => nextMessage(child, 'ready'));
    for (const child of children) child.send(task);
    await Promise.all(ready);
    const done = children.map((child) => nextMessage(child, 'done'));
    const go: RacerGo = { startAt: Date.now() + 300 };
    for (const child of children) child.send(go);
    const reports = (await Promise.all(done)).map((m) => m.report as RacerReport);

    expect(new Set(reports.map((r) => r.pid)).size).toBe(NODES);
    const winningNodes = new Set<number>();
    for (let i = 0; i < codes.length; i++) {
      const perNode = reports.map((r) => r.outcomes[i]!);
      const winners = perNode.reduce((sum, o) => sum + o.taken, 0);
      expect(winners, `code ${i}`).toBe(1);
      expect(perNode.reduce((sum, o) => sum + o.unknown, 0)).toBe(NODES * RACERS_PER_CODE_PER_NODE - 1);
      expect(perNode.reduce((sum, o) => sum + o.error + o.reused, 0)).toBe(0);
      reports.forEach((r, node) => {
        if (r.outcomes[i]!.taken === 1) winningNodes.add(node);
      });
    }
    // The race was real: wins are spread over the processes.
    expect(winningNodes.size).toBeGreaterThan(1);
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from attesto_authorization_codes where consumed_at is not null and code_hash = any($1)',
      [codes],
    );
    expect(rows[0]!.n).toBe(CODES);
    console.log(
      `multi-process: ${NODES} processes x ${RACERS_PER_CODE_PER_NODE} racers on ${CODES} codes; winners spread over ${winningNodes.size} processes; 0 doubles`,
    );
    for (const child of children) await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(null)));
  });

  it('a process killed (SIGKILL) mid-race: the survivors never double-redeem, and every code ends spent', { timeout: 90_000 }, async () => {
    const codes = await freshHashes(CODES);
    const store = createCodeStore(drizzle(pool));
    for (const codeHash of codes) await store.put(validEntry(codeHash));
    const task: RacerTask = { url, codes, racersPerCode: RACERS_PER_CODE_PER_NODE, poolSize: 4, codesPerSlot: 8, slotMs: 25 };
    const nodes = Array.from({ length: 3 }, () =>
      fork(racerScript, [], { execArgv: ['--import', 'tsx'], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] }),
    );
    children.push(...nodes);
    const ready = nodes.map((child) => nextMessage(child, 'ready'));
    for (const child of nodes) child.send(task);
    await Promise.all(ready);
    const [victim, ...survivors] = nodes as [ChildProcess, ...ChildProcess[]];
    const done = survivors.map((child) => nextMessage(child, 'done'));
    const victimExit = new Promise((resolve) => victim.once('exit', resolve));
    const go: RacerGo = { startAt: Date.now() + 300 };
    for (const child of nodes) child.send(go);
    // Kill one node a third of the way through the schedule, with redemptions in flight.
    await new Promise((resolve) => setTimeout(resolve, 300 + (CODES / 8 / 3) * 25));
    victim.kill('SIGKILL');
    await victimExit;
    const reports = (await Promise.all(done)).map((m) => m.report as RacerReport);

    let survivorsWon = 0;
    for (let i = 0; i < codes.length; i++) {
      const winners = reports.reduce((sum, r) => sum + r.outcomes[i]!.taken, 0);
      expect(winners, `code ${i}`).toBeLessThanOrEqual(1);
      survivorsWon += winners;
      for (const r of reports) expect(r.outcomes[i]!.error).toBe(0);
    }
    // Every code was raced by the survivors: spent, by them or by the killed node before it died.
    const { rows } = await pool.query<{ n: number }>(
      'select count(*)::int as n from attesto_authorization_codes where consumed_at is not null and code_hash = any($1)',
      [codes],
    );
    expect(rows[0]!.n).toBe(CODES);
    expect(survivorsWon).toBeLessThan(CODES);
    console.log(`multi-process, one node killed: survivors won ${survivorsWon} of ${CODES} codes, the killed node the other ${CODES - survivorsWon}; 0 doubles`);
  });
});
