/**
 * Dashboard refresh latency: every named query the dashboard sends on a refresh,
 * through the QueryApi (cache off) on DuckDB, over a lake of N simulator events
 * spread over the last 24 hours. The lake is written straight to a local
 * directory by the consumer core (the same Parquet the mirror would hold).
 * Baseline in the same run: the same last-hour refresh over the raw files, with
 * copies removed by a window in the SQL (what the Athena queries do), instead of
 * the engine's de-duplicated table; and the 24-hour refresh without the rollups.
 *
 * The lake ends at a fixed minute of an hour (LAKE_END_MINUTE), not at the wall clock's, so every
 * run reads the same split of hours: which hours a range covers whole, and which have ended, follow
 * the minute, and runs at other minutes are not comparable.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { availableParallelism, tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { HOUR_MS } from '../../lambdas/common/lake-timing.ts';
import { duckdbDialect } from '../../lambdas/query/dialect.ts';
import { QUERY_NAMES } from '../../lambdas/query/named-queries.ts';
import { QueryApi } from '../../lambdas/query/query-api.ts';
import { DuckDbLake } from '../lake/duckdb-lake.ts';
import { simulateLake } from './bench-lake.ts';
import { percentile } from './stats.ts';

export interface DashboardBenchResult {
  readonly lakeEvents: number;
  readonly lakeFiles: number;
  readonly lakeBytes: number;
  readonly fillSeconds: number;
  /** Loading the files into the engine's de-duplicated table (what `serve` does at start). */
  readonly loadSeconds: number;
  /** Parquet bytes per event of each column (compressed, from the files' footers): what a scan of it costs. */
  readonly columnBytesPerEvent: Readonly<Record<string, number>>;
  /** Memory DuckDB holds for the loaded table. */
  readonly tableMemoryBytes: number;
  readonly refreshes: number;
  /** Full refresh (one /api/dashboard request, as the page sends it), last hour. */
  readonly lastHour: { readonly p50Ms: number; readonly p95Ms: number };
  /** The same over the whole 24 hours (its ended hours from the rollups). */
  readonly last24Hours: { readonly p50Ms: number; readonly p95Ms: number };
  /** Baseline: the 24-hour refresh with products and activity read from their rows per device and source, as a filtered view reads them (before 2026-12-05's sixteenth session). */
  readonly last24HoursWithoutDefaultView: { readonly p50Ms: number; readonly p95Ms: number };
  /** Baseline: the 24-hour refresh on one reader connection, DuckDB running each query on every core, without the default view's rows (the engine before 2026-12-05's sixteenth session). */
  readonly last24HoursOneReader: { readonly p50Ms: number; readonly p95Ms: number };
  /** Baseline: the 24-hour refresh with only the hours rolled up that are settled for the compactor (16 minutes after their end; the engine's rule before 2026-12-05). */
  readonly last24HoursSettledOnly: { readonly p50Ms: number; readonly p95Ms: number };
  /** Baseline: the 24-hour refresh with the rollups but no count rows (every id counted distinct, as before them). */
  readonly last24HoursWithoutCounts: { readonly p50Ms: number; readonly p95Ms: number };
  /** Baseline: the 24-hour refresh over the de-duplicated events alone, no rollups. */
  readonly last24HoursWithoutRollups: { readonly p50Ms: number; readonly p95Ms: number };
  /** Baseline: the last-hour refresh over the raw Parquet files with the de-duplication window. */
  readonly rawFilesLastHour: { readonly p50Ms: number; readonly p95Ms: number };
}

/**
 * The minute of the hour the lake ends at: inside the 16 minutes after an hour's end in which the
 * compactor does not touch that hour, so the baseline of the rule before (only settled hours rolled
 * up) reads its previous hour from the events.
 */
export const LAKE_END_MINUTE = 10;

