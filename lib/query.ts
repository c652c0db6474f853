/**
 * The query layer in the cloud: an Athena workgroup (engine v3, encrypted
 * results, a per-query scan limit, settings enforced) and the query API Lambda
 * behind a function URL that only CloudFront may call (AWS_IAM + OAC).
 */
import { Aws, Duration } from 'aws-cdk-lib';
import { CfnWorkGroup } from 'aws-cdk-lib/aws-athena';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import type { Bucket, IBucket } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';
import { MANIFEST_KEY } from '../lambdas/common/compaction-manifest.ts';
import { OPEN_HOURS_PREFIX } from '../lambdas/common/open-hour-record.ts';
import type { OpenHoursRead } from '../lambdas/query/lake-view-source.ts';
import { LAKE_PREFIXES } from '../lambdas/common/pipeline-names.ts';
import { FUNCTION_TIMEOUT_SECONDS } from '../lambdas/query-api/limits.ts';
import type { Catalog } from './catalog.ts';
import { ClickstreamFunction, reservedExecutions } from './clickstream-function.ts';
import { acknowledgeObjectGrants } from './nag.ts';
import { privateBucket } from './private-bucket.ts';

const RESULTS_PREFIX = 'athena-results/';

export interface QueryProps {
  readonly lake: IBucket;
  readonly catalog: Catalog;
  readonly accessLogs: IBucket;
  /** Athena stops a query that would scan more; at $5/TB, 10 GB costs $0.05. @default 10 GiB */
  readonly bytesScannedCutoffPerQuery?: number;
  /** Days query results are kept. @default 7 */
  readonly resultsRetentionDays?: number;
  /**
   * Concurrent query API invocations at most (the excess gets 429s). A dashboard refresh is one
   * invocation, so 1 already serves a viewer; reserving needs that much concurrency above the 10 that
   * Lambda keeps unreserved, which an account with a quota of 10 (many new ones) does not have.
   * @default - none reserved: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
  /**
   * How the API reads hours not compacted yet (lambdas/query/lake-view-source.ts): `folded`, from the
   * parts the compactor's fold writes every minute, without the de-duplication window (a minute
   * behind the stream, and about half the bytes Athena bills for a last-hour refresh); `raw`, every
   * raw file through the window (seconds behind). The stack picks `folded` where it runs the fold.
   * @default 'raw'
   */
  readonly openHours?: OpenHoursRead;
}

/** Athena's smallest allowed per-query limit: 10 MB. */
const MIN_CUTOFF_BYTES = 10_000_000;

export class Query extends Construct {
  readonly workGroup: CfnWorkGroup;
  readonly resultsBucket: Bucket;
  readonly api: ClickstreamFunction;
  readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: QueryProps) {
    super(scope, id);
    const cutoff = props.bytesScannedCutoffPerQuery ?? 10 * 1024 ** 3;
    if (!Number.isInteger(cutoff) || cutoff < MIN_CUTOFF_BYTES) throw new Error(`bytesScannedCutoffPerQuery must be a whole number of bytes, at least ${MIN_CUTOFF_BYTES}, got ${cutoff}`);
    const resultsDays = props.resultsRetentionDays ?? 7;
    if (!Number.isInteger(resultsDays) || resultsDays < 1) throw new Error(`resultsRetentionDays must be a whole number of days, at least 1, got ${resultsDays}`);
    const concurrency = reservedExecutions(props.reservedConcurrency);

    this.resultsBucket = privateBucket(this, 'Results', {
      accessLogs: props.accessLogs,
      lifecycleRules: [{ id: 'expire-results', expiration: Duration.days(resultsDays) }],
    });
    this.workGroup = new CfnWorkGroup(this, 'WorkGroup', {
      name: `${props.catalog.databaseName}_dashboard`,
      description: 'Dashboard queries over the clickstream lake',
      recursiveDeleteOption: true,
      state: 'ENABLED',
      workGroupConfiguration: {
        enforceWorkGroupConfiguration: true,
        publishCloudWatchMetricsEnabled: true,
        bytesScannedCutoffPerQuery: cutoff,
        engineVersion: { selectedEngineVersion: 'Athena engine version 3' },
        resultConfiguration: {
          outputLocation: `s3://${this.resultsBucket.bucketName}/${RESULTS_PREFIX}`,
          encryptionConfiguration: { encryptionOption: 'SSE_S3' },
        },
      },
    });

    this.api = new ClickstreamFunction(this, 'Api', {
      handler: 'query-api',
      description: 'Dashboard query API: named queries on Athena',
      memorySizeMb: 256,
      // Athena queries on a warm lake take seconds; the timeout stays below CloudFront's origin read timeout (limits.ts).
      timeout: Duration.seconds(FUNCTION_TIMEOUT_SECONDS),
      ...concurrency,
      environment: {
        CLICKSTREAM_GLUE_DATABASE: props.catalog.databaseName,
        CLICKSTREAM_ATHENA_WORKGROUP: this.workGroup.name,
        CLICKSTREAM_LAKE_BUCKET: props.lake.bucketName,
        CLICKSTREAM_OPEN_HOURS: props.openHours ?? 'raw',
      },
    });
    const fn = this.api.function;
    const workGroupArn = `arn:${Aws.PARTITION}:athena:${Aws.REGION}:${Aws.ACCOUNT_ID}:workgroup/${this.workGroup.name}`;
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['athena:StartQueryExecution', 'athena:GetQueryExecution', 'athena:GetQueryResults', 'athena:StopQueryExecution'], resources: [workGroupArn] }),
    );
    fn.addToRolePolicy(new PolicyStatement({ actions: ['glue:GetDatabase', 'glue:GetTable', 'glue:GetPartition', 'glue:GetPartitions'], resources: props.catalog.arns }));
    // Athena reads the lake as the caller: objects under the queried prefixes, and listing only there;
    // the function itself reads the compaction manifest and lists late/ for each answer (and, reading
    // open hours folded, their records).
    const queried = [LAKE_PREFIXES.events, LAKE_PREFIXES.compacted, LAKE_PREFIXES.late, LAKE_PREFIXES.rollups, LAKE_PREFIXES.quarantine];
    const state = props.openHours === 'folded' ? [OPEN_HOURS_PREFIX] : [];
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject'], resources: [...[...queried, ...state].map((p) => props.lake.arnForObjects(`${p}*`)), props.lake.arnForObjects(MANIFEST_KEY)] }),
    );
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:ListBucket'], resources: [props.lake.bucketArn], conditions: { StringLike: { 's3:prefix': [...queried, ...state].map((p) => `${p}*`) } } }),
    );
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:GetBucketLocation'], resources: [props.lake.bucketArn, this.resultsBucket.bucketArn] }));
    fn.addToRolePolicy(new PolicyStatement({ actions: ['s3:ListBucket'], resources: [this.resultsBucket.bucketArn] }));
    fn.addToRolePolicy(
      new PolicyStatement({ actions: ['s3:GetObject', 's3:PutObject', 's3:AbortMultipartUpload'], resources: [this.resultsBucket.arnForObjects(`${RESULTS_PREFIX}*`)] }),
    );
    acknowledgeObjectGrants(fn, props.lake, [...queried, ...state], "Athena reads every object under the queried lake prefixes as the caller; the function reads the open hours' records.");
    acknowledgeObjectGrants(fn, this.resultsBucket, [RESULTS_PREFIX], 'Athena writes and the API reads query results under the workgroup result prefix, names chosen by Athena.');
    // Only CloudFront (origin access control, SigV4) may call it.
    this.url = fn.addFunctionUrl({ authType: FunctionUrlAuthType.AWS_IAM });
  }
}
