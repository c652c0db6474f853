/**
 * The event Lambda delivers for Kinesis Data Streams: base64 data, sequence numbers, shard
 * in the event id. The shapes are @types/aws-lambda's (types only: nothing is bundled).
 */
import type { KinesisStreamEvent, KinesisStreamRecord } from 'aws-lambda';
import type { SourceRecord } from './source-record.ts';

export type KinesisEvent = KinesisStreamEvent;

export function isKinesisEvent(event: unknown): event is KinesisEvent {
  if (typeof event !== 'object' || event === null) return false;
  const records = (event as Partial<KinesisEvent>).Records;
  return Array.isArray(records) && records.length > 0 && (records[0] as Partial<KinesisStreamRecord> | undefined)?.eventSource === 'aws:kinesis';
}

export function kinesisSourceRecords(event: KinesisEvent): SourceRecord[] {
  return event.Records.map((r) => {
    // eventID is "shardId-000000000006:<sequence number>"; the ARN ends in "stream/<name>".
    const shard = /^shardId-(\d+):/.exec(r.eventID)?.[1];
    const stream = /:stream\/([^/]+)$/.exec(r.eventSourceARN)?.[1];
    if (shard === undefined || stream === undefined || !/^\d+$/.test(r.kinesis?.sequenceNumber ?? '')) {
      throw new TypeError(`Kinesis record ${r.eventID} has no shard, stream or sequence number`);
    }
    return {
      topic: stream,
      partition: Number(shard),
      offset: r.kinesis.sequenceNumber,
      value: typeof r.kinesis.data === 'string' ? Buffer.from(r.kinesis.data, 'base64') : null,
    };
  });
}
