/**
 * The consumer's one log line per batch, and where its numbers sit once Lambda
 * has wrapped it. With the JSON log format, Lambda's Node.js runtime turns
 * `console.log(x)` into `{"timestamp","level","requestId","message": x}`: a
 * string x stays a string (so a metric filter could not read inside it), an
 * object x stays an object. The CDK metric filters (lib/operations.ts) read the
 * paths below, so the line and the filters cannot drift apart.
 */
import type { ConsumeResult } from './consume-records.ts';

export const BATCH_WRITTEN_MESSAGE = 'batch written';

export interface BatchWrittenLine extends ConsumeResult {
  readonly level: 'INFO';
  readonly message: typeof BATCH_WRITTEN_MESSAGE;
}

/** JSON paths into the log record as CloudWatch stores it under Lambda's JSON log format. */
export const BATCH_LOG_PATHS = {
  message: '$.message.message',
  records: '$.message.records',
  quarantined: '$.message.quarantined',
} as const;

export function batchWrittenLine(result: ConsumeResult): BatchWrittenLine {
  return { level: 'INFO', message: BATCH_WRITTEN_MESSAGE, ...result };
}

/**
 * Logs the batch line: the object itself under Lambda's JSON log format (the
 * runtime nests it under `message`), a JSON string otherwise (the local runner's
 * log is JSON lines, one per batch).
 */
export function logBatchWritten(result: ConsumeResult, env: Readonly<Record<string, string | undefined>> = process.env, log: (line: unknown) => void = console.log): void {
  const line = batchWrittenLine(result);
  log(env.AWS_LAMBDA_LOG_FORMAT === 'JSON' ? line : JSON.stringify(line));
}
