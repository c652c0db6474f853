/**
 * The consumer Lambda: a thin adapter from the MSK / self-managed Kafka /
 * Kinesis event to the pure core. Any storage failure rejects, so the event
 * source mapping retries the batch; bad records never do (they are quarantined).
 */
import { lakeTimingFromEnv } from '../common/lake-timing.ts';
import { logBatchWritten } from './batch-log.ts';
import { consumeRecords, type ConsumeResult } from './consume-records.ts';
import { isKafkaEvent, kafkaSourceRecords } from './kafka-event.ts';
import { isKinesisEvent, kinesisSourceRecords } from './kinesis-event.ts';
import { S3ObjectStore } from './object-store.ts';
import { encodeParquet } from './parquet-encoder.ts';

const bucket = process.env.CLICKSTREAM_LAKE_BUCKET;
if (!bucket) throw new Error('CLICKSTREAM_LAKE_BUCKET is not set: the consumer needs the lake bucket name');

// Created once per container. AWS_ENDPOINT_URL_S3 (or LocalStack's AWS_ENDPOINT_URL) and
// CLICKSTREAM_S3_FORCE_PATH_STYLE point the same code at S3, LocalStack or MinIO.
const timing = lakeTimingFromEnv(process.env);
const store = S3ObjectStore.fromEnv(bucket);

export async function handler(event: unknown): Promise<ConsumeResult> {
  const records = isKafkaEvent(event) ? kafkaSourceRecords(event) : isKinesisEvent(event) ? kinesisSourceRecords(event) : undefined;
  if (!records) throw new TypeError('unsupported event: expected an MSK, self-managed Kafka or Kinesis batch');
  const result = await consumeRecords(store, records, Date.now(), encodeParquet, timing);
  logBatchWritten(result);
  return result;
}
