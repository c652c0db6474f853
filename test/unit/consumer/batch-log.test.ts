import { describe, expect, it } from 'vitest';
import { BATCH_LOG_PATHS, BATCH_WRITTEN_MESSAGE, batchWrittenLine, logBatchWritten } from '../../../lambdas/consumer/batch-log.ts';
import type { ConsumeResult } from '../../../lambdas/consumer/consume-records.ts';
import { jsonPathValue, lambdaJsonRecord } from '../../lambda-json-log.ts';

const result: ConsumeResult = { partitions: 2, records: 1000, valid: 970, quarantined: 30, duplicatesDropped: 1, objectsWritten: 4, objectsReplaced: 0 };

function logged(env: Record<string, string | undefined>): unknown[] {
  const lines: unknown[] = [];
  logBatchWritten(result, env, (line) => lines.push(line));
  return lines;
}

describe('the consumer batch log line', () => {
  it('logs the object itself under Lambda JSON log format, so the runtime nests it under message', () => {
    expect(logged({ AWS_LAMBDA_LOG_FORMAT: 'JSON' })).toEqual([batchWrittenLine(result)]);
  });

  it.each([{}, { AWS_LAMBDA_LOG_FORMAT: 'Text' }])('prints one JSON string elsewhere (%o), as the local runner log expects', (env) => {
    const [line] = logged(env);
    expect(typeof line).toBe('string');
    expect(JSON.parse(line as string)).toEqual(batchWrittenLine(result));
  });

  it('puts the message and the counts where the metric filter paths look, once Lambda wraps it', () => {
    const [line] = logged({ AWS_LAMBDA_LOG_FORMAT: 'JSON' });
    const record = lambdaJsonRecord(line);
    expect(jsonPathValue(record, BATCH_LOG_PATHS.message)).toBe(BATCH_WRITTEN_MESSAGE);
    expect(jsonPathValue(record, BATCH_LOG_PATHS.records)).toBe(1000);
    expect(jsonPathValue(record, BATCH_LOG_PATHS.quarantined)).toBe(30);
  });

  it('would not match if the line were a string (the defect this shape fixes)', () => {
    const record = lambdaJsonRecord(JSON.stringify(batchWrittenLine(result)));
    expect(jsonPathValue(record, BATCH_LOG_PATHS.message)).toBeUndefined();
    expect(jsonPathValue(record, BATCH_LOG_PATHS.quarantined)).toBeUndefined();
  });
});
