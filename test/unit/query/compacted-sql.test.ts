/**
 * The SQL over the files for each state of the compaction protocol. That the answers are right
 * is proven on Trino (test/integration/trino-queries.test.ts); this pins which files each part
 * reads and where the de-duplication window applies.
 */
import { describe, expect, it } from 'vitest';
import type { LakeView } from '../../../lambdas/common/compaction-manifest.ts';
import { lateKeyEventHours, lateKeyIngestTime } from '../../../lambdas/consumer/lake-keys.ts';
import { athenaDialect } from '../../../lambdas/query/dialect.ts';
import { querySql } from '../../../lambdas/query/named-queries.ts';

const H = Date.UTC(2026, 11, 3, 10);
const HOUR = 3_600_000;
const d = athenaDialect('db', 'lake');
const range = { fromMs: H + 30 * 60_000, toMs: H + HOUR + 30 * 60_000 };
const compacted10: LakeView = { compacted: new Map([[H, ['compacted/year=2026/month=12/day=03/hour=10/g2-ab-0.parquet']]]), rollups: new Map(), unfoldedLate: [] };

describe('the events CTE over compacted, raw and late files', () => {
  it('reads a compacted hour from its committed files only, without the window, and the open hour raw with it', () => {
    const sql = querySql('kpis', d, range, compacted10);
    expect(sql).toContain(`FROM "db"."events_compacted"\n    WHERE ((year = '2026' AND month = '12' AND day = '03' AND hour IN ('10')))\n      AND "$path" IN ('s3://lake/compacted/year=2026/month=12/day=03/hour=10/g2-ab-0.parquet')`);
    expect(sql).toContain(`FROM "db"."events"\n    WHERE ((year = '2026' AND month = '12' AND day = '03' AND hour IN ('11')))`);
    // The window wraps the raw hour alone: the compacted part is outside it.
    const windowAt = sql.indexOf('row_number()');
    expect(sql.indexOf('events_compacted')).toBeLessThan(windowAt);
    expect(sql.indexOf('"db"."events"\n')).toBeGreaterThan(windowAt);
  });

  it('needs no window at all when every hour of the range is compacted', () => {
    const sql = querySql('funnel', d, { fromMs: H, toMs: H + HOUR }, compacted10);
    expect(sql).not.toContain('row_number()');
    expect(sql).not.toContain('"db"."events"');
  });

  it('puts everything through the window while a late file not folded yet could hold rows of the range', () => {
    const late = 'late/year=2026/month=12/day=03/hour=11/t-p0-o5-9-t1764759600000.parquet';
    const sql = querySql('kpis', d, range, { ...compacted10, unfoldedLate: [late] });
    const windowAt = sql.indexOf('row_number()');
    expect(sql.indexOf('events_compacted')).toBeGreaterThan(windowAt);
    expect(sql).toContain(`FROM "db"."events_late"\n    WHERE ((year = '2026' AND month = '12' AND day = '03' AND hour IN ('11')))\n      AND "$path" IN ('s3://lake/${late}')`);
  });

  it('ignores late files ingested before the range began: their rows happened even earlier', () => {
    const early = 'late/year=2026/month=12/day=03/hour=09/t-p0-o5-9-t1764752400000.parquet';
    expect(querySql('kpis', d, range, { ...compacted10, unfoldedLate: [early] })).toBe(querySql('kpis', d, range, compacted10));
  });

  it('quotes a key that holds a quote, so a file name cannot end the SQL string', () => {
    const view: LakeView = { compacted: new Map([[H, ["compacted/year=2026/month=12/day=03/hour=10/g1-x'y-0.parquet"]]]), rollups: new Map(), unfoldedLate: [] };
    expect(querySql('kpis', d, { fromMs: H, toMs: H + HOUR }, view)).toContain("g1-x''y-0.parquet'");
  });
});

