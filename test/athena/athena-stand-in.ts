/**
 * Athena's control plane cannot run here; its SQL engine can (Trino, which Athena
 * engine v3 is built on). This stand-in speaks the three calls of Athena's JSON
 * API that the query API makes (StartQueryExecution, GetQueryExecution,
 * GetQueryResults, as the SDK sends them to AWS_ENDPOINT_URL_ATHENA) and hands the
 * SQL to a real engine, so a deployed query API bundle runs its real SDK path
 * against real SQL. It is deliberately thin: results are kept in memory, every
 * query finishes before StartQueryExecution answers, and pages hold 1,000 rows as
 * Athena's do.
 */
import { randomUUID } from 'node:crypto';
import { createServer, type Server } from 'node:http';

/** A result as an engine returns it: column names and types (Trino's names, e.g. `varchar(2)`), then rows of JSON values. */
export interface SqlResult {
  readonly columns: readonly { readonly name: string; readonly type: string }[];
  readonly rows: readonly (readonly unknown[])[];
}

export type SqlRunner = (sql: string, database: string) => Promise<SqlResult>;

interface Execution {
  readonly state: 'SUCCEEDED' | 'FAILED';
  readonly reason?: string;
  readonly result?: SqlResult;
  readonly query: string;
  readonly workGroup?: string;
}

const PAGE_ROWS = 1_000;

/** Athena names a column's type without parameters: `varchar`, `decimal`, `timestamp`. */
const athenaType = (trinoType: string) => trinoType.replace(/\(.*$/, '');

/** Athena sends every value as a string, and a NULL as a cell without VarCharValue. */
const cell = (value: unknown) => (value === null || value === undefined ? {} : { VarCharValue: typeof value === 'string' ? value : JSON.stringify(value) });

export class AthenaStandIn {
  readonly executions = new Map<string, Execution>();
  private constructor(private readonly server: Server) {}

  static async start(run: SqlRunner, port = 0): Promise<AthenaStandIn> {
    const server = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        const target = String(req.headers['x-amz-target'] ?? '').replace(/^AmazonAthena\./, '');
        standIn
          .answer(target, JSON.parse(Buffer.concat(chunks).toString('utf8') || '{}') as Record<string, unknown>, run)
          .then(
            ([status, body]) => {
              res.writeHead(status, { 'content-type': 'application/x-amz-json-1.1' });
              res.end(JSON.stringify(body));
            },
            (error: Error) => {
              res.writeHead(500, { 'content-type': 'application/x-amz-json-1.1' });
              res.end(JSON.stringify({ __type: 'InternalServerException', message: error.message }));
            },
          );
      });
    });
    const standIn = new AthenaStandIn(server);
    await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
    return standIn;
  }

  get endpoint(): string {
    const address = this.server.address();
    if (typeof address !== 'object' || address === null) throw new Error('the Athena stand-in is not listening');
    return `http://127.0.0.1:${address.port}`;
  }

  close(): Promise<void> {
    return new Promise((resolve) => this.server.close(() => resolve()));
  }

  private async answer(target: string, input: Record<string, unknown>, run: SqlRunner): Promise<[number, unknown]> {
    switch (target) {
      case 'StartQueryExecution': {
        const id = randomUUID();
        const query = String(input.QueryString);
        const database = String((input.QueryExecutionContext as { Database?: string } | undefined)?.Database ?? 'default');
        const workGroup = input.WorkGroup as string | undefined;
        try {
          this.executions.set(id, { state: 'SUCCEEDED', result: await run(query, database), query, workGroup });
        } catch (error) {
          this.executions.set(id, { state: 'FAILED', reason: (error as Error).message, query, workGroup });
        }
        return [200, { QueryExecutionId: id }];
      }
      case 'GetQueryExecution': {
        const execution = this.executions.get(String(input.QueryExecutionId));
        if (!execution) return [400, { __type: 'InvalidRequestException', Message: 'QueryExecution was not found' }];
        return [200, { QueryExecution: { QueryExecutionId: input.QueryExecutionId, Query: execution.query, Status: { State: execution.state, StateChangeReason: execution.reason } } }];
      }
      case 'GetQueryResults': {
        const execution = this.executions.get(String(input.QueryExecutionId));
        if (execution?.state !== 'SUCCEEDED' || !execution.result) return [400, { __type: 'InvalidRequestException', Message: 'Query has not yet finished or failed' }];
        const { columns, rows } = execution.result;
        const offset = Number(input.NextToken ?? 0);
        // The first page starts with a row of the column names, as Athena's does.
        const page = [...(offset === 0 ? [columns.map((c) => c.name)] : []), ...rows.slice(offset, offset + PAGE_ROWS)];
        return [
          200,
          {
            ResultSet: {
              ResultSetMetadata: { ColumnInfo: columns.map((c) => ({ Name: c.name, Label: c.name, Type: athenaType(c.type) })) },
              Rows: page.map((r) => ({ Data: r.map(cell) })),
            },
            ...(offset + PAGE_ROWS < rows.length && { NextToken: String(offset + PAGE_ROWS) }),
          },
        ];
      }
      default:
        return [400, { __type: 'UnknownOperationException', Message: `the Athena stand-in does not answer ${target}` }];
    }
  }
}
