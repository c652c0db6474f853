/**
 * The query layer's engine over a real Trino (Athena engine v3 runs Trino), with
 * the Athena dialect: the SQL the cloud runs, executed in the tests. It speaks
 * Trino's client protocol (POST /v1/statement, then follow nextUri until there
 * is none) and types values the way AthenaEngine does: numbers as numbers,
 * booleans as booleans, everything else as text.
 */
import { EMPTY_VIEW, type LakeView } from '../../lambdas/common/compaction-manifest.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { athenaDialect, type Dialect } from '../../lambdas/query/dialect.ts';
import type { QueryEngine, Row } from '../../lambdas/query/query-api.ts';

export interface TrinoEngineOptions {
  /** The server, e.g. http://127.0.0.1:28090. */
  readonly url: string;
  readonly catalog: string;
  /** The schema holding the events and quarantine tables (the Glue database in the cloud). */
  readonly schema: string;
  /** The session time zone (X-Trino-Time-Zone). @default the server's (UTC) */
  readonly timeZone?: string;
  /** The lake bucket the tables read (compacted files are picked by their path). @default none: no compacted hours */
  readonly bucket?: string;
  /** The lake's compaction state, as the query API Lambda reads it. */
  readonly lakeView?: () => Promise<LakeView>;
}

interface Column {
  readonly name: string;
  readonly type: string;
}

interface StatementPage {
  readonly nextUri?: string;
  readonly columns?: readonly Column[];
  readonly data?: readonly (readonly unknown[])[];
  readonly error?: { readonly errorName?: string; readonly message?: string };
  /** What the query has read so far: on the last page, all of it (Trino's client protocol). */
  readonly stats?: { readonly physicalInputBytes?: number };
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'double', 'real', 'decimal']);

/** A query Trino rejected or failed; `errorName` is Trino's (e.g. NO_NODES_AVAILABLE). */
export class TrinoQueryError extends Error {
  override readonly name = 'TrinoQueryError';
  constructor(
    message: string,
    readonly errorName: string | undefined,
  ) {
    super(message);
  }
}

export class TrinoEngine implements QueryEngine {
  readonly dialect: Dialect;

  constructor(private readonly options: TrinoEngineOptions) {
    this.dialect = athenaDialect(options.schema, options.bucket ?? 'no-bucket');
  }

  lakeView(): Promise<LakeView> {
    return this.options.lakeView?.() ?? Promise.resolve(EMPTY_VIEW);
  }

  /** The same server and schema with another session time zone. */
  withTimeZone(timeZone: string): TrinoEngine {
    return new TrinoEngine({ ...this.options, timeZone });
  }

  /** The same engine reading the lake's state from another source (the open hours folded, say). */
  withLakeView(lakeView: () => Promise<LakeView>): TrinoEngine {
    return new TrinoEngine({ ...this.options, lakeView });
  }

  async run(sql: string): Promise<Row[]> {
    const { columns, rows } = await this.runRaw(sql);
    return rows.map((values) => Object.fromEntries(columns.map((c, i) => [c.name, typed(values[i], c.type)])));
  }

  /**
   * Column names and Trino's types, and the values as the protocol sends them (what an Athena stand-in needs).
   * NO_NODES_AVAILABLE is asked again for up to 30 s: a query of the Hive catalog can meet it just after start,
   * while the node's catalogs are still announced to the scheduler (a system query already runs).
   */
  async runRaw(sql: string): Promise<{ columns: readonly Column[]; rows: (readonly unknown[])[]; physicalInputBytes: number }> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      try {
        return await this.runOnce(sql);
      } catch (error) {
        if (!(error instanceof TrinoQueryError && error.errorName === 'NO_NODES_AVAILABLE') || Date.now() > deadline) throw error;
        await sleep(500);
      }
    }
  }

  /** The bytes a statement reads from the files (what Athena bills, at its 10 MB minimum aside). */
  async bytesRead(sql: string): Promise<number> {
    return (await this.runRaw(sql)).physicalInputBytes;
  }

  private async runOnce(sql: string): Promise<{ columns: readonly Column[]; rows: (readonly unknown[])[]; physicalInputBytes: number }> {
    const headers = {
      'X-Trino-User': 'clickstream-test',
      'X-Trino-Source': 'clickstream-tests',
      'X-Trino-Catalog': this.options.catalog,
      'X-Trino-Schema': this.options.schema,
      ...(this.options.timeZone && { 'X-Trino-Time-Zone': this.options.timeZone }),
    };
    let page = await request(`${this.options.url}/v1/statement`, { method: 'POST', headers, body: sql });
    let columns: readonly Column[] = [];
    const rows: (readonly unknown[])[] = [];
    for (;;) {
      if (page.error) {
        throw new TrinoQueryError(`Trino ${page.error.errorName ?? 'error'}: ${page.error.message ?? 'no message'}\n${sql}`, page.error.errorName);
      }
      columns = page.columns ?? columns;
      rows.push(...(page.data ?? []));
      if (!page.nextUri) return { columns, rows, physicalInputBytes: page.stats?.physicalInputBytes ?? 0 };
      page = await request(page.nextUri, { method: 'GET', headers });
    }
  }
}

/** One protocol round trip; 502, 503 and 504 mean "ask again" in Trino's protocol. */
async function request(url: string, init: { method: string; headers: Record<string, string>; body?: string }): Promise<StatementPage> {
  for (let attempt = 0; ; attempt++) {
    const response = await fetch(url, { ...init, signal: AbortSignal.timeout(120_000) });
    if ([502, 503, 504].includes(response.status) && attempt < 20) {
      await response.body?.cancel();
      await sleep(100 * (attempt + 1));
      continue;
    }
    if (!response.ok) throw new TrinoQueryError(`Trino answered ${init.method} ${new URL(url).pathname} with HTTP ${response.status}: ${(await response.text()).slice(0, 300)}`, undefined);
    return (await response.json()) as StatementPage;
  }
}

/** A value as AthenaEngine would give it, judged by the type's name without parameters (`decimal(12,2)` is a decimal). */
function typed(value: unknown, type: string): unknown {
  if (value === null || value === undefined) return null;
  const base = type.replace(/\(.*$/, '');
  if (NUMERIC.has(base)) return Number(value);
  if (base === 'boolean') return value === true || value === 'true';
  return typeof value === 'string' ? value : JSON.stringify(value);
}
