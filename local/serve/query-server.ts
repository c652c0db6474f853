/**
 * The local dashboard server on 127.0.0.1: the static dashboard bundle (the same
 * files CloudFront serves), its config, and the query API over DuckDB on the
 * mirrored lake. The mirror syncs every couple of seconds; its delay is part of
 * the freshness the dashboard shows.
 */
import { createReadStream, existsSync, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { extname, join, normalize } from 'node:path';
import type { S3Client } from '@aws-sdk/client-s3';
import type { Collector } from '../../lambdas/collector/collect-request.ts';
import type { DashboardConfig } from '../../lambdas/query/dashboard-config.ts';
import { QueryApi } from '../../lambdas/query/query-api.ts';
import { SECURITY_HEADERS } from '../../lambdas/query/security-headers.ts';
import { DuckDbLake } from '../lake/duckdb-lake.ts';
import { answerCollect, COLLECT_PREFIX } from './collect-http.ts';
import { LakeMirror } from '../lake/lake-mirror.ts';

const CONTENT_TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.json': 'application/json; charset=utf-8',
  '.map': 'application/json; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
};

export interface QueryServerOptions {
  readonly port: number;
  readonly s3: S3Client;
  readonly bucket: string;
  /** Where the mirror keeps its copy of the lake. */
  readonly mirrorDirectory: string;
  /** The built dashboard (index.html, app.js, styles.css). */
  readonly siteDirectory: string;
  /** @default LAKE_SYNC_INTERVAL_MS */
  readonly syncIntervalMs?: number;
  /** How long an answer is reused (0: never, every request runs its queries; the benchmark's baseline). @default the sync interval */
  readonly cacheMs?: number;
  readonly log?: (entry: Record<string, unknown>) => void;
  /** Serves trackers' requests under /collect/ (as CloudFront does in the cloud); none: no collector. */
  readonly collector?: Collector;
}

/**
 * How often the server copies new lake objects and loads them into DuckDB: a
 * listing of the local store each time, and part of the freshness the dashboard
 * shows (the pipeline benchmark measures with the same interval).
 */
export const LAKE_SYNC_INTERVAL_MS = 1_000;

/**
 * The page's settings here: ranges aligned to the sync interval (answers are
 * reused that long, and nothing newer exists before the next sync anyway), and a
 * refresh every 2 s, so the page stays within about 3 s of the lake, whatever the
 * range (no query here is billed, so a long range keeps the short step).
 */
export function localDashboardConfig(syncIntervalMs = LAKE_SYNC_INTERVAL_MS): DashboardConfig {
  return { apiBaseUrl: '/api', refreshMs: 2_000, rangeStepMs: syncIntervalMs, stepsPerRange: 0 };
}

export class QueryServer {
  private server: Server | undefined;
  private timer: NodeJS.Timeout | undefined;
  private syncing: Promise<void> | undefined;
  lastSyncAt = 0;

  private constructor(
    private readonly options: QueryServerOptions,
    private readonly lake: DuckDbLake,
    private readonly mirror: LakeMirror,
    private readonly api: QueryApi,
  ) {}

  static async start(options: QueryServerOptions): Promise<QueryServer> {
    const mirror = new LakeMirror(options.s3, options.bucket, options.mirrorDirectory);
    // The table starts from what the copy holds (its index survives a restart), then takes each sync's changes.
    const lake = await DuckDbLake.open(options.mirrorDirectory, { log: options.log, files: mirror.keys() });
    // Answers are cached for one sync interval from when they were computed: newer data cannot exist sooner.
    const syncIntervalMs = options.syncIntervalMs ?? LAKE_SYNC_INTERVAL_MS;
    const api = new QueryApi({ engine: lake, cacheMs: options.cacheMs ?? syncIntervalMs });
    const server = new QueryServer(options, lake, mirror, api);
    await server.sync();
    server.timer = setInterval(() => void server.sync(), syncIntervalMs);
    server.server = createServer((req, res) => void server.route(req, res));
    await new Promise<void>((resolve, reject) => {
      server.server!.once('error', reject);
      server.server!.listen(options.port, '127.0.0.1', resolve);
    });
    return server;
  }

