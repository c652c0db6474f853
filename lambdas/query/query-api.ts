/**
 * The query API, one handler for the cloud Lambda and the local server:
 * - `/api/query/<name>` answers one named query;
 * - `/api/dashboard` answers every panel of the dashboard in one request, so a
 *   refresh is one function invocation, not eleven: on an engine that bills each
 *   scan (Athena) in one statement, each table read once (dashboard-statement.ts);
 *   on the local engine, or where that statement would be too long, as the named
 *   queries, run with bounded parallelism.
 * The query string carries the parameters; the answer is JSON. Unknown paths get
 * a 404, unknown queries and bad parameters a 400 with the reason. Answers are
 * cached (AnswerCache: expiry from completion, identical requests merged), so
 * viewers sending the same aligned range share one engine run.
 */
import { EMPTY_VIEW, type LakeView } from '../common/compaction-manifest.ts';
import { AnswerCache } from './answer-cache.ts';
import { dashboardPanels, dashboardStatement } from './dashboard-statement.ts';
import type { Dialect } from './dialect.ts';
import { mapWithLimit } from '../common/map-with-limit.ts';
import { isQueryName, querySql, QUERY_NAMES, timeBucket, type QueryName } from './named-queries.ts';
import { BadRequestError, parseParameters, type QueryParameters } from './parameters.ts';

export type Row = Record<string, unknown>;

export interface QueryEngine {
  readonly dialect: Dialect;
  run(sql: string): Promise<Row[]>;
  /** The lake's compaction state, read once per answer (engines over the raw files; a de-duplicated engine has none). */
  lakeView?(): Promise<LakeView>;
}

export interface ApiResponse {
  readonly statusCode: number;
  readonly headers: Record<string, string>;
  readonly body: string;
}

export interface QueryApiOptions {
  readonly engine: QueryEngine;
  /** How long an answer is reused for the same query and parameters, counted from when it was computed (or that for these parameters, asked now); 0 turns caching off. @default 5000 */
  readonly cacheMs?: number | ((params: QueryParameters, nowMs: number) => number);
  /** Answers kept at most (per query and per dashboard). @default 500 */
  readonly maxCachedAnswers?: number;
  /** Named queries one dashboard request runs at once. @default 4 */
  readonly dashboardParallelism?: number;
  readonly now?: () => number;
}

const JSON_HEADERS = { 'content-type': 'application/json; charset=utf-8', 'cache-control': 'no-store' };
const ROUTES = 'use /api/dashboard or /api/query/<name>';

/**
 * Each query's work, in ms: measured on the local engine, a 24-hour range at 10M events, each query
 * alone on one thread. A dashboard request starts its queries the most work first (HEAVIEST_FIRST), so
 * the engine's readers finish together rather than one of them taking a large query last: on two
 * readers the refresh took 425-446 ms against 471-488 in QUERY_NAMES' order (docs/benchmarks.md,
 * "Dashboard refresh").
 */
const QUERY_WORK: Readonly<Record<QueryName, number>> = {
  kpis: 195,
  demographics: 168,
  traffic_sources: 125,
  funnel: 117,
  devices: 115,
  events_per_minute: 33,
  revenue_over_time: 32,
  top_products: 28,
  top_categories: 24,
  freshness: 8,
  quarantine: 1,
};
const HEAVIEST_FIRST: readonly QueryName[] = [...QUERY_NAMES].sort((a, b) => QUERY_WORK[b] - QUERY_WORK[a]);

/** Quarantined records have no device, source or country: the panel ignores the filters (its JSON says so), and its named query's answer is shared by every filter combination. */
const UNFILTERED: ReadonlySet<QueryName> = new Set(['quarantine']);

export class QueryApi {
  private readonly answers: AnswerCache<string>;
  private readonly cacheMs: (params: QueryParameters, nowMs: number) => number;
  private readonly dashboardParallelism: number;
  private readonly now: () => number;

  constructor(private readonly options: QueryApiOptions) {
    this.now = options.now ?? Date.now;
    const cacheMs = options.cacheMs ?? 5_000;
    this.cacheMs = typeof cacheMs === 'number' ? () => cacheMs : cacheMs;
    // Every answer is kept for its own time (ttl), so the cache's default is never used.
    this.answers = new AnswerCache({ ttlMs: 0, maxEntries: options.maxCachedAnswers ?? 500, now: this.now });
    this.dashboardParallelism = options.dashboardParallelism ?? 4;
    if (!Number.isInteger(this.dashboardParallelism) || this.dashboardParallelism < 1) {
      throw new Error(`dashboardParallelism must be a whole number of queries, at least 1, got ${this.dashboardParallelism}`);
    }
  }

  /** A request path as the browser sent it (percent-encoded): 404 for a path that is not a route, 400 for bad encoding. */
  async handlePath(path: string, query: Readonly<Record<string, string | undefined>>): Promise<ApiResponse> {
    if (path === '/api/dashboard') return this.handleDashboard(query);
    const match = /^\/api\/query\/([^/]+)$/.exec(path);
    if (!match) return respond(404, { error: `no such route: ${ROUTES}` });
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
    const parsed = this.parse(query, name);
    if ('error' in parsed) return parsed.error;
    return refusedAsBadRequest(async () => ok(await this.answer(name as QueryName, parsed.params)));
  }

