/**
 * The Vercel Edge runtime (the `edge-runtime` package): the same Worker,
 * bundled as a script with a `fetch` listener, run in the Edge VM with its
 * Web-API-only globals and code generation disabled, talking to the local
 * SQL-over-HTTP endpoint in front of the real PostgreSQL.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EdgeRuntime } from 'edge-runtime';
import { createMigratedDatabase } from '../support/database.js';
import { startNeonHTTPEndpoint, type NeonHTTPEndpoint } from '../support/neon-http-endpoint.js';
import { bundleWorker } from './bundle.js';
import { expectScenarioOutcomes, expectScenarioRows, RACE_CODES, RACERS_PER_CODE } from './scenario-checks.js';
import type { ScenarioConfig, ScenarioReport } from './worker/scenario.js';

let endpoint: NeonHTTPEndpoint;
let runtime: EdgeRuntime;
let url: string;

beforeAll(async () => {
  url = await createMigratedDatabase('edge_runtime');
  endpoint = await startNeonHTTPEndpoint({ connections: RACERS_PER_CODE + 4 });
  const { code } = await bundleWorker('edge');
  runtime = new EdgeRuntime({ initialCode: code });
});

afterAll(async () => {
  await endpoint?.close();
});

describe('inside the Edge runtime', () => {
  it('put / get / take / markConsumed / replay and a race behave as on Node', async () => {
    const config: ScenarioConfig = {
      databaseUrl: url,
      fetchEndpoint: endpoint.url,
      raceCodes: RACE_CODES,
      racersPerCode: RACERS_PER_CODE,
    };
    const before = endpoint.requests.length;
    const response = await runtime.dispatchFetch('http://edge.test/scenario', {
      method: 'POST',
      body: JSON.stringify(config),
    });
    const text = await response.text();
    expect(response.status, text).toBe(200);
    const report = JSON.parse(text) as ScenarioReport;

    expect(report.runtime).toMatchObject({ edgeRuntime: 'edge-runtime', hasProcess: false });
    expectScenarioOutcomes(report);
    await expectScenarioRows(url, report);
    const requests = endpoint.requests.slice(before);
    expect(requests).toHaveLength(12 + RACE_CODES + RACE_CODES * RACERS_PER_CODE);
    expect(requests.every((r) => !r.batch && r.queries.length === 1)).toBe(true);
    await response.waitUntil();
  });

  it('has no Node built-ins to lean on: the VM exposes no process or require', () => {
    expect(runtime.evaluate<string>('typeof process')).toBe('undefined');
    expect(runtime.evaluate<string>('typeof require')).toBe('undefined');
  });
});
