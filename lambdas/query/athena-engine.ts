/**
 * The cloud query engine: a thin adapter that runs SQL in an Athena workgroup
 * and returns rows typed from the result metadata. The workgroup enforces the
 * result location, encryption and the bytes-scanned limit.
 */
import { AthenaClient, GetQueryExecutionCommand, paginateGetQueryResults, StartQueryExecutionCommand, StopQueryExecutionCommand, type ColumnInfo } from '@aws-sdk/client-athena';
import { setTimeout as sleep } from 'node:timers/promises';
import type { LakeView } from '../common/compaction-manifest.ts';
import { athenaDialect, type Dialect } from './dialect.ts';
import type { QueryEngine, Row } from './query-api.ts';

export interface AthenaEngineOptions {
  readonly database: string;
  /** The lake bucket: compacted files are picked by their S3 path. */
  readonly bucket: string;
  /** The lake's compaction state (storeLakeView over the bucket). */
  readonly lakeView: () => Promise<LakeView>;
  readonly workGroup: string;
  /** @default 200 */
  readonly pollIntervalMs?: number;
  /** @default 30000 */
  readonly timeoutMs?: number;
}

const NUMERIC = new Set(['tinyint', 'smallint', 'integer', 'bigint', 'double', 'float', 'real', 'decimal']);

export class AthenaEngine implements QueryEngine {
  readonly dialect: Dialect;

  constructor(
    private readonly athena: AthenaClient,
    private readonly options: AthenaEngineOptions,
  ) {
    this.dialect = athenaDialect(options.database, options.bucket);
  }

  lakeView(): Promise<LakeView> {
    return this.options.lakeView();
  }

  async run(sql: string): Promise<Row[]> {
    const { QueryExecutionId: id } = await this.athena.send(
      new StartQueryExecutionCommand({ QueryString: sql, WorkGroup: this.options.workGroup, QueryExecutionContext: { Database: this.options.database } }),
    );
    if (!id) throw new Error('Athena returned no query execution id');
    const deadline = Date.now() + (this.options.timeoutMs ?? 30_000);
    for (;;) {
      const { QueryExecution: execution } = await this.athena.send(new GetQueryExecutionCommand({ QueryExecutionId: id }));
      const state = execution?.Status?.State;
      if (state === 'SUCCEEDED') break;
      if (state === 'FAILED' || state === 'CANCELLED') throw new Error(`Athena query ${id} ${state.toLowerCase()}: ${execution?.Status?.StateChangeReason ?? 'no reason given'}`);
      if (Date.now() > deadline) {
        // Left running, it would go on scanning (billed) and hold one of the account's query slots.
        await this.athena.send(new StopQueryExecutionCommand({ QueryExecutionId: id })).catch(() => undefined);
        throw new Error(`Athena query ${id} did not finish within ${(this.options.timeoutMs ?? 30_000) / 1000}s`);
      }
      await sleep(this.options.pollIntervalMs ?? 200);
    }
    const rows: Row[] = [];
    let columns: ColumnInfo[] = [];
    let first = true;
    for await (const page of paginateGetQueryResults({ client: this.athena }, { QueryExecutionId: id })) {
      columns = page.ResultSet?.ResultSetMetadata?.ColumnInfo ?? columns;
      // The first row of the first page repeats the column names.
      for (const row of (page.ResultSet?.Rows ?? []).slice(first ? 1 : 0)) {
        rows.push(Object.fromEntries(columns.map((c, i) => [c.Name!, typed(row.Data?.[i]?.VarCharValue, c.Type)])));
      }
      first = false;
    }
    return rows;
  }
}

function typed(value: string | undefined, type: string | undefined): unknown {
  if (value === undefined) return null;
  if (type && NUMERIC.has(type)) return Number(value);
  if (type === 'boolean') return value === 'true';
  return value;
}
