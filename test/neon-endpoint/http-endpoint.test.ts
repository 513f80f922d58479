/**
 * The local SQL-over-HTTP endpoint speaks what `@neondatabase/serverless`
 * sends and expects: checked through the real driver and on the wire.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { neon, neonConfig, NeonDbError, type NeonQueryFunction } from '@neondatabase/serverless';
import { createEmptyDatabase } from '../support/database.js';
import { startNeonHTTPEndpoint, type NeonHTTPEndpoint, type NeonHTTPRequest } from '../support/neon-http-endpoint.js';

let endpoint: NeonHTTPEndpoint;
let url: string;
let sql: NeonQueryFunction<false, false>;
const afterCommit: NeonHTTPRequest[] = [];

beforeAll(async () => {
  url = await createEmptyDatabase('neon_endpoint');
  endpoint = await startNeonHTTPEndpoint({ onAfterCommit: (request) => void afterCommit.push(request) });
  neonConfig.fetchEndpoint = endpoint.url;
  sql = neon(url);
  await sql.query(
    `create table items (id int primary key, name text not null check (name <> ''), tags text[] not null default '{}')`,
  );
});

afterAll(async () => {
  await endpoint?.close();
});

/** Posts a request the way the driver does, for assertions on the wire format. */
async function post(body: unknown, headers: Record<string, string> = {}): Promise<{ status: number; json: any }> {
  const response = await fetch(endpoint.url, {
    method: 'POST',
    headers: {
      'Neon-Connection-String': url,
      'Neon-Raw-Text-Output': 'true',
      'Neon-Array-Mode': 'true',
      ...headers,
    },
    body: JSON.stringify(body),
  });
  return { status: response.status, json: await response.json() };
}

async function rejection(promise: Promise<unknown>): Promise<NeonDbError> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(NeonDbError);
  return error as NeonDbError;
}

describe('types round-trip through the driver', () => {
  const at = new Date('2026-03-04T05:06:07.891Z');
  const bytes = new Uint8Array([0, 1, 2, 127, 128, 254, 255]);

  it('text[], jsonb, timestamptz, boolean, int8 and bytea come back as the driver parses them', async () => {
    const [row] = await sql.query(
      'select $1::text[] as tags, $2::jsonb as doc, $3::timestamptz as at, $4::boolean as yes, $5::boolean as no, $6::int8 as big, $7::bytea as raw, $8::text as nothing',
      [
        ['plain', 'with,comma', 'with "quote"', 'back\\slash', '{brace}', 'é ü', ''],
        { a: [1, 2.5, null], b: { c: 'd "e"' }, unicode: 'ĉu' },
        at,
        true,
        false,
        '9223372036854775807',
        Buffer.from(bytes),
        null,
      ],
    );
    expect(row).toEqual({
      tags: ['plain', 'with,comma', 'with "quote"', 'back\\slash', '{brace}', 'é ü', ''],
      doc: { a: [1, 2.5, null], b: { c: 'd "e"' }, unicode: 'ĉu' },
      at,
      yes: true,
      no: false,
      // int8 stays a string, as node-postgres returns it: no precision lost.
      big: '9223372036854775807',
      raw: Buffer.from(bytes),
      nothing: null,
    });
  });

  it('an empty array, a NULL array element and a JSON string scalar survive', async () => {
    const [row] = await sql.query(`select '{}'::text[] as empty, array['a', null]::text[] as holes, '"s"'::jsonb as scalar`);
    expect(row).toEqual({ empty: [], holes: ['a', null], scalar: 's' });
  });

  it('fullResults carry PostgreSQL field metadata, command and rowCount', async () => {
    await sql.query(`insert into items (id, name, tags) values (1, 'one', '{x,y}'), (2, 'two', '{}')`);
    const result = await sql.query('select id, name, tags from items order by id', [], { fullResults: true });
    expect(result.command).toBe('SELECT');
    expect(result.rowCount).toBe(2);
    expect(result.rows).toEqual([
      { id: 1, name: 'one', tags: ['x', 'y'] },
      { id: 2, name: 'two', tags: [] },
    ]);
    expect(result.fields.map((f) => [f.name, f.dataTypeID])).toEqual([
      ['id', 23],
      ['name', 25],
      ['tags', 1009],
    ]);
    for (const field of result.fields) {
      expect(field.tableID).toBeGreaterThan(0);
      expect(field.format).toBe('text');
    }
    const update = await sql.query(`update items set name = name || '!' where id <= 2`, [], { fullResults: true });
    expect(update.command).toBe('UPDATE');
    expect(update.rowCount).toBe(2);
  });
});