  /** Every named query for the same parameters, as `{ parameters, panels: { <name>: <its /api/query answer> } }`. */
  async handleDashboard(query: Readonly<Record<string, string | undefined>>): Promise<ApiResponse> {
    const parsed = this.parse(query);
    if ('error' in parsed) return parsed.error;
    const { params } = parsed;
    return refusedAsBadRequest(async () => ok(await this.dashboardBody(params)));
  }

  private dashboardBody(params: QueryParameters): Promise<string> {
    return this.answers.get(`dashboard?${JSON.stringify(params)}`, async () => {
      // One view of the lake for every panel, so they agree with each other.
      const view = this.options.engine.lakeView ? await this.view() : EMPTY_VIEW;
      const { dialect } = this.options.engine;
      const statement = dashboardStatement(dialect, params, view);
      // Without the one statement, every query is built before any runs: one too long refuses the request (400) at no cost.
      if (!statement) for (const name of QUERY_NAMES) querySql(name, dialect, paramsOf(name, params), view);
      const panels = statement
        ? await this.answerInOneStatement(statement, params)
        : await this.answerEach(params, view);
      // Each panel is already JSON: joined as text, not parsed and written again.
      const json = QUERY_NAMES.map((name, i) => `${JSON.stringify(name)}:${panels[i]!}`).join(',');
      return `{"parameters":${JSON.stringify(describe(params))},"panels":{${json}},"generatedAt":${JSON.stringify(new Date(this.now()).toISOString())}}`;
    }, this.ttl(params));
  }

  /** Every panel's answer (in QUERY_NAMES order) as its named query, the most work first (HEAVIEST_FIRST). */
  private async answerEach(params: QueryParameters, view: LakeView): Promise<string[]> {
    const answers = await mapWithLimit(HEAVIEST_FIRST, this.dashboardParallelism, (name) => this.answer(name, paramsOf(name, params), view));
    return QUERY_NAMES.map((name) => answers[HEAVIEST_FIRST.indexOf(name)]!);
  }

  /** The parameters (and, for a single query, its name) checked: what to run, or the 400 that says why not. */
  private parse(query: Readonly<Record<string, string | undefined>>, name?: string): { params: QueryParameters } | { error: ApiResponse } {
    try {
      if (name !== undefined && !isQueryName(name)) throw new BadRequestError(`unknown query "${name.slice(0, 40)}": use one of ${QUERY_NAMES.join(', ')}`);
      return { params: parseParameters(query, this.now()) };
    } catch (error) {
      if (error instanceof BadRequestError) return { error: respond(400, { error: error.message }) };
      throw error;
    }
  }

  /** The engine's view of the lake; a plain value (no extra turn of the event loop) when it has none. */
  private view(): LakeView | Promise<LakeView> {
    return this.options.engine.lakeView?.() ?? EMPTY_VIEW;
  }

  /** One named query's answer as JSON text, from the cache or the engine. */
  private answer(name: QueryName, params: QueryParameters, view?: LakeView): Promise<string> {
    return this.answers.get(`${name}?${JSON.stringify(params)}`, async () => {
      const rows = await this.options.engine.run(querySql(name, this.options.engine.dialect, params, view ?? (this.options.engine.lakeView ? await this.view() : EMPTY_VIEW)));
      return this.panelJson(name, params, rows);
    }, this.ttl(params));
  }

  /** How long an answer over these parameters is kept. */
  private ttl(params: QueryParameters): number {
    return this.cacheMs(params, this.now());
  }

  /** Every panel's answer (in QUERY_NAMES order) from one statement (dashboard-statement.ts): each table read once. */
  private async answerInOneStatement(statement: string, params: QueryParameters): Promise<string[]> {
    const panels = dashboardPanels(await this.options.engine.run(statement), this.options.engine.dialect, params);
    return QUERY_NAMES.map((name) => this.panelJson(name, paramsOf(name, params), panels[name]));
  }

  private panelJson(name: QueryName, params: QueryParameters, rows: Row[]): string {
    return JSON.stringify({
      query: name,
      parameters: describe(params),
      ...(name === 'revenue_over_time' && { bucket: timeBucket(params) }),
      rows: derive(name, rows),
      generatedAt: new Date(this.now()).toISOString(),
    });
  }
}

function describe(params: QueryParameters): Record<string, string | undefined> {
  return { from: new Date(params.fromMs).toISOString(), to: new Date(params.toMs).toISOString(), device: params.device, source: params.source, country: params.country };
}

/** A panel's parameters: the request's, without the filters for a panel that takes none. */
function paramsOf(name: QueryName, params: QueryParameters): QueryParameters {
  return UNFILTERED.has(name) ? { fromMs: params.fromMs, toMs: params.toMs } : params;
}

function ok(body: string): ApiResponse {
  return { statusCode: 200, headers: JSON_HEADERS, body };
}

function respond(statusCode: number, body: unknown): ApiResponse {
  return { statusCode, headers: JSON_HEADERS, body: JSON.stringify(body) };
}

/** An answer, or the 400 that says what to change when the request cannot run as asked (a range naming too many files for one statement). */
async function refusedAsBadRequest(answer: () => Promise<ApiResponse>): Promise<ApiResponse> {
  try {
    return await answer();
  } catch (error) {
    if (error instanceof BadRequestError) return respond(400, { error: error.message });
    throw error;
  }
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
