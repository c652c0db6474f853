/**
 * The query API, one handler for the cloud Lambda and the local server: a path
 * names a query, the query string carries its parameters, the answer is JSON.
 * Unknown queries and bad parameters get a 400 with the reason; answers are
 * cached for a few seconds so a dashboard refresh does not fan out into many
 * engine queries.
 */
import type { Dialect } from './dialect.ts';
import { isQueryName, querySql, QUERY_NAMES, timeBucket, type QueryName } from './named-queries.ts';
import { BadRequestError, parseParameters, type QueryParameters } from './parameters.ts';

export type Row = Record<string, unknown>;

export interface QueryEngine {
  readonly dialect: Dialect;
  run(sql: string): Promise<Row[]>;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface QueryApiOptions {
  readonly engine: QueryEngine;
  /** How long an answer is reused for the same query and parameters. @default 5000 */
  readonly cacheMs?: number;
  readonly now?: () => number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };

export class QueryApi {
  private readonly cache = new Map<string, { expires: number; body: string }>();
  private readonly cacheMs: number;
  private readonly now: () => number;

  constructor(private readonly options: QueryApiOptions) {
    this.cacheMs = options.cacheMs ?? 5_000;
    this.now = options.now ?? Date.now;
  }

  /** A request path as the browser sent it (`/api/query/<name>`, percent-encoded): 404 for any other path, 400 for bad encoding. */
  async handlePath(path: string, query: Readonly<Record<string, string | undefined>>): Promise<ApiResponse> {
    const match = /^\/api\/query\/([^/]+)$/.exec(path);
    if (!match) return respond(404, { error: 'use /api/query/<name>' });
    let name: string;
    try {
      name = decodeURIComponent(match[1]!);
    } catch (error) {
      if (error instanceof URIError) return respond(400, { error: 'the query name in the path is not valid percent-encoding: use /api/query/<name>, e.g. /api/query/kpis' });
      throw error;
    }
    return this.handle(name, query);
  }

  /** `name` is the last path segment (`/api/query/<name>`); `query` the decoded query string. */
  async handle(name: string, query: Readonly<Record<string, string | undefined>>): Promise<ApiResponse> {
    const now = this.now();
    let params: QueryParameters;
    try {
      if (!isQueryName(name)) throw new BadRequestError(`unknown query "${name.slice(0, 40)}": use one of ${QUERY_NAMES.join(', ')}`);
      params = parseParameters(query, now);
    } catch (error) {
      if (error instanceof BadRequestError) return respond(400, { error: error.message });
      throw error;
    }
    const key = `${name}?${JSON.stringify(params)}`;
    const hit = this.cache.get(key);
    if (hit && hit.expires > now) return { statusCode: 200, headers: JSON_HEADERS, body: hit.body };

    const rows = await this.options.engine.run(querySql(name, this.options.engine.dialect, params));
    const body = JSON.stringify({
      query: name,
      parameters: { from: new Date(params.fromMs).toISOString(), to: new Date(params.toMs).toISOString(), device: params.device, source: params.source, country: params.country },
      ...(name === 'revenue_over_time' && { bucket: timeBucket(params) }),
      rows: derive(name, rows),
      generatedAt: new Date(now).toISOString(),
    });
    this.cache.set(key, { expires: now + this.cacheMs, body });
    for (const [k, v] of this.cache) if (v.expires <= now) this.cache.delete(k);
    return { statusCode: 200, headers: JSON_HEADERS, body };
  }
}

function respond(statusCode: number, body: unknown): ApiResponse {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

const ratio = (a: unknown, b: unknown) => (Number(b) > 0 ? Number(a) / Number(b) : null);

/** Figures computed from the counts, the same way for both engines. */
export function derive(name: QueryName, rows: Row[]): Row[] {
  switch (name) {
    case 'kpis':
      return rows.map((r) => ({
        ...r,
        average_order_value: ratio(r.revenue, r.orders),
        conversion_rate: ratio(r.converted_sessions, r.sessions),
        cart_abandonment_rate: ratio(r.abandoned_carts, r.carted_sessions),
      }));
    case 'funnel':
      return rows.map((r) => ({
        ...r,
        view_rate: ratio(r.viewed, r.sessions),
        cart_rate: ratio(r.carted, r.viewed),
        checkout_rate: ratio(r.checked_out, r.carted),
        purchase_rate: ratio(r.purchased, r.checked_out),
      }));
    case 'traffic_sources':
    case 'devices':
      return rows.map((r) => ({ ...r, conversion_rate: ratio(r.converted_sessions, r.sessions) }));
    default:
      return rows;
  }
}
