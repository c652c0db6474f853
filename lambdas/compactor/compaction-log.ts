/**
 * The compactor's log lines that CloudWatch metric filters read (lib/operations.ts):
 * - one per hour it left raw (too big for what one run compacts in its time, or one
 *   session over a slice): answered exactly, at the raw files' cost; the alarm counts them;
 * - one per run, with what it left for the next runs (`backlog`: hours and late files
 *   over its share); the alarm watches whether that ever empties;
 * - one per fold of the open hours (read by people, no filter).
 */
import { LAMBDA_JSON_MESSAGE_PATH } from '../common/lambda-log.ts';
import type { CompactionResult } from './compact-lake.ts';
import type { FoldResult } from './fold-open-hours.ts';

export const HOUR_NOT_COMPACTED_MESSAGE = 'hour not compacted';
export const COMPACTION_RUN_MESSAGE = 'compaction run';
export const FOLD_RUN_MESSAGE = 'fold run';

/** Where a metric filter finds the run line's fields once Lambda has wrapped it (lambda-log.ts). */
export const COMPACTION_RUN_PATHS = { message: LAMBDA_JSON_MESSAGE_PATH, backlog: '$.message.backlog' } as const;

export function hourNotCompactedLine(skipped: { readonly hour: string; readonly reason: string }) {
  return { level: 'WARN', message: HOUR_NOT_COMPACTED_MESSAGE, ...skipped } as const;
}

export function compactionRunLine(result: CompactionResult) {
  return { level: 'INFO', message: COMPACTION_RUN_MESSAGE, ...result, hoursSkipped: result.hoursSkipped.length, backlog: result.hoursLeft + result.lateFilesLeft } as const;
}

/** One per fold, with the raw files it left for the next (filesLeft): logged, not alarmed on (a backlog of raw files is the compactor's too). */
export function foldRunLine(result: FoldResult) {
  return { level: 'INFO', message: FOLD_RUN_MESSAGE, ...result } as const;
}
