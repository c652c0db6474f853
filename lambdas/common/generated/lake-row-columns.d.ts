/**
 * The type of the generated row-to-columns function (lake-row-columns.js beside this
 * file, written by lambdas/generate-code.ts; not committed): one array per column of
 * LAKE_COLUMNS, in that order, with a missing or null field as null.
 */
import type { LakeRow } from '../../consumer/plan-batch.ts';

export declare function lakeRowColumns(rows: readonly LakeRow[]): unknown[][];
