/**
 * Names the whole pipeline agrees on: the events topic and the lake's top-level
 * prefixes. Defined once here; the consumer's key builders, the local runtime
 * and the CDK stack (bucket lifecycle, IAM scopes, Glue locations) import them.
 */

/** The Kafka topic (and, with the Kinesis ingest, the stream name's base) the simulator writes and the consumer reads. */
export const EVENTS_TOPIC = 'clickstream.events';

/** Top-level prefixes of the lake bucket, each with its trailing slash. */
export const LAKE_PREFIXES = {
  /** Parquet rows as the consumer wrote them, Hive-partitioned by event hour (hours still open for writes). */
  events: 'events/',
  /** Rows of hours already closed when they arrived, one file per batch and partition, partitioned by ingest hour. */
  late: 'late/',
  /** The compactor's output: one row per event_id, row groups in event-time order (rows by session inside), partitioned by event hour. */
  compacted: 'compacted/',
  /** Rollups of compacted hours (lambdas/query/rollups.ts), under rollups/<name>/, partitioned by event hour. */
  rollups: 'rollups/',
  /** The compaction manifest: which compacted files each hour reads, which late files are folded in. */
  compaction: '_compaction/',
  /** Records that failed validation, JSON lines with the reason, partitioned by ingest hour. */
  quarantine: 'quarantine/',
  /** Metadata of batches that failed every attempt (the local runner writes them here). */
  onFailure: 'on-failure/',
  /** The consumer's per-partition write logs; outside events/ so no query engine reads them. */
  consumerState: '_consumer_state/',
} as const;

/** The Hive partition columns of events/ and quarantine/, in path order; Glue and the SQL read them as strings. */
export const PARTITION_COLUMNS = ['year', 'month', 'day', 'hour'] as const;
