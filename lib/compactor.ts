/**
 * The compactor (lambdas/compactor): every five minutes, settled raw hours of
 * the lake become a few sorted, de-duplicated files and late files are folded
 * in (docs/architecture.md, "Compaction"). It reads and deletes under events/
 * and late/, and writes only compacted/, rollups/ and the manifest. Beside it,
 * the fold (the same bundle's `fold`) folds the open hours' raw files into parts
 * every minute ("Folding the open hour"): it reads events/, and writes only parts
 * (compacted/<hour>/f…) and the open hours' records.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { Bucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MANIFEST_KEY } from '../lambdas/common/compaction-manifest.ts';
import { OPEN_HOURS_PREFIX } from '../lambdas/common/open-hour-record.ts';
import { LAKE_PREFIXES } from '../lambdas/common/pipeline-names.ts';
import { ClickstreamFunction } from './clickstream-function.ts';
import { acknowledgeObjectGrants } from './nag.ts';

/**
 * What bounds a run (measured in docs/benchmarks.md, "Compaction"). Memory bounds the slices, about
 * 1,750 bytes per row held plus about 650 MiB besides (Node, buffers, the garbage a capped heap
 * leaves), rounded up here, and about 750 MiB more for each worker thread beyond the first (its own
 * isolate, buffers and garbage: two threads holding 660,000 rows peaked at 2,224 to 2,667 MiB). Time
 * bounds the hour: on one vCPU, 420 MiB of Parquet (about 10.4 million events) in 12 of Lambda's
 * 15 minutes (2026-12-03: 1.5 times main's events per CPU second in the same runs, applied to main's
 * 9,600 measured through S3). With more vCPUs the compactor spreads and merges in a worker thread
 * each, while the files are written by one thread alone: 17% of a one-thread run (measured); two
 * threads took 0.66 of one thread's time on two cores (measured), which that share puts at 16% more
 * work in the threads. So n vCPUs compact 1 / (0.17 + 0.83 * 1.16 / n) times as much: extrapolated
 * beyond two. The spills take about 1.6 bytes of local disk per byte of Parquet read. Since
 * 2026-12-04 each row's ids also go to id spills (copies of an event under two sessions are found
 * by event_id: docs/architecture.md, "Compaction"): 11% more CPU and 2.3 bytes of disk per byte of
 * Parquet in all (measured on one hour of 1M events, alternating with the code before), so the hour
 * a vCPU compacts in 12 minutes is 420 / 1.115 MiB and the spills are counted at 2.4. Since 2026-12-05
 * the rollups for a range's partial first hour (last times, `product_minutes`) cost about 5% more CPU
 * (the same bench run after the code before: 50.6 s against 48.1 s in slices, 54.9 against 52.1 for
 * the dense hour): 377 / 1.05 MiB.
 */
const BYTES_PER_ROW_HELD = 2_000;
// 700 measured; since 2026-12-05, 240 more: the `product_minutes` groups a run holds (MAX_PRODUCT_MINUTE_GROUPS, about
// 105 MiB) and the slices' own groups of them on their way, measured as 218-236 MiB more peak RSS for an hour of 1M events in slices.
const FIXED_MIB = 940;
const THREAD_MIB = 750;
const HOUR_MIB_PER_VCPU_RUN = 359;
const WRITE_SHARE = 0.17;
const THREAD_CPU_OVERHEAD = 1.16;
const FULL_VCPU_MB = 1_769;
const MAX_VCPUS = 6;
const SPILL_PER_PARQUET_BYTE = 2.4;

/** How often the compactor runs, unless the stack says otherwise. */
export const DEFAULT_COMPACTION_INTERVAL_MINUTES = 5;

/** How many times one vCPU's hour a function of `vcpus` (a fraction below one) compacts in its time. */
export function compactionSpeedup(vcpus: number): number {
  if (vcpus <= 1) return vcpus;
  return Math.max(1, 1 / (WRITE_SHARE + ((1 - WRITE_SHARE) * THREAD_CPU_OVERHEAD) / vcpus));
}

/** The JavaScript heap's share of the memory: V8 collects before the function's limit, and buffers outside the heap fit beside it. */
const HEAP_SHARE = 0.8;

