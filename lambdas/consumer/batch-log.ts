/**
 * The consumer's one log line per batch, and where its numbers sit once Lambda
 * has wrapped it (lambdas/common/lambda-log.ts). The CDK metric filters
 * (lib/operations.ts) read the paths below, so the line and the filters cannot
 * drift apart.
 */
import { LAMBDA_JSON_MESSAGE_PATH, logLine } from '../common/lambda-log.ts';
import type { ConsumeResult } from './consume-records.ts';

export const BATCH_WRITTEN_MESSAGE = 'batch written';

export interface BatchWrittenLine extends ConsumeResult {
  readonly level: 'INFO';
  readonly message: typeof BATCH_WRITTEN_MESSAGE;
}

/** JSON paths into the log record as CloudWatch stores it under Lambda's JSON log format. */
export const BATCH_LOG_PATHS = {
  message: LAMBDA_JSON_MESSAGE_PATH,
  records: '$.message.records',
  quarantined: '$.message.quarantined',
} as const;

export function batchWrittenLine(result: ConsumeResult): BatchWrittenLine {
  return { level: 'INFO', message: BATCH_WRITTEN_MESSAGE, ...result };
}

/** Logs the batch line (the local runner's log is JSON lines, one per batch). */
export function logBatchWritten(result: ConsumeResult, env: Readonly<Record<string, string | undefined>> = process.env, log: (line: unknown) => void = console.log): void {
  logLine(batchWrittenLine(result), env, log);
}