describe('the wire format', () => {
  it('answers with text output, rows as arrays, and the field metadata the driver reads', async () => {
    const { status, json } = await post({
      query: 'select $1::int8 as n, $2::boolean as b, $3::jsonb as j, null::text as z',
      params: ['42', 'true', '{"k": [1]}'],
    });
    expect(status).toBe(200);
    expect(json).toEqual({
      command: 'SELECT',
      rowCount: 1,
      rows: [['42', 't', '{"k": [1]}', null]],
      fields: [
        expect.objectContaining({ name: 'n', dataTypeID: 20, tableID: 0, columnID: 0, dataTypeSize: 8, dataTypeModifier: -1, format: 'text' }),
        expect.objectContaining({ name: 'b', dataTypeID: 16, dataTypeSize: 1 }),
        expect.objectContaining({ name: 'j', dataTypeID: 3802 }),
        expect.objectContaining({ name: 'z', dataTypeID: 25 }),
      ],
      rowAsArray: true,
    });
  });

  it('answers rows as objects when array mode is off', async () => {
    const { json } = await post({ query: `select 1 as a, 'x' as b`, params: [] }, { 'Neon-Array-Mode': 'false' });
    expect(json.rows).toEqual([{ a: '1', b: 'x' }]);
    expect(json.rowAsArray).toBe(false);
  });

  it('answers a batch as { results }, one result per query', async () => {
    const { status, json } = await post({
      queries: [
        { query: 'select 1 as a', params: [] },
        { query: 'select $1::text as b', params: ['two'] },
      ],
    });
    expect(status).toBe(200);
    expect(json.results.map((r: { rows: unknown }) => r.rows)).toEqual([[['1']], [['two']]]);
  });

  it('refuses requests it cannot serve faithfully with 400 (or 405 for other methods)', async () => {
    expect((await post({ query: 'select 1' }, { 'Neon-Raw-Text-Output': 'false' })).status).toBe(400);
    const noConnection = await fetch(endpoint.url, { method: 'POST', body: JSON.stringify({ query: 'select 1' }) });
    expect(noConnection.status).toBe(400);
    expect(await noConnection.json()).toEqual({ message: expect.stringContaining('Neon-Connection-String') });
    expect((await post({ query: 'select 1' }, { 'Neon-Batch-Isolation-Level': 'Chaos' })).status).toBe(200);
    expect((await post({ queries: [{ query: 'select 1', params: [] }] }, { 'Neon-Batch-Isolation-Level': 'Chaos' })).status).toBe(400);
    expect((await fetch(endpoint.url)).status).toBe(405);
  });
});