describe('the rollups in the SQL over the files', () => {
  const files = { sessions: 'rollups/sessions/year=2026/month=12/day=03/hour=10/g2-ab.parquet', activity: 'rollups/activity/year=2026/month=12/day=03/hour=10/g2-ab.parquet', products: 'rollups/products/year=2026/month=12/day=03/hour=10/g2-ab.parquet' };
  const rolled10: LakeView = { ...compacted10, rollups: new Map([[H, files]]) };
  const threeHours = { fromMs: H - 20 * 60_000, toMs: H + HOUR + 5 * 60_000, device: 'mobile' as const };

  it("read a whole hour's committed rollup file, filtered, and group the events of the partial hours around it", () => {
    const sql = querySql('kpis', d, threeHours, rolled10);
    expect(sql).toContain(`FROM "db"."rollup_sessions"\n    WHERE ((year = '2026' AND month = '12' AND day = '03' AND hour IN ('10')))\n      AND "$path" IN ('s3://lake/${files.sessions}')\n      AND device_type = 'mobile'`);
    expect(sql).toContain(`FROM "db"."events"\n    WHERE (((year = '2026' AND month = '12' AND day = '03' AND hour IN ('09'))) OR ((year = '2026' AND month = '12' AND day = '03' AND hour IN ('11'))))`);
    expect(querySql('top_products', d, threeHours, rolled10)).toContain(`"$path" IN ('s3://lake/${files.products}')`);
    expect(querySql('events_per_minute', d, threeHours, rolled10)).toContain(`"$path" IN ('s3://lake/${files.activity}')`);
  });

  it('leave bots out of the rollup rows and the events alike unless the device filter asks for them (an unknown device stays)', () => {
    const everyone = { fromMs: threeHours.fromMs, toMs: threeHours.toMs };
    const sql = querySql('kpis', d, everyone, rolled10);
    expect(sql).toContain(`AND "$path" IN ('s3://lake/${files.sessions}')\n      AND device_type IS DISTINCT FROM 'bot'`);
    expect(sql.match(/device_type IS DISTINCT FROM 'bot'/g)).toHaveLength(2);
    const bots = querySql('kpis', d, { ...everyone, device: 'bot' }, rolled10);
    expect(bots).not.toContain('IS DISTINCT FROM');
    expect(bots.match(/device_type = 'bot'/g)).toHaveLength(2);
  });

  it('are not read for a filter their rollup does not answer: per minute and per product, the country', () => {
    const inUs = { ...threeHours, country: 'US' };
    expect(querySql('kpis', d, inUs, rolled10)).toContain('rollup_sessions');
    expect(querySql('top_products', d, inUs, rolled10)).not.toContain('rollup_products');
    expect(querySql('events_per_minute', d, inUs, rolled10)).not.toContain('rollup_activity');
  });

  it('are not read for an hour the range covers in part, nor while a late file not folded yet could hold rows of the hour', () => {
    expect(querySql('kpis', d, range, rolled10)).not.toContain('rollup_sessions');
    // A name without its event hours (written before they were named) may hold any hour before its ingest hour.
    const late = 'late/year=2026/month=12/day=03/hour=11/t-p0-o5-9-t1764759600000.parquet';
    expect(querySql('kpis', d, threeHours, { ...rolled10, unfoldedLate: [late] })).not.toContain('rollup_sessions');
    const holding10 = `late/year=2026/month=12/day=04/hour=01/t-p0-o5-9-t1764810000000-h${H / HOUR - 1}-${H / HOUR}.parquet`;
    expect(querySql('kpis', d, threeHours, { ...rolled10, unfoldedLate: [holding10] })).not.toContain('rollup_sessions');
    // First and last only: the hours between may be held too.
    const spanning = `late/year=2026/month=12/day=04/hour=01/t-p0-o5-9-t1764810000000-h${H / HOUR - 30}-${H / HOUR + 1}.parquet`;
    expect(querySql('kpis', d, threeHours, { ...rolled10, unfoldedLate: [spanning] })).not.toContain('rollup_sessions');
  });

  it('are read beside a late file not folded yet that holds rows of other hours only, whose hours alone go through the window', () => {
    // Rows of 09:00 and of the day before (a straggler), listed, ingested at 01:00 the next day.
    const holding09 = `late/year=2026/month=12/day=04/hour=01/t-p0-o5-9-t1764810000000-h${H / HOUR - 30}.${H / HOUR - 1}.parquet`;
    const compacted09And10: LakeView = { ...rolled10, compacted: new Map([...compacted10.compacted, [H - HOUR, ['compacted/year=2026/month=12/day=03/hour=09/g1-cd-0.parquet']]]), unfoldedLate: [holding09] };
    const sql = querySql('kpis', d, threeHours, compacted09And10);
    expect(sql).toContain('rollup_sessions');
    expect(sql).toContain(`FROM "db"."events_late"
    WHERE ((year = '2026' AND month = '12' AND day = '04' AND hour IN ('01')))
      AND "$path" IN ('s3://lake/${holding09}')`);
    // 09:00 compacted goes through the window with the late file; 11:00 is raw, so it does too; 10:00 is the rollup's.
    const windowAt = sql.indexOf('row_number()');
    expect(sql.indexOf('g1-cd-0.parquet')).toBeGreaterThan(windowAt);
    expect(sql).not.toContain('g2-ab-0.parquet');
    // A late file that holds rows of no hour in the range is not read at all, even one whose listed hours lie on both sides of it.
    for (const hours of [`${H / HOUR - 2}`, `${H / HOUR - 30}.${H / HOUR + 5}`]) {
      const sql = querySql('kpis', d, threeHours, { ...compacted09And10, unfoldedLate: [holding09.replace(`-h${H / HOUR - 30}.${H / HOUR - 1}`, `-h${hours}`)] });
      expect(sql).not.toContain('events_late');
      expect(sql).toContain('rollup_sessions');
    }
  });
});

describe('late file names', () => {
  it('give the event hours of their rows, listed or first and last, or nothing when written before they were named', () => {
    expect(lateKeyEventHours(`late/year=2026/month=12/day=04/hour=01/t-p0-o5-9-t1764810000000-h${H / HOUR - 1}-${H / HOUR}.parquet`)).toEqual([[H - HOUR, H]]);
    expect(lateKeyEventHours(`late/year=2026/month=12/day=04/hour=01/t-p0-o5-9-t1764810000000-h${H / HOUR - 5}.${H / HOUR}.parquet`)).toEqual([
      [H - 5 * HOUR, H - 5 * HOUR],
      [H, H],
    ]);
    expect(lateKeyIngestTime(`late/year=2026/month=12/day=04/hour=01/t-p0-o5-9-t1764810000000-h${H / HOUR - 5}.${H / HOUR}.parquet`)).toBe(1764810000000);
    expect(lateKeyIngestTime(`late/year=2026/month=12/day=04/hour=01/t-p0-o5-9-t1764810000000-h${H / HOUR - 1}-${H / HOUR}.parquet`)).toBe(1764810000000);
    expect(lateKeyEventHours('late/year=2026/month=12/day=03/hour=11/t-p0-o5-9-t1764759600000.parquet')).toBeUndefined();
    expect(lateKeyIngestTime('late/year=2026/month=12/day=03/hour=11/t-p0-o5-9-t1764759600000.parquet')).toBe(1764759600000);
  });
});