export interface CompactorProps {
  readonly lake: Bucket;
  /** The lateness rule the consumer writes by (CLICKSTREAM_LATE_AFTER_SECONDS and CLICKSTREAM_WRITE_DEADLINE_SECONDS): the two must agree. */
  readonly timingEnvironment: Readonly<Record<string, string>>;
  /**
   * Memory, which bounds the rows the slices of an hour hold (CLICKSTREAM_COMPACTION_SLICE_ROWS), not
   * the hour: a bigger hour is merged in more slices. It also sets the vCPUs, and so the worker
   * threads (CLICKSTREAM_COMPACTION_WORKERS) and the largest hour one run compacts: below 1,769 MB
   * the function has less than one vCPU; at 3,008 MB (two threads) hours of about 12.0 million events
   * (3,300 events/s); an hour at 5,000 events/s (18 million events) needs about 5,300 MB, and
   * 10,240 MB (six threads) compacts about 26.3 million (extrapolated beyond two vCPUs). 3,008 MB is
   * the most a new account may configure before a quota increase. @default 3008
   */
  readonly memorySizeMb?: number;
  /** @default Duration.minutes(DEFAULT_COMPACTION_INTERVAL_MINUTES) */
  readonly interval?: Duration;
  /**
   * Fold the open hours' raw files into parts every minute, so that Athena reads them without the
   * de-duplication window (docs/architecture.md, "Folding the open hour"). Needs each source
   * partition's batches written in order (not Kinesis with a parallelization factor above 1).
   * @default true
   */
  readonly foldOpenHours?: boolean;
}

/**
 * The fold's memory: the ids of an hour's parts, kept between folds (17.6 bytes an id: 302 MiB for
 * an hour at 5,000 events/s), beside a fold's share of raw files (16 MiB of Parquet, about 400,000
 * rows as objects) and a merge of parts. Measured at 5,000 events/s, not on Lambda, under this heap: a
 * warm fold at an hour's end, holding the hour's 18 million ids and merging four minutes, peaked at
 * 1,798 MiB; a cold one reading the ids of an hour's parts, two at a time, at 975 MiB. 3,008 MB leaves
 * room for that and gives the sorts 1.7 vCPUs.
 */
const FOLD_MEMORY_MB = 3008;

export class Compactor extends Construct {
  readonly handler: ClickstreamFunction;
  readonly schedule: Rule;
  /** Absent when foldOpenHours is false. */
  readonly folder?: ClickstreamFunction;