  get url(): string {
    return `http://127.0.0.1:${this.options.port}/`;
  }

  /** Fetches what changed in the lake and re-points DuckDB at it; a failed sync keeps the last copy. */
  sync(): Promise<void> {
    this.syncing ??= (async () => {
      try {
        const { changes } = await this.mirror.sync();
        // Every time, not only when files changed: an hour that failed to load is tried again.
        await this.lake.apply(changes);
        this.lastSyncAt = Date.now();
      } catch (error) {
        this.options.log?.({ level: 'WARN', message: 'lake sync failed', error: (error as Error).message });
      } finally {
        this.syncing = undefined;
      }
    })();
    return this.syncing;
  }

  async stop(): Promise<void> {
    clearInterval(this.timer);
    await this.syncing;
    await new Promise<void>((resolve) => (this.server ? this.server.close(() => resolve()) : resolve()));
    await this.lake.close();
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      // A page on another site can point a name it controls at 127.0.0.1 (DNS rebinding) and read
      // the answers as same-origin; only requests addressed to this server by its own names are served.
      const host = req.headers.host ?? '';
      if (host !== `127.0.0.1:${this.options.port}` && host !== `localhost:${this.options.port}`) {
        return send(res, 403, 'text/plain; charset=utf-8', `this server answers only requests for http://127.0.0.1:${this.options.port}/, not for host "${host.slice(0, 60)}"\n`);
      }
      const url = new URL(req.url ?? '/', 'http://localhost');
      if (this.options.collector && url.pathname.startsWith(`${COLLECT_PREFIX}/`)) return await answerCollect(this.options.collector, req, res, url);
      if (req.method !== 'GET' && req.method !== 'HEAD') return send(res, 405, 'text/plain; charset=utf-8', 'only GET and HEAD\n');
      if (url.pathname.startsWith('/api/') && url.pathname !== '/api/health') {
        // URLSearchParams keeps every value of a repeated parameter and fromEntries the last: refuse, do not guess.
        const repeated = [...url.searchParams.keys()].find((key, i, keys) => keys.indexOf(key) !== i);
        if (repeated !== undefined) return send(res, 400, CONTENT_TYPES['.json']!, JSON.stringify({ error: `${repeated.slice(0, 40)} is given more than once: give each parameter once` }));
        const response = await this.api.handlePath(url.pathname, Object.fromEntries(url.searchParams));
        res.writeHead(response.statusCode, { ...response.headers, ...SECURITY_HEADERS });
        res.end(response.body);
        return;
      }
      if (url.pathname === '/api/health') {
        return send(res, 200, CONTENT_TYPES['.json']!, JSON.stringify({ lastSyncAt: new Date(this.lastSyncAt).toISOString() }));
      }
      if (url.pathname === '/config.json') return send(res, 200, CONTENT_TYPES['.json']!, JSON.stringify(localDashboardConfig(this.options.syncIntervalMs)));
      this.serveFile(url.pathname, res);
    } catch (error) {
      this.options.log?.({ level: 'ERROR', message: 'request failed', url: req.url, error: (error as Error).message });
      send(res, 500, CONTENT_TYPES['.json']!, JSON.stringify({ error: 'the query failed; see the server log' }));
    }
  }

  private serveFile(pathname: string, res: ServerResponse): void {
    const relative = normalize(pathname === '/' ? '/index.html' : pathname);
    const file = join(this.options.siteDirectory, relative);
    // normalize() resolves '..'; anything that still escapes the site directory is refused.
    if (!file.startsWith(this.options.siteDirectory) || !existsSync(file) || !statSync(file).isFile()) {
      return send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    }
    res.writeHead(200, { 'content-type': CONTENT_TYPES[extname(file)] ?? 'application/octet-stream', ...SECURITY_HEADERS });
    createReadStream(file).pipe(res);
  }
}

function send(res: ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'content-type': contentType, ...SECURITY_HEADERS });
  res.end(body);
}
