/**
 * The compactor (lambdas/compactor): every five minutes, settled raw hours of
 * the lake become a few sorted, de-duplicated files and late files are folded
 * in (docs/architecture.md, "Compaction"). It reads and deletes under events/
 * and late/, and writes only compacted/, rollups/ and the manifest.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MANIFEST_KEY } from '../lambdas/common/compaction-manifest.ts';
import { LAKE_PREFIXES } from '../lambdas/common/pipeline-names.ts';
import { ClickstreamFunction } from './clickstream-function.ts';
import { acknowledgeObjectGrants } from './nag.ts';

/** Memory a run needs per byte of Parquet it reads (44.6 measured), with headroom for the files it writes. */
const MEMORY_PER_PARQUET_BYTE = 60;

export interface CompactorProps {
  readonly lake: Bucket;
  /** The lateness rule the consumer writes by (CLICKSTREAM_LATE_AFTER_SECONDS and CLICKSTREAM_WRITE_DEADLINE_SECONDS): the two must agree. */
  readonly timingEnvironment: Readonly<Record<string, string>>;
  /**
   * Memory, which bounds the largest hour one run compacts: the run holds the hour's rows, about
   * 45 MiB of memory per MiB of Parquet (measured in docs/benchmarks.md), so an hour of up to a
   * sixtieth of the memory in Parquet; a larger hour stays raw, still answered exactly. 3,008 MB is
   * the most a new account may configure before a quota increase. @default 3008
   */
  readonly memorySizeMb?: number;
  /** @default Duration.minutes(5) */
  readonly interval?: Duration;
}

export class Compactor extends Construct {
  readonly handler: ClickstreamFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: CompactorProps) {
    super(scope, id);
    const memory = props.memorySizeMb ?? 3008;
    if (!Number.isInteger(memory) || memory < 512 || memory > 10_240) throw new Error(`memorySizeMb must be a whole number from 512 to 10240, got ${memory}`);
    this.handler = new ClickstreamFunction(this, 'Handler', {
      handler: 'compactor',
      description: 'Compacts settled lake hours and folds late files in, committing through the manifest',
      memorySizeMb: memory,
      timeout: Duration.minutes(15),
      environment: {
        ...props.timingEnvironment,
        CLICKSTREAM_LAKE_BUCKET: props.lake.bucketName,
        CLICKSTREAM_COMPACTION_MAX_HOUR_MIB: String(Math.floor(memory / MEMORY_PER_PARQUET_BYTE)),
      },
    });
    const fn = this.handler.function;
    const { events, late, compacted, rollups } = LAKE_PREFIXES;
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [events, late].map((p) => props.lake.arnForObjects(`${p}*`)) }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [compacted, rollups].map((p) => props.lake.arnForObjects(`${p}*`)) }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [props.lake.arnForObjects(MANIFEST_KEY)] }));
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.lake.bucketArn], conditions: { StringLike: { 's3:prefix': [events, late, compacted, rollups].map((p) => `${p}*`) } } }),
    );
    acknowledgeObjectGrants(fn, props.lake, [events, late, compacted, rollups], 'The compactor reads and deletes the raw and late files it replaced, and writes compacted files and rollups with names of its own run.');
    // A failed run is not retried late: the next scheduled run starts from the manifest.
    const noLateRuns = { retryAttempts: 0, maxEventAge: Duration.minutes(5) };
    fn.configureAsyncInvoke(noLateRuns);
    this.schedule = new Rule(this, 'Schedule', {
      description: 'Runs the clickstream compactor',
      schedule: Schedule.rate(props.interval ?? Duration.minutes(5)),
      targets: [new LambdaFunction(fn, noLateRuns)],
    });
  }
}
