/**
 * The checks shared by the per-runtime tests: the outcomes the Worker
 * reports, and the database state they must have left.
 */
import { expect } from 'vitest';
import pg from 'pg';
import type { ScenarioReport } from './worker/scenario.js';

export const RACE_CODES = 20;
export const RACERS_PER_CODE = 8;

/** The single-use contract, as observed from inside the runtime. */
export function expectScenarioOutcomes(report: ScenarioReport): void {
  const { entry } = report;
  expect(report.got).toEqual(entry);
  expect(report.duplicatePut).toEqual({ name: 'DuplicateCodeError', code: 'duplicate_code' });
  expect(report.firstTake).toEqual({ status: 'taken', entry });
  expect(report.secondTake).toEqual({ status: 'unknown' });
  expect(report.getAfterTake).toBeNull();
  expect(report.replayAfterMark).toEqual({
    status: 'reused',
    meta: { familyId: entry.data.familyId, subject: entry.data.subject, accessTokenJti: `edge-at-${entry.codeHash.slice(0, 8)}` },
  });
  expect(report.revoked).toBe(1);
  expect(report.accessTokenRevoked).toBe(true);
  expect(report.markUntaken).toEqual({ name: 'CodeNotTakenError', code: 'code_not_taken' });
  expect(report.race.codeHashes).toHaveLength(RACE_CODES);
  expect(report.race.takenPerCode).toEqual(Array.from({ length: RACE_CODES }, () => 1));
  expect(report.race.unknownPerCode).toEqual(Array.from({ length: RACE_CODES }, () => RACERS_PER_CODE - 1));
}

/** What the database holds after the scenario, read over node-postgres. */
export async function expectScenarioRows(url: string, report: ScenarioReport): Promise<void> {
  const client = new pg.Client({ connectionString: url });
  client.on('error', () => {});
  await client.connect();
  try {
    const { rows } = await client.query<{
      consumed: boolean;
      consumed_success: boolean;
      access_token_jti: string | null;
      revoked: boolean;
    }>(
      `select consumed_at is not null as consumed, consumed_success, access_token_jti,
              access_token_revoked_at is not null as revoked
         from attesto_authorization_codes where code_hash = $1`,
      [report.entry.codeHash],
    );
    expect(rows).toEqual([
      { consumed: true, consumed_success: true, access_token_jti: `edge-at-${report.entry.codeHash.slice(0, 8)}`, revoked: true },
    ]);
    const race = await client.query<{ n: string }>(
      'select count(*) as n from attesto_authorization_codes where code_hash = any($1) and consumed_at is not null',
      [report.race.codeHashes],
    );
    expect(Number(race.rows[0]!.n)).toBe(RACE_CODES);
  } finally {
    await client.end();
  }
}
