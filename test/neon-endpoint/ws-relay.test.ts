/**
 * The WebSocket relay carries the Neon `Pool` and `Client` to the real
 * PostgreSQL, interactive transactions included, and relays nowhere else.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Client, neonConfig, Pool } from '@neondatabase/serverless';
import { WebSocket } from 'ws';
import { createEmptyDatabase } from '../support/database.js';
import { startNeonWebSocketRelay, type NeonWebSocketRelay } from '../support/neon-ws-relay.js';

let relay: NeonWebSocketRelay;
let url: string;
let pool: Pool;

beforeAll(async () => {
  url = await createEmptyDatabase('neon_relay');
  relay = await startNeonWebSocketRelay();
  relay.configure(neonConfig);
  pool = new Pool({ connectionString: url, max: 4 });
  pool.on('error', () => {});
});

afterAll(async () => {
  await pool?.end();
  await relay?.close();
});

describe('the WebSocket relay', () => {
  it('carries Pool queries over WebSockets to the real server', async () => {
    const before = relay.connections;
    const { rows } = await pool.query('select $1::text as greeting, $2::int8 as n, current_database() as db', ['hello', '7']);
    expect(rows).toEqual([{ greeting: 'hello', n: '7', db: new URL(url).pathname.slice(1) }]);
    expect(relay.connections).toBeGreaterThan(before);
  });

  it('carries an interactive transaction, rolled back and committed', async () => {
    const client = new Client(url);
    client.on('error', () => {});
    await client.connect();
    try {
      await client.query('create table if not exists relay_items (id int primary key)');
      await client.query('begin');
      await client.query('insert into relay_items values (1)');
      await client.query('rollback');
      await client.query('begin');
      await client.query('insert into relay_items values (2)');
      await client.query('commit');
      const { rows } = await client.query('select id from relay_items order by id');
      expect(rows).toEqual([{ id: 2 }]);
    } finally {
      await client.end();
    }
  });

  it('carries concurrent connections independently', async () => {
    const results = await Promise.all(
      Array.from({ length: 8 }, (_, i) => pool.query('select pg_backend_pid() as pid, $1::int as i', [i])),
    );
    expect(results.map((r) => r.rows[0].i)).toEqual([0, 1, 2, 3, 4, 5, 6, 7]);
    expect(new Set(results.map((r) => r.rows[0].pid)).size).toBeGreaterThan(1);
  });

  it('refuses to relay to anything but the local host', async () => {
    const closed = await new Promise<{ code: number; reason: string }>((resolve, reject) => {
      const ws = new WebSocket(`ws://${relay.wsProxy}?address=192.0.2.1:5432`);
      ws.on('close', (code, reason) => resolve({ code, reason: reason.toString() }));
      ws.on('error', reject);
    });
    expect(closed).toEqual({ code: 1008, reason: 'address not allowed' });
  });
});
