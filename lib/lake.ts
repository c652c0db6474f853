/**
 * The data lake bucket: private, encrypted, TLS-only, versioned for recovery
 * from a bad write, with server access logs; plus the bucket the event source
 * mapping sends failed batches to, and the access-log bucket itself.
 */
import { Duration, Validations } from 'aws-cdk-lib';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { LAKE_PREFIXES } from '../lambdas/common/pipeline-names.ts';
import { privateBucket } from './private-bucket.ts';

export interface LakeProps {
  /** Days before quarantined records expire. @default 30 */
  readonly quarantineRetentionDays?: number;
  /** Days before failed-batch records (the on-failure destination's objects, kept for replay) expire. @default 30 */
  readonly onFailureRetentionDays?: number;
  /** Days S3 server access logs are kept. @default 90 */
  readonly accessLogRetentionDays?: number;
  /** Keep the lake bucket and its data when the stack is deleted. @default true */
  readonly retainData?: boolean;
  /** Create the bucket for a Kinesis mapping's on-failure destination (Kafka mappings have none). @default true */
  readonly failedBatchesBucket?: boolean;
}

export class Lake extends Construct {
  readonly bucket: Bucket;
  /**
   * The Kinesis mapping's on-failure destination: per batch that failed every attempt, the full invocation
   * record (its records' data and metadata), kept for replay; retained when the stack is deleted.
   * @default - absent when failedBatchesBucket is false
   */
  readonly failedBatchesBucket?: Bucket;
  /** S3 server access logs of every bucket in the stack, one prefix per bucket. */
  readonly accessLogsBucket: Bucket;

  constructor(scope: Construct, id: string, props: LakeProps = {}) {
    super(scope, id);
    const quarantineDays = wholeDays('quarantineRetentionDays', props.quarantineRetentionDays ?? 30);
    // A month: time to notice an outage, fix it and replay before the records expire.
    const onFailureDays = wholeDays('onFailureRetentionDays', props.onFailureRetentionDays ?? 30);
    const accessLogDays = wholeDays('accessLogRetentionDays', props.accessLogRetentionDays ?? 90);

    this.accessLogsBucket = privateBucket(this, 'AccessLogs', {
      lifecycleRules: [{ id: 'expire-access-logs', expiration: Duration.days(accessLogDays) }],
    });
    Validations.of(this.accessLogsBucket).acknowledge({ id: 'AwsSolutions-S1', reason: 'This is the access-log bucket; logging it into itself would loop.' });

    this.bucket = privateBucket(this, 'Bucket', {
      accessLogs: this.accessLogsBucket,
      versioned: true,
      retain: props.retainData ?? true,
      lifecycleRules: [
        { id: 'expire-quarantine', prefix: LAKE_PREFIXES.quarantine, expiration: Duration.days(quarantineDays) },
        // The local runner writes failed-batch metadata here; the cloud uses failedBatchesBucket.
        { id: 'expire-on-failure', prefix: LAKE_PREFIXES.onFailure, expiration: Duration.days(onFailureDays) },
        // Overwrites from retried batches leave noncurrent versions; they are only needed briefly.
        { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(7) },
        // A consumer killed mid-upload leaves parts that cost storage but are never listed; once the
        // noncurrent versions are gone, a deleted object's marker is all that is left of it.
        { id: 'clean-up', abortIncompleteMultipartUploadAfter: Duration.days(1), expiredObjectDeleteMarker: true },
      ],
    });

    // A bucket of its own: Lambda picks the object keys of an S3 on-failure destination,
    // so a prefix rule in the lake could not be relied on to expire them.
    if (props.failedBatchesBucket ?? true) {
      this.failedBatchesBucket = privateBucket(this, 'FailedBatches', {
        accessLogs: this.accessLogsBucket,
        // Records that exist nowhere else once the stream has dropped them: never deleted with the stack.
        retain: true,
        lifecycleRules: [{ id: 'expire-failed-batches', expiration: Duration.days(onFailureDays) }],
      });
    }
  }
}

function wholeDays(name: string, days: number): number {
  if (!Number.isInteger(days) || days < 1) throw new Error(`${name} must be a whole number of days, at least 1, got ${days}`);
  return days;
}
