import { describe, expect, it } from 'vitest';
import { columnsRead, columnsReadByAnyQuery } from '../../../lambdas/query/columns-read.ts';
import { athenaDialect, duckdbDialect } from '../../../lambdas/query/dialect.ts';

describe('columnsRead', () => {
  it('names the lake columns the SQL mentions as whole words only', () => {
    // "user_id" must not match inside "user_identity"; "revenue" is a column, "revenue_total" is not.
    expect(columnsRead('SELECT user_identity, sum(revenue) AS revenue_total FROM t WHERE device_type = 1')).toEqual(['revenue', 'device_type']);
  });

  it('finds what the named queries read: the dashboard figures, not the URLs or lineage', () => {
    const local = columnsReadByAnyQuery(duckdbDialect());
    expect(local).toEqual(expect.arrayContaining(['event_time', 'event_type', 'session_id', 'user_id', 'revenue', 'order_id', 'ingest_time']));
    expect(local).not.toContain('page_url');
    expect(local).not.toContain('source_offset');
    // Over the raw files the de-duplication window reads event_id too.
    expect(local).not.toContain('event_id');
    expect(columnsReadByAnyQuery(athenaDialect('clickstream', 'lake'))).toContain('event_id');
  });
});
