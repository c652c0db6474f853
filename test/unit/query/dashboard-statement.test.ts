/**
 * Which statements a dashboard request sends to Athena. That the one statement's answers equal the
 * named queries' is proven on DuckDB (test/unit/rollups.test.ts) and Trino
 * (test/integration/trino-queries.test.ts); this pins when the API uses it, and that no statement
 * it sends is longer than Athena takes.
 */
import { describe, expect, it } from 'vitest';
import type { LakeView, RollupFiles } from '../../../lambdas/common/compaction-manifest.ts';
import { hourPartition } from '../../../lambdas/consumer/lake-keys.ts';
import { byText, dashboardSql } from '../../../lambdas/query/dashboard-statement.ts';
import { athenaDialect } from '../../../lambdas/query/dialect.ts';
import { QUERY_NAMES } from '../../../lambdas/query/named-queries.ts';
import { QueryApi, type QueryEngine } from '../../../lambdas/query/query-api.ts';

const HOUR = 3_600_000;
const DAY = 24 * HOUR;
const NOW = Date.UTC(2026, 11, 4, 12);
// A bucket name as long as CDK makes them: every file's path in the SQL carries it.
const d = athenaDialect('clickstream', 'clickstreamstack-lakebucketa1b2c3d4-0123456789ab');

/** Every hour of the last 40 days compacted (into `files` files, about 128 MB each) and rolled up, one generation each. */
function fullyRolledUp(files = 1): LakeView {
  const compacted = new Map<number, string[]>();
  const rollups = new Map<number, RollupFiles>();
  for (let h = NOW - 40 * DAY; h < NOW; h += HOUR) {
    const hour = hourPartition(h);
    compacted.set(h, Array.from({ length: files }, (_, i) => `compacted/${hour}/g1-0a1b2c3d-${i}.parquet`));
    rollups.set(h, { sessions: `rollups/sessions/${hour}/g1-0a1b2c3d.parquet`, activity: `rollups/activity/${hour}/g1-0a1b2c3d.parquet`, products: `rollups/products/${hour}/g1-0a1b2c3d.parquet` });
  }
  return { compacted, rollups, unfoldedLate: [] };
}

function recordingEngine(view: LakeView): QueryEngine & { readonly statements: string[] } {
  const statements: string[] = [];
  return { dialect: d, statements, run: (sql) => (statements.push(sql), Promise.resolve([])), lakeView: () => Promise.resolve(view) };
}

describe('the dashboard on Athena', () => {
  it('sends one statement for every panel, the quarantine included (Athena bills each statement 10 MB at least)', async () => {
    const engine = recordingEngine(fullyRolledUp());
    const response = await new QueryApi({ engine, now: () => NOW }).handleDashboard({ from: String(NOW - 7 * DAY), to: String(NOW) });
    expect(response.statusCode).toBe(200);
    expect(engine.statements).toHaveLength(1);
    expect(engine.statements[0]!.split('FROM "clickstream"."quarantine"')).toHaveLength(2);
    expect(Object.keys((JSON.parse(response.body) as { panels: object }).panels)).toEqual([...QUERY_NAMES]);
  });

  it('picks files by their hour partition and name where whole paths would make the statement longer than Athena takes (31 days, every hour rolled up)', async () => {
    const view = fullyRolledUp();
    const params = { from: String(NOW - 31 * DAY), to: String(NOW) };
    expect(dashboardSql(d, { fromMs: NOW - 31 * DAY, toMs: NOW }, view).length).toBeGreaterThan(d.maxStatementBytes!);
    const engine = recordingEngine(view);
    const response = await new QueryApi({ engine, now: () => NOW }).handleDashboard(params);
    expect(response.statusCode).toBe(200);
    expect(engine.statements).toHaveLength(1);
    expect(engine.statements[0]).toContain(`substr("$path", strpos("$path", '/year=') + 1) IN ('year=`);
    expect(engine.statements[0]).not.toContain('"$path" IN');
    for (const sql of engine.statements) expect(sql.length).toBeLessThanOrEqual(d.maxStatementBytes!);
    // A week still names whole paths, which lets the engine skip the other files of those partitions unread.
    const week = recordingEngine(view);
    await new QueryApi({ engine: week, now: () => NOW }).handleDashboard({ from: String(NOW - 7 * DAY), to: String(NOW) });
    expect(week.statements[0]).toContain('"$path" IN');
  });

  const monthInUs = { from: String(NOW - 31 * DAY), to: String(NOW), country: 'US' };

  it('answers 31 days with a filter two rollups do not answer (their panels read the events) over hours of 3 files, as at 5,000 events/s, in one statement', async () => {
    const engine = recordingEngine(fullyRolledUp(3));
    const response = await new QueryApi({ engine, now: () => NOW }).handleDashboard(monthInUs);
    expect(response.statusCode, response.body).toBe(200);
    expect(engine.statements).toHaveLength(1);
    for (const sql of engine.statements) expect(sql.length).toBeLessThanOrEqual(d.maxStatementBytes!);
  });

  it('refuses the same over hours of 6 files, too many to name even by name, with a 400 that says what to change, before running any query', async () => {
    const engine = recordingEngine(fullyRolledUp(6));
    const message = /^this range names too many files for one query \(\d+ KiB of SQL, at most 256 KiB\): choose a shorter range or fewer filters$/;
    const api = new QueryApi({ engine, now: () => NOW });
    for (const response of [await api.handleDashboard(monthInUs), await api.handle('top_products', monthInUs)]) {
      expect(response.statusCode).toBe(400);
      expect((JSON.parse(response.body) as { error: string }).error).toMatch(message);
    }
    expect(engine.statements).toEqual([]);
  });
});

describe("the panels' order", () => {
  it('sorts text as the engines do, by code point (UTF-8 bytes), not by UTF-16 unit', () => {
    expect(['😀', 'Ａ', 'b', 'a', 'ab', 'é'].sort(byText)).toEqual(['a', 'ab', 'b', 'é', 'Ａ', '😀']);
  });
});
