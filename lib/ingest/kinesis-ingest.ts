/**
 * Kinesis Data Streams ingest: the cheaper option, and the one LocalStack
 * Community runs. One provisioned shard by default (1 MB/s or 1,000 records/s in).
 * A failing batch is retried until its records are about to fall off the
 * stream; only then does Lambda hand it (the whole invocation record, with the
 * data) to the S3 on-failure destination, from which it can be replayed.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { Stream, StreamEncryption, StreamMode } from 'aws-cdk-lib/aws-kinesis';
import { EventSourceMapping, StartingPosition, type IFunction } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { EVENTS_TOPIC } from '../../lambdas/common/pipeline-names.ts';
import type { ConsumerSourceSettings, Ingest } from './ingest.ts';
import { FailedBatchesDestination } from './s3-failure-destination.ts';

export interface KinesisIngestProps {
  /** Also the lake's source_topic. @default `<stack name>-clickstream.events`: unique per stack in an account and region */
  readonly streamName?: string;
  /** Shards of a provisioned stream. @default 1 */
  readonly shardCount?: number;
  /** Concurrent consumer invocations per shard (1-10); above 1, a session's events may be written out of order across files, which the lake tolerates. @default 1 */
  readonly parallelizationFactor?: number;
  /** @default Duration.hours(24) */
  readonly retention?: Duration;
}

/** Kinesis's rule for a stream name. */
const STREAM_NAME = /^[a-zA-Z0-9_.-]{1,128}$/;
/** Lambda's longest maximumRecordAge for a stream mapping. */
const MAX_RECORD_AGE = Duration.days(7);
/** How long before the stream drops a record Lambda gives up on it, so the on-failure destination still gets its data. */
const EXPIRY_MARGIN = Duration.hours(1);

export class KinesisIngest extends Construct implements Ingest {
  readonly kind = 'kinesis' as const;
  readonly lagUnit = 'milliseconds' as const;
  readonly stream: Stream;
  readonly endpoint: string;
  readonly topic: string;
  readonly producerEnvironment: Readonly<Record<string, string>>;
  private readonly parallelizationFactor: number;
  /** Above a parallelization factor of 1, batches of one shard run at once. */
  readonly batchesInOrder: boolean;
  private readonly retention: Duration;

  constructor(scope: Construct, id: string, props: KinesisIngestProps = {}) {
    super(scope, id);
    const shardCount = props.shardCount ?? 1;
    if (!Number.isInteger(shardCount) || shardCount < 1) throw new Error(`shardCount must be a whole number of shards, at least 1, got ${shardCount}`);
    this.parallelizationFactor = props.parallelizationFactor ?? 1;
    if (!Number.isInteger(this.parallelizationFactor) || this.parallelizationFactor < 1 || this.parallelizationFactor > 10) {
      throw new Error(`parallelizationFactor must be a whole number from 1 to 10, got ${this.parallelizationFactor}`);
    }
    this.batchesInOrder = this.parallelizationFactor === 1;
    this.retention = props.retention ?? Duration.hours(24);
    this.topic = props.streamName ?? `${Stack.of(this).stackName.slice(0, 127 - EVENTS_TOPIC.length)}-${EVENTS_TOPIC}`;
    if (!STREAM_NAME.test(this.topic)) throw new Error(`streamName must be 1-128 letters, digits or _.-, got "${this.topic}"`);
    this.stream = new Stream(this, 'Stream', {
      streamName: this.topic,
      streamMode: StreamMode.PROVISIONED,
      shardCount,
      retentionPeriod: this.retention,
      encryption: StreamEncryption.MANAGED,
    });
    this.endpoint = this.stream.streamArn;
    this.producerEnvironment = { CLICKSTREAM_INGEST: 'kinesis', CLICKSTREAM_STREAM_NAME: this.stream.streamName };
  }

  attachConsumer(consumer: IFunction, settings: ConsumerSourceSettings): EventSourceMapping {
    if (!settings.failedBatches) throw new Error('the Kinesis ingest needs a failedBatches bucket for its on-failure destination: pass the Lake failedBatchesBucket');
    consumer.addToRolePolicy(
      new PolicyStatement({
        actions: ['kinesis:DescribeStream', 'kinesis:DescribeStreamSummary', 'kinesis:GetRecords', 'kinesis:GetShardIterator', 'kinesis:ListShards'],
        resources: [this.stream.streamArn],
      }),
    );
    return new EventSourceMapping(this, 'ConsumerMapping', {
      target: consumer,
      eventSourceArn: this.stream.streamArn,
      // From the oldest record kept: nothing produced before the mapping existed is skipped.
      startingPosition: StartingPosition.TRIM_HORIZON,
      batchSize: settings.batchSize,
      maxBatchingWindow: settings.maxBatchingWindow,
      parallelizationFactor: this.parallelizationFactor,
      // -1: retry until the record is too old (the default, written out because a finite count would discard live data).
      retryAttempts: settings.retryAttempts ?? -1,
      // Give up just before the stream drops the records, while Lambda can still put them in the S3 destination.
      maxRecordAge: this.maxRecordAge(),
      // Only storage failures fail a batch, and a half of it fails the same way: no bisecting.
      bisectBatchOnError: false,
      // The handler returns a ConsumeResult, not { batchItemFailures }: a batch lands whole or is retried whole.
      reportBatchItemFailures: false,
      onFailure: new FailedBatchesDestination(settings.failedBatches),
      supportS3OnFailureDestination: true,
    });
  }

  /** The stream's retention less a margin, within Lambda's 7-day limit. */
  private maxRecordAge(): Duration {
    const seconds = Math.min(this.retention.toSeconds() - EXPIRY_MARGIN.toSeconds(), MAX_RECORD_AGE.toSeconds());
    return Duration.seconds(seconds);
  }

  grantProduce(producer: IFunction): void {
    producer.addToRolePolicy(new PolicyStatement({ actions: ['kinesis:PutRecords', 'kinesis:PutRecord'], resources: [this.stream.streamArn] }));
  }

  consumerLagMetric(): Metric {
    return this.stream.metricGetRecordsIteratorAgeMilliseconds({ statistic: 'Maximum', period: Duration.minutes(1) });
  }
}
