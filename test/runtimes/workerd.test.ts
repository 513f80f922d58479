/**
 * Cloudflare's runtime: the package bundled into a Worker with
 * `drizzle-orm/neon-http`, run by workerd (through miniflare), talking to the
 * local SQL-over-HTTP endpoint in front of the real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Miniflare } from 'miniflare';
import { createMigratedDatabase } from '../support/database.js';
import { startNeonHTTPEndpoint, type NeonHTTPEndpoint } from '../support/neon-http-endpoint.js';
import { bundleWorker } from './bundle.js';
import { expectScenarioOutcomes, expectScenarioRows, RACE_CODES, RACERS_PER_CODE } from './scenario-checks.js';
import type { ScenarioConfig, ScenarioReport } from './worker/scenario.js';

let endpoint: NeonHTTPEndpoint;
let mf: Miniflare;
let url: string;

beforeAll(async () => {
  url = await createMigratedDatabase('workerd');
  endpoint = await startNeonHTTPEndpoint({ connections: RACERS_PER_CODE + 4 });
  const { code } = await bundleWorker('workerd');
  // No nodejs_compat flag: the package and the driver run on Web APIs alone.
  mf = new Miniflare({ modules: true, script: code, compatibilityDate: '2025-12-01' });
  await mf.ready;
});

afterAll(async () => {
  await mf?.dispose();
  await endpoint?.close();
});

describe('inside workerd', () => {
  it('put / get / take / markConsumed / replay and a race behave as on Node', async () => {
    const config: ScenarioConfig = {
      databaseUrl: url,
      fetchEndpoint: endpoint.url,
      raceCodes: RACE_CODES,
      racersPerCode: RACERS_PER_CODE,
    };
    const before = endpoint.requests.length;
    const response = await mf.dispatchFetch('http://worker.test/scenario', { method: 'POST', body: JSON.stringify(config) });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const report = JSON.parse(text) as ScenarioReport;

    expect(report.runtime).toEqual({ userAgent: 'Cloudflare-Workers', edgeRuntime: null, hasProcess: false });
    expectScenarioOutcomes(report);
    await expectScenarioRows(url, report);
    // One HTTP round trip per store call, whatever its outcome; never a batch.
    const calls = 12 + RACE_CODES + RACE_CODES * RACERS_PER_CODE;
    const requests = endpoint.requests.slice(before);
    expect(requests).toHaveLength(calls);
    expect(requests.every((r) => !r.batch && r.queries.length === 1)).toBe(true);
  });

  it('answers other paths with 404 (the Worker, not the test, did the work above)', async () => {
    const response = await mf.dispatchFetch('http://worker.test/other');
    expect(response.status).toBe(404);
    await response.text();
  });
});