export async function benchDashboard(events: number, refreshes = 20, log: (line: string) => void = () => undefined): Promise<DashboardBenchResult> {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-dash-bench-'));
  try {
    // In the past, so no event is stamped ahead of its ingest time.
    const now = Math.floor(Date.now() / HOUR_MS) * HOUR_MS - HOUR_MS + LAKE_END_MINUTE * 60_000;
    const started = performance.now();
    // The files written, handed to the table as the mirror would hand them on.
    const written = new Set<string>();
    const { files, bytes, columnBytesPerEvent } = await simulateLake(
      events,
      now - 86_400_000,
      86_400_000,
      (key, body) => {
        written.add(key);
        const file = join(dir, key);
        mkdirSync(dirname(file), { recursive: true });
        writeFileSync(file, body);
        return Promise.resolve();
      },
      log,
    );
    const fillSeconds = (performance.now() - started) / 1000;

    const loadStarted = performance.now();
    // Opened with its clock 16 minutes behind, the engine rolls up what the rule before did (only
    // settled hours); the baseline runs on that, then the clock moves to now and the last hour rolls up.
    let engineNow = now - 16 * 60_000;
    const lake = await DuckDbLake.open(dir, { files: [...written], now: () => engineNow });
    let loadSeconds = (performance.now() - loadStarted) / 1000;
    try {
      await lake.run(`CREATE VIEW raw_events AS SELECT * FROM read_parquet('${dir}/events/**/*.parquet', hive_partitioning = true, hive_types_autocast = false)`);
      // The page's one request; or (`each`, for the baseline without count rows, where the request would run
      // Athena's one statement, whose suffix reads columns the engine does not keep) the named queries, all sent at once.
      const refresh = async (api: QueryApi, rangeMs: number, each: boolean) => {
        const t = performance.now();
        const query = { from: String(now - rangeMs), to: String(now) };
        const responses = each ? await Promise.all(QUERY_NAMES.map((name) => api.handle(name, query))) : [await api.handleDashboard(query)];
        const failed = responses.find((r) => r.statusCode !== 200);
        if (failed) throw new Error(`a dashboard request failed during the benchmark: ${failed.body}`);
        return performance.now() - t;
      };
      const measure = async (api: QueryApi, rangeMs: number, rounds = refreshes, each = false) => {
        await refresh(api, rangeMs, each); // warm the file metadata cache
        const times: number[] = [];
        for (let i = 0; i < rounds; i++) times.push(await refresh(api, rangeMs, each));
        return { p50Ms: percentile(times, 0.5), p95Ms: percentile(times, 0.95) };
      };
      const last24HoursSettledOnly = await measure(new QueryApi({ engine: lake, cacheMs: 0, now: () => now }), 86_400_000, Math.min(5, refreshes));
      engineNow = now;
      const rollUpStarted = performance.now();
      await lake.apply({ added: [], changed: [], removed: [] });
      // The load at start includes the last hour's roll-up, which the engine did then, at its clock.
      loadSeconds += (performance.now() - rollUpStarted) / 1000;
      const [memory] = await lake.run('SELECT sum(memory_usage_bytes) AS bytes FROM duckdb_memory()');
      const tableMemoryBytes = Number(memory?.bytes);
      const tableApi = new QueryApi({ engine: lake, cacheMs: 0, now: () => now });
      const rawApi = new QueryApi({ engine: { dialect: duckdbDialect('raw_events', 'lake_quarantine', false), run: (sql) => lake.run(sql) }, cacheMs: 0, now: () => now });
      // The same table without its view of the rollups: every hour from the events.
      const eventsOnlyApi = new QueryApi({ engine: { dialect: lake.dialect, run: (sql) => lake.run(sql) }, cacheMs: 0, now: () => now });
      // The same rollups without the count rows of regular users (regular-counts.ts): every id counted distinct.
      const idsOnlyApi = new QueryApi({ engine: { dialect: { ...lake.dialect, counts: undefined }, run: (sql) => lake.run(sql), lakeView: () => lake.lakeView() }, cacheMs: 0, now: () => now });
      const withoutDefaultView = { dialect: { ...lake.dialect, defaultViewTable: undefined }, run: (sql: string) => lake.run(sql), lakeView: () => lake.lakeView() };
      const withoutDefaultViewApi = new QueryApi({ engine: withoutDefaultView, cacheMs: 0, now: () => now });
      // The engine before: one reader connection (its queries one at a time, each on every core), no default view.
      const oneReaderApi = new QueryApi({ engine: withoutDefaultView, dashboardParallelism: 1, cacheMs: 0, now: () => now });
      const lastHour = await measure(tableApi, 3_600_000);
      const rawFilesLastHour = await measure(rawApi, 3_600_000);
      // Seconds each at 10M events: fewer rounds.
      const last24Hours = await measure(tableApi, 86_400_000, refreshes);
      const last24HoursWithoutDefaultView = await measure(withoutDefaultViewApi, 86_400_000, refreshes);
      // DuckDB's default threads, as the engine had them: a thread per core.
      const [{ threads }] = (await lake.run(`SELECT current_setting('threads') AS threads`)) as [{ threads: number }];
      await lake.run(`SET threads = ${availableParallelism()}`);
      const last24HoursOneReader = await measure(oneReaderApi, 86_400_000, refreshes);
      await lake.run(`SET threads = ${threads}`);
      const last24HoursWithoutCounts = await measure(idsOnlyApi, 86_400_000, Math.min(5, refreshes), true);
      const last24HoursWithoutRollups = await measure(eventsOnlyApi, 86_400_000, Math.min(5, refreshes));
      const [row] = await lake.run('SELECT count(*) AS n FROM lake_events');
      log(`lake holds ${String(row?.n)} distinct events in ${files} files`);
      return { lakeEvents: events, lakeFiles: files, lakeBytes: bytes, fillSeconds, columnBytesPerEvent, loadSeconds, tableMemoryBytes, refreshes, lastHour, rawFilesLastHour, last24Hours, last24HoursWithoutDefaultView, last24HoursOneReader, last24HoursSettledOnly, last24HoursWithoutCounts, last24HoursWithoutRollups };
    } finally {
      await lake.close();
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
