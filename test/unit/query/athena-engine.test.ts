/**
 * Athena cannot run here, so its adapter is tested against a stand-in client
 * that answers the three calls it makes, as Athena documents them.
 */
import { EMPTY_VIEW } from '../../../lambdas/common/compaction-manifest.ts';
import { AthenaClient, GetQueryExecutionCommand, GetQueryResultsCommand, StartQueryExecutionCommand, StopQueryExecutionCommand } from '@aws-sdk/client-athena';
import { describe, expect, it } from 'vitest';
import { AthenaEngine } from '../../../lambdas/query/athena-engine.ts';
import { QueryApi } from '../../../lambdas/query/query-api.ts';

type Command = StartQueryExecutionCommand | GetQueryExecutionCommand | GetQueryResultsCommand | StopQueryExecutionCommand;

/** A real AthenaClient (the SDK's paginator insists on one) whose send answers here instead of over the network. */
function fakeAthena(states: string[], pages: { rows: string[][]; next?: string }[]) {
  const calls: Command[] = [];
  const columns = [
    { Name: 'events', Type: 'bigint' },
    { Name: 'revenue', Type: 'double' },
    { Name: 'value', Type: 'varchar' },
  ];
  return Object.assign(new AthenaClient({ region: 'us-east-1' }), {
    calls,
    send: (command: Command): Promise<unknown> => {
      calls.push(command);
      if (command instanceof StartQueryExecutionCommand) return Promise.resolve({ QueryExecutionId: 'q-1' });
      if (command instanceof StopQueryExecutionCommand) return Promise.resolve({});
      if (command instanceof GetQueryExecutionCommand) {
        const state = states.shift() ?? 'SUCCEEDED';
        return Promise.resolve({ QueryExecution: { Status: { State: state, StateChangeReason: state === 'FAILED' ? 'TABLE_NOT_FOUND' : undefined } } });
      }
      const page = pages.shift()!;
      return Promise.resolve({ ResultSet: { ResultSetMetadata: { ColumnInfo: columns }, Rows: page.rows.map((r) => ({ Data: r.map((v) => ({ VarCharValue: v })) })) }, NextToken: page.next });
    },
  });
}

/** No compaction state: these tests are about running SQL. */
const LAKE = { bucket: 'lake', lakeView: () => Promise.resolve(EMPTY_VIEW) };

describe('AthenaEngine', () => {
  it('starts the query in the workgroup, polls until it succeeds, pages through results and types the values', async () => {
    const athena = fakeAthena(['QUEUED', 'RUNNING', 'SUCCEEDED'], [
      { rows: [['events', 'revenue', 'value'], ['10', '12.5', 'mobile']], next: 't2' },
      { rows: [['3', '0', 'tablet']] },
    ]);
    const engine = new AthenaEngine(athena, { ...LAKE, database: 'clickstream', workGroup: 'clickstream', pollIntervalMs: 1 });
    expect(await engine.run('SELECT 1')).toEqual([
      { events: 10, revenue: 12.5, value: 'mobile' },
      { events: 3, revenue: 0, value: 'tablet' },
    ]);
    const start = athena.calls[0] as StartQueryExecutionCommand;
    expect(start.input).toMatchObject({ QueryString: 'SELECT 1', WorkGroup: 'clickstream', QueryExecutionContext: { Database: 'clickstream' } });
    expect(athena.calls.filter((c) => c instanceof GetQueryExecutionCommand)).toHaveLength(3);
    expect((athena.calls.at(-1) as GetQueryResultsCommand).input.NextToken).toBe('t2');
  });

  it('fails with Athena’s reason when the query fails', async () => {
    const engine = new AthenaEngine(fakeAthena(['FAILED'], []), { ...LAKE, database: 'clickstream', workGroup: 'wg', pollIntervalMs: 1 });
    await expect(engine.run('SELECT 1')).rejects.toThrow('Athena query q-1 failed: TABLE_NOT_FOUND');
  });

  it('gives up after its timeout and stops the query, so it scans (and bills) no further', async () => {
    const athena = fakeAthena(Array<string>(100).fill('RUNNING'), []);
    const engine = new AthenaEngine(athena, { ...LAKE, database: 'd', workGroup: 'wg', pollIntervalMs: 5, timeoutMs: 20 });
    await expect(engine.run('SELECT 1')).rejects.toThrow(/did not finish within 0.02s/);
    const stop = athena.calls.at(-1);
    expect(stop).toBeInstanceOf(StopQueryExecutionCommand);
    expect((stop as StopQueryExecutionCommand).input).toEqual({ QueryExecutionId: 'q-1' });
  });

  it('receives Athena SQL from the query API: partition filters and Athena timestamps', async () => {
    const athena = fakeAthena([], [{ rows: [['events', 'revenue', 'value']] }]);
    const api = new QueryApi({ engine: new AthenaEngine(athena, { ...LAKE, database: 'clickstream', workGroup: 'wg', pollIntervalMs: 1 }), now: () => Date.UTC(2026, 10, 23, 12) });
    const response = await api.handle('devices', { device: 'mobile' });
    expect(response.statusCode).toBe(200);
    const sql = (athena.calls[0] as StartQueryExecutionCommand).input.QueryString!;
    expect(sql).toContain('FROM "clickstream"."events"');
    expect(sql).toContain("(year = '2026' AND month = '11' AND day = '23' AND hour IN ('11'))");
    expect(sql).toContain("event_time >= TIMESTAMP '2026-11-23 11:00:00.000'");
    expect(sql).toContain("device_type = 'mobile'");
  });
});
