/**
 * The consumer: the bundled handler (lambdas/consumer) and its event source
 * mapping on the chosen ingest, with write access to exactly the lake prefixes
 * it writes (events/, late/, quarantine/, _consumer_state/).
 */
import { Duration } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { EventSourceMapping } from 'aws-cdk-lib/aws-lambda';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LAKE_PREFIXES } from '../lambdas/common/pipeline-names.ts';
import { CONSUMER_NODE_FLAGS } from '../lambdas/consumer/node-flags.ts';
import { ClickstreamFunction } from './clickstream-function.ts';
import type { Ingest } from './ingest/ingest.ts';
import { acknowledgeObjectGrants } from './nag.ts';

export interface ConsumerProps {
  readonly ingest: Ingest;
  readonly lake: Bucket;
  /** Kinesis only, and required there: the mapping's on-failure destination. @default - none (Kafka mappings have none, so nothing is skipped) */
  readonly failedBatches?: Bucket;
  /** Records per invocation, 1-10,000 (the handler writes ~90-100k events/s, so 10,000 take about 0.1 s of CPU). @default 10_000 */
  readonly batchSize?: number;
  /** Seconds to gather records before invoking with a partial batch, 0-300. @default 5 */
  readonly batchingWindowSeconds?: number;
  /**
   * Kinesis only: retries of a failed batch before it goes to the on-failure destination, -1 (until its records
   * are about to expire from the stream) or 0-10,000. A finite count discards batches that storage outages fail,
   * so keep -1 unless you replay from the failed-batches bucket. Kafka always retries until success.
   * @default -1 for Kinesis
   */
  readonly retryAttempts?: number;
  /** @default 1024 */
  readonly memorySizeMb?: number;
  /** Minutes after an hour ends that its events still go to its raw partition; later ones go to late/. @default 10 */
  readonly lateAfterMinutes?: number;
}

/** The consumer's timeout: a batch's writes end within it, which the compactor relies on (lake-timing.ts). */
const CONSUMER_TIMEOUT = Duration.minutes(5);

export class Consumer extends Construct {
  readonly handler: ClickstreamFunction;
  readonly mapping: EventSourceMapping;
  /** The lateness rule the consumer writes by, for the compactor's environment: the two must agree. */
  readonly timingEnvironment: Readonly<Record<string, string>>;

  constructor(scope: Construct, id: string, props: ConsumerProps) {
    super(scope, id);
    const batchSize = props.batchSize ?? 10_000;
    if (!Number.isInteger(batchSize) || batchSize < 1 || batchSize > 10_000) throw new Error(`batchSize must be a whole number from 1 to 10000, got ${batchSize}`);
    const windowSeconds = props.batchingWindowSeconds ?? 5;
    if (!Number.isInteger(windowSeconds) || windowSeconds < 0 || windowSeconds > 300) {
      throw new Error(`batchingWindowSeconds must be a whole number from 0 to 300 (Lambda's limit), got ${windowSeconds}`);
    }
    const retryAttempts = props.retryAttempts;
    if (retryAttempts !== undefined && (!Number.isInteger(retryAttempts) || retryAttempts < -1 || retryAttempts > 10_000)) {
      throw new Error(`retryAttempts must be -1 (retry until the records expire) or a whole number from 0 to 10000, got ${retryAttempts}`);
    }

    const lateAfter = props.lateAfterMinutes ?? 10;
    if (!Number.isInteger(lateAfter) || lateAfter < 1 || lateAfter > 1440) throw new Error(`lateAfterMinutes must be a whole number from 1 to 1440, got ${lateAfter}`);
    this.timingEnvironment = {
      CLICKSTREAM_LATE_AFTER_SECONDS: String(lateAfter * 60),
      // Every write of an attempt ends by its timeout; a minute more for clocks and slow requests.
      CLICKSTREAM_WRITE_DEADLINE_SECONDS: String(CONSUMER_TIMEOUT.toSeconds() + 60),
    };
    this.handler = new ClickstreamFunction(this, 'Handler', {
      handler: 'consumer',
      description: 'Stream batches to partitioned Parquet in the lake; invalid records to quarantine',
      memorySizeMb: props.memorySizeMb ?? 1024,
      // A full batch takes well under a minute; the margin covers slow S3 and cold starts.
      timeout: CONSUMER_TIMEOUT,
      environment: { NODE_OPTIONS: ['--enable-source-maps', ...CONSUMER_NODE_FLAGS].join(' '), CLICKSTREAM_LAKE_BUCKET: props.lake.bucketName, ...this.timingEnvironment },
    });
    const fn = this.handler.function;
    const prefixes = [LAKE_PREFIXES.events, LAKE_PREFIXES.late, LAKE_PREFIXES.quarantine, LAKE_PREFIXES.consumerState];
    const writable = prefixes.map((p) => props.lake.arnForObjects(`${p}*`));
    // Get/Put for the write log (conditional puts), Put for data, Delete for superseded uncommitted batches.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: writable }));
    acknowledgeObjectGrants(fn, props.lake, prefixes, 'The consumer writes objects with keys fixed by the source offsets under these lake prefixes only.');
    if (props.failedBatches) acknowledgeObjectGrants(fn, props.failedBatches, [''], "Lambda's on-failure destination names its own object keys in this dedicated bucket.");
    this.mapping = props.ingest.attachConsumer(fn, {
      batchSize,
      maxBatchingWindow: Duration.seconds(windowSeconds),
      ...(retryAttempts !== undefined && { retryAttempts }),
      ...(props.failedBatches && { failedBatches: props.failedBatches }),
    });
  }
}