describe('errors', () => {
  it('a unique violation reaches the driver as NeonDbError with code, constraint, detail, table', async () => {
    await sql.query(`insert into items (id, name) values (10, 'ten')`);
    const error = await rejection(sql.query(`insert into items (id, name) values (10, 'again')`));
    expect(error).toMatchObject({
      code: '23505',
      constraint: 'items_pkey',
      detail: 'Key (id)=(10) already exists.',
      table: 'items',
      schema: 'public',
      severity: 'ERROR',
    });
    expect(error.message).toContain('duplicate key value violates unique constraint');
  });

  it('a check violation names its constraint; a syntax error its position', async () => {
    expect(await rejection(sql.query(`insert into items (id, name) values (11, '')`))).toMatchObject({
      code: '23514',
      constraint: 'items_name_check',
    });
    const syntax = await rejection(sql.query('selec 1'));
    expect(syntax).toMatchObject({ code: '42601', position: '1' });
  });

  it('a database error is HTTP 400 with PostgreSQL error fields on the wire', async () => {
    const { status, json } = await post({ query: 'select 1/0', params: [] });
    expect(status).toBe(400);
    expect(json).toMatchObject({ message: 'division by zero', code: '22012', severity: 'ERROR' });
  });

  it('one statement per query: two statements in one string are refused', async () => {
    const error = await rejection(sql.query(`insert into items (id, name) values (12, 'a'); insert into items (id, name) values (13, 'b')`));
    expect(error.code).toBe('42601');
    const rows = await sql.query('select id from items where id in (12, 13)');
    expect(rows).toEqual([]);
  });
});

describe('batches', () => {
  it('run in one transaction and commit together', async () => {
    const results = await sql.transaction([
      sql.query(`insert into items (id, name) values (20, 'a') returning id`),
      sql.query(`insert into items (id, name) values (21, 'b') returning id`),
      sql.query('select count(*)::int as n from items where id in (20, 21)'),
    ]);
    expect(results).toEqual([[{ id: 20 }], [{ id: 21 }], [{ n: 2 }]]);
  });

  it('roll back whole when any statement fails', async () => {
    const error = await rejection(
      sql.transaction([
        sql.query(`insert into items (id, name) values (30, 'kept?')`),
        sql.query(`update items set name = 'changed' where id = 1`),
        sql.query(`insert into items (id, name) values (30, 'duplicate')`),
      ]),
    );
    expect(error.code).toBe('23505');
    expect(await sql.query('select id from items where id = 30')).toEqual([]);
    expect(await sql.query('select name from items where id = 1')).toEqual([{ name: 'one!' }]);
  });

  it('honour the isolation level, read-only and deferrable headers', async () => {
    const shown = await sql.transaction(
      [sql.query('show transaction_isolation'), sql.query('show transaction_read_only'), sql.query('show transaction_deferrable')],
      { isolationLevel: 'Serializable', readOnly: true, deferrable: true },
    );
    expect(shown).toEqual([
      [{ transaction_isolation: 'serializable' }],
      [{ transaction_read_only: 'on' }],
      [{ transaction_deferrable: 'on' }],
    ]);
    expect(await sql.transaction([sql.query('show transaction_isolation')])).toEqual([
      [{ transaction_isolation: 'read committed' }],
    ]);
    const error = await rejection(
      sql.transaction([sql.query(`insert into items (id, name) values (40, 'x')`)], { readOnly: true }),
    );
    expect(error.code).toBe('25006');
  });
});

describe('fault hooks', () => {
  it('dropResponseOnce: the statement commits, the client gets no answer', async () => {
    const before = endpoint.requests.length;
    endpoint.dropResponseOnce();
    const error = await rejection(sql.query(`insert into items (id, name) values (50, 'ambiguous')`));
    expect(error.message).toContain('Error connecting to database');
    // The commit happened although the caller was never told.
    expect(await sql.query('select name from items where id = 50')).toEqual([{ name: 'ambiguous' }]);
    expect(endpoint.requests.length).toBe(before + 2);
  });

  it('onAfterCommit sees each successful request after it committed, and not failed ones', async () => {
    afterCommit.length = 0;
    await sql.query('select 1');
    await rejection(sql.query('select 1/0'));
    await sql.transaction([sql.query('select 2'), sql.query('select 3')]);
    expect(afterCommit).toEqual([
      { queries: ['select 1'], batch: false, database: new URL(url).pathname.slice(1) },
      { queries: ['select 2', 'select 3'], batch: true, database: new URL(url).pathname.slice(1) },
    ]);
  });
});
