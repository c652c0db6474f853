/**
 * Which lake columns the named queries read: what the local engine keeps in
 * memory and what Athena bills for. Apart from named-queries.ts so the
 * dashboard, which imports that file, does not bundle the column definitions.
 */
import { LAKE_COLUMNS } from '../common/lake-columns.ts';
import { HOUR_MS } from '../common/lake-timing.ts';
import type { Dialect } from './dialect.ts';
import { QUERY_NAMES, querySql } from './named-queries.ts';

/** The lake columns a query's SQL names: what an engine must read (and all Athena bills for) to answer it. */
export function columnsRead(sql: string): string[] {
  return LAKE_COLUMNS.map((c) => c.name).filter((name) => new RegExp(`\\b${name}\\b`).test(sql));
}

/** The lake columns any named query reads. */
export function columnsReadByAnyQuery(d: Dialect): string[] {
  const sample = { fromMs: 0, toMs: HOUR_MS };
  const read = new Set(QUERY_NAMES.flatMap((name) => columnsRead(querySql(name, d, sample))));
  return LAKE_COLUMNS.map((c) => c.name).filter((name) => read.has(name));
}