  constructor(scope: Construct, id: string, props: CompactorProps) {
    super(scope, id);
    const memory = props.memorySizeMb ?? 3008;
    if (!Number.isInteger(memory) || memory < 1_024 || memory > 10_240) throw new Error(`memorySizeMb must be a whole number from 1024 to 10240, got ${memory}`);
    // Lambda's vCPUs grow with memory: one per 1,769 MB, six at 10,240 MB; a thread for each.
    const vcpus = Math.min(MAX_VCPUS, memory / FULL_VCPU_MB);
    const threads = Math.ceil(vcpus);
    const sliceRows = Math.floor(((memory * 0.9 - FIXED_MIB - THREAD_MIB * (threads - 1)) * 2 ** 20) / BYTES_PER_ROW_HELD);
    const maxHourMib = Math.floor(HOUR_MIB_PER_VCPU_RUN * compactionSpeedup(vcpus));
    this.handler = new ClickstreamFunction(this, 'Handler', {
      handler: 'compactor',
      description: 'Compacts settled lake hours and folds late files in, committing through the manifest',
      memorySizeMb: memory,
      timeout: Duration.minutes(15),
      // The largest hour's spills, with half again to spare, in whole 512 MiB steps.
      ephemeralStorageMb: Math.min(10_240, Math.ceil((maxHourMib * SPILL_PER_PARQUET_BYTE * 1.5) / 512) * 512),
      environment: {
        ...props.timingEnvironment,
        CLICKSTREAM_LAKE_BUCKET: props.lake.bucketName,
        CLICKSTREAM_COMPACTION_MAX_HOUR_MIB: String(maxHourMib),
        CLICKSTREAM_COMPACTION_SLICE_ROWS: String(sliceRows),
        CLICKSTREAM_COMPACTION_WORKERS: String(threads),
        NODE_OPTIONS: `--enable-source-maps --max-old-space-size=${Math.floor(memory * HEAP_SHARE)}`,
      },
    });
    const fn = this.handler.function;
    const { events, late, compacted, rollups } = LAKE_PREFIXES;
    const lake = props.lake;
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:DeleteObject'], resources: [events, late].map((p) => lake.arnForObjects(`${p}*`)) }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:DeleteObject'], resources: [compacted, rollups].map((p) => lake.arnForObjects(`${p}*`)) }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject'], resources: [lake.arnForObjects(MANIFEST_KEY)] }));
    // The open hours' records name the parts its sweep leaves alone.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [lake.arnForObjects(`${OPEN_HOURS_PREFIX}*`)] }));
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [lake.bucketArn], conditions: { StringLike: { 's3:prefix': [events, late, compacted, rollups, OPEN_HOURS_PREFIX].map((p) => `${p}*`) } } }),
    );
    acknowledgeObjectGrants(fn, lake, [events, late, compacted, rollups, OPEN_HOURS_PREFIX], "The compactor reads and deletes the raw and late files it replaced, writes compacted files and rollups with names of its own run, and reads the open hours' records.");
    // A failed run is not retried late: the next scheduled run starts from the manifest.
    const noLateRuns = { retryAttempts: 0, maxEventAge: Duration.minutes(5) };
    fn.configureAsyncInvoke(noLateRuns);
    this.schedule = new Rule(this, 'Schedule', {
      description: 'Runs the clickstream compactor',
      schedule: Schedule.rate(props.interval ?? Duration.minutes(DEFAULT_COMPACTION_INTERVAL_MINUTES)),
      targets: [new LambdaFunction(fn, noLateRuns)],
    });
    if (props.foldOpenHours ?? true) this.folder = this.addFolder(props);
  }

  private addFolder(props: CompactorProps): ClickstreamFunction {
    const lake = props.lake;
    const folder = new ClickstreamFunction(this, 'Folder', {
      handler: 'compactor',
      exportName: 'fold',
      description: "Folds the open hours' raw lake files into parts that Athena reads without de-duplicating",
      memorySizeMb: FOLD_MEMORY_MB,
      // A fold takes seconds; one that starts cold on a big hour reads its parts' ids first.
      timeout: Duration.minutes(5),
      environment: { ...props.timingEnvironment, CLICKSTREAM_LAKE_BUCKET: lake.bucketName, NODE_OPTIONS: `--enable-source-maps --max-old-space-size=${Math.floor(FOLD_MEMORY_MB * HEAP_SHARE)}` },
    });
    const fn = folder.function;
    const { events, compacted } = LAKE_PREFIXES;
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [events, compacted].map((p) => lake.arnForObjects(`${p}*`)).concat(lake.arnForObjects(MANIFEST_KEY)) }));
    // Its own files only: parts (`compacted/<hour>/f…`; the compactor's are `g…`) and the open hours' records.
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:PutObject', 's3:DeleteObject'], resources: [lake.arnForObjects(`${compacted}*/f*`), lake.arnForObjects(`${OPEN_HOURS_PREFIX}*`)] }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetObject'], resources: [lake.arnForObjects(`${OPEN_HOURS_PREFIX}*`)] }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [lake.bucketArn], conditions: { StringLike: { 's3:prefix': [events, OPEN_HOURS_PREFIX].map((p) => `${p}*`) } } }));
    acknowledgeObjectGrants(fn, lake, [events, compacted, `${compacted}*/f`, OPEN_HOURS_PREFIX], "The fold reads the open hours' raw files and writes parts and records with names of its own.");
    // A missed fold is not made up: the next one, a minute later, reads what it would have.
    const noLateFolds = { retryAttempts: 0, maxEventAge: Duration.minutes(1) };
    fn.configureAsyncInvoke(noLateFolds);
    new Rule(this, 'FoldSchedule', { description: "Folds the clickstream lake's open hours", schedule: Schedule.rate(Duration.minutes(1)), targets: [new LambdaFunction(fn, noLateFolds)] });
    return folder;
  }
}
