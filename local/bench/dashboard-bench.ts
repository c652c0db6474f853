/**
 * Dashboard refresh latency: every named query the dashboard sends on a refresh,
 * through the QueryApi (cache off) on DuckDB, over a lake of N simulator events
 * spread over the last 24 hours. The lake is written straight to a local
 * directory by the consumer core (the same Parquet the mirror would hold).
 * Baseline in the same run: a bare count(*) over all the files.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { planBatch } from '../../lambdas/consumer/plan-batch.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { QUERY_NAMES } from '../../lambdas/query/named-queries.ts';
import { QueryApi } from '../../lambdas/query/query-api.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';
import { DuckDbLake } from '../duckdb-lake.ts';

export interface DashboardBenchResult {
  readonly lakeEvents: number;
  readonly lakeFiles: number;
  readonly lakeBytes: number;
  readonly fillSeconds: number;
  readonly refreshes: number;
  /** Full refresh (all queries in parallel, as the page sends them), last hour. */
  readonly lastHour: { readonly p50Ms: number; readonly p95Ms: number };
  /** The same over the whole 24 hours. */
  readonly last24Hours: { readonly p50Ms: number; readonly p95Ms: number };
  /** count(*) over every file, the cheapest full read. */
  readonly countAllMs: number;
}

export async function benchDashboard(events: number, refreshes = 20, log: (line: string) => void = () => undefined): Promise<DashboardBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-dash-bench-'));
  try {
    const now = Date.now();
    const started = performance.now();
    const sim = new ShopperSimulator({ seed: 3, startTimeMs: now - 86_400_000, eventsPerSecond: events / 86_400, warmStart: true });
    let files = 0;
    let bytes = 0;
    for (let offset = 0; offset < events; offset += 10_000) {
      const batch: SourceRecord[] = [];
      for (let i = 0; i < Math.min(10_000, events - offset); i++) batch.push({ topic: 'bench', partition: 0, offset: String(offset + i), value: sim.nextRecord().value });
      for (const plan of planBatch(batch, now)) {
        for (const object of plan.events) {
          const body = await encodeParquet(object.rows);
          const file = join(dir, object.key);
          mkdirSync(dirname(file), { recursive: true });
          writeFileSync(file, body);
          files++;
          bytes += body.length;
        }
      }
      if (offset % 1_000_000 === 0) log(`lake: ${offset.toLocaleString('en-US')} of ${events.toLocaleString('en-US')} events written`);
    }
    const fillSeconds = (performance.now() - started) / 1000;

    const lake = await DuckDbLake.open(dir);
    try {
      const api = new QueryApi({ engine: lake, cacheMs: 0 });
      const refresh = async (rangeMs: number) => {
        const t = performance.now();
        const query = { from: String(now - rangeMs), to: String(now) };
        const responses = await Promise.all(QUERY_NAMES.map((name) => api.handle(name, query)));
        if (responses.some((r) => r.statusCode !== 200)) throw new Error('a dashboard query failed during the benchmark');
        return performance.now() - t;
      };
      const measure = async (rangeMs: number) => {
        await refresh(rangeMs); // warm the file metadata cache
        const times: number[] = [];
        for (let i = 0; i < refreshes; i++) times.push(await refresh(rangeMs));
        times.sort((a, b) => a - b);
        return { p50Ms: times[Math.floor(times.length * 0.5)]!, p95Ms: times[Math.min(times.length - 1, Math.ceil(times.length * 0.95) - 1)]! };
      };
      const lastHour = await measure(3_600_000);
      const last24Hours = await measure(86_400_000);
      const t = performance.now();
      const [row] = await lake.run('SELECT count(*) AS n FROM lake_events');
      const countAllMs = performance.now() - t;
      log(`lake holds ${String(row?.n)} rows in ${files} files`);
      return { lakeEvents: events, lakeFiles: files, lakeBytes: bytes, fillSeconds, refreshes, lastHour, last24Hours, countAllMs };
    } finally {
      lake.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
