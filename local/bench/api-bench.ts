/**
 * The local query API under 50 connections: a lake of simulated events for the
 * last hour in a MinIO of the benchmark's own, the real `serve` server (mirror,
 * DuckDB, QueryApi) over it, and a bounded load on one URL at a time, all asking
 * for the same aligned range, as many viewers of one dashboard do.
 * Baselines in the same run: a static file from the same server (what the HTTP
 * path alone gives), and /api/query/kpis with caching off (every request runs
 * its query, as on main where no answer was ever reused).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import { mapWithLimit } from '../../lambdas/common/map-with-limit.ts';
import { alignedRange } from '../../lambdas/query/dashboard-config.ts';
import type { LocalConfig } from '../common/config.ts';
import { bundleDashboard } from '../common/bundle.ts';
import { LAKE_SYNC_INTERVAL_MS, QueryServer } from '../serve/query-server.ts';
import { ensureBucket, localS3Client, startMinio, stopMinio } from '../services/minio.ts';
import { simulateLake } from './bench-lake.ts';
import { load, type LoadResult } from './load.ts';

export interface ApiBenchResult {
  readonly lakeEvents: number;
  readonly lakeFiles: number;
  readonly connections: number;
  readonly columnBytesPerEvent: Readonly<Record<string, number>>;
  /** /api/dashboard, every panel, cache on (the server's defaults). */
  readonly dashboard: LoadResult;
  /** /api/query/kpis, cache on. */
  readonly kpis: LoadResult;
  /** Baseline: /styles.css from the same server. */
  readonly staticFile: LoadResult;
  /** Baseline: /api/query/kpis with caching off. */
  readonly kpisUncached: LoadResult;
}

const CONNECTIONS = 50;

export async function benchApi(config: LocalConfig, lakeEvents: number, log: (line: string) => void): Promise<ApiBenchResult> {
  await startMinio(config, log);
  const s3 = localS3Client(config);
  const mirrorRoot = mkdtempSync(join(tmpdir(), 'clickstream-api-bench-'));
  try {
    await ensureBucket(config);
    const now = Date.now();
    log(`api: writing a lake of ${lakeEvents.toLocaleString('en-US')} events over the last hour to MinIO`);
    const pending: { key: string; body: Uint8Array }[] = [];
    const lake = await simulateLake(lakeEvents, now - 3_600_000, 3_600_000, (key, body) => {
      pending.push({ key, body });
      return Promise.resolve();
    });
    await mapWithLimit(pending, 8, ({ key, body }) => s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body })));
    pending.length = 0;

    const siteDirectory = await bundleDashboard();
    const serve = (cacheMs: number | undefined, name: string) =>
      QueryServer.start({ port: config.dashboardPort, s3, bucket: config.bucket, mirrorDirectory: join(mirrorRoot, name), siteDirectory, ...(cacheMs !== undefined && { cacheMs }) });
    const { fromMs, toMs } = alignedRange(now, 3_600_000, LAKE_SYNC_INTERVAL_MS);
    const range = `from=${fromMs}&to=${toMs}`;

    log('api: /api/query/kpis with caching off (baseline)');
    const uncached = await serve(0, 'uncached');
    let kpisUncached: LoadResult;
    try {
      kpisUncached = await load(`${uncached.url}api/query/kpis?${range}`, CONNECTIONS, 200, 240);
    } finally {
      await uncached.stop();
    }

    const server = await serve(undefined, 'cached');
    try {
      log('api: /styles.css (baseline), /api/dashboard and /api/query/kpis, cache on');
      const staticFile = await load(`${server.url}styles.css`, CONNECTIONS, 20_000, 120);
      const dashboard = await load(`${server.url}api/dashboard?${range}`, CONNECTIONS, 20_000, 120);
      const kpis = await load(`${server.url}api/query/kpis?${range}`, CONNECTIONS, 20_000, 120);
      return { lakeEvents, lakeFiles: lake.files, connections: CONNECTIONS, columnBytesPerEvent: lake.columnBytesPerEvent, dashboard, kpis, staticFile, kpisUncached };
    } finally {
      await server.stop();
    }
  } finally {
    s3.destroy();
    await stopMinio(config);
    rmSync(mirrorRoot, { recursive: true, force: true });
  }
}
