import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { Duration, Stage, type CfnElement } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { Asset } from 'aws-cdk-lib/aws-s3-assets';
import { describe, expect, it, vi } from 'vitest';
import { LAKE_COLUMNS, QUARANTINE_COLUMNS } from '../../lambdas/common/lake-columns.ts';
import { logLine } from '../../lambdas/common/lambda-log.ts';
import { compactionRunLine, hourNotCompactedLine } from '../../lambdas/compactor/compaction-log.ts';
import { logBatchWritten } from '../../lambdas/consumer/batch-log.ts';
import { EVENTS_TOPIC } from '../../lambdas/common/pipeline-names.ts';
import { ALL_ATHENA_TABLES, ATHENA_ROLLUP_TABLES, ATHENA_TABLES, athenaDialect } from '../../lambdas/query/dialect.ts';
import { ROLLUP_COLUMNS, ROLLUP_NAMES } from '../../lambdas/query/rollups.ts';
import { CONTENT_SECURITY_POLICY } from '../../lambdas/query/security-headers.ts';
import { ANSWER_CACHE_SECONDS } from '../../lambdas/query-api/limits.ts';
import { stackPropsFromContext } from '../../lib/app-context.ts';
import { EVENTS_TABLE, QUARANTINE_TABLE } from '../../lib/catalog.ts';
import { ClickstreamStack, type ClickstreamStackProps } from '../../lib/clickstream-stack.ts';
import { jsonPathValue, lambdaJsonRecord, parseEqualsPattern } from '../lambda-json-log.ts';
import { KAFKA_PROPS, synth, testApp, testOutdir } from './synth.ts';

// The first test to touch a variant synthesizes it (bundling three functions): seconds, not minutes.
vi.setConfig({ testTimeout: 60_000 });

type Resources = Record<string, { Type: string; Properties?: Record<string, unknown> }>;
/** The config.json the site deploys, read from its staged asset (Source.jsonData writes it into an asset directory of its own). */
function pageConfig(stack: ClickstreamStack): unknown {
  const assets = stack.site!.node.findAll().filter((c): c is Asset => c instanceof Asset);
  const files = assets.map((a) => join(Stage.of(stack)!.outdir, a.assetPath, 'config.json')).filter((f) => existsSync(f));
  expect(files).toHaveLength(1);
  return JSON.parse(readFileSync(files[0]!, 'utf8'));
}

const resourcesOf = (template: Template, type: string) => Object.values(template.findResources(type) as Resources);

describe('lake', () => {
  const { template } = synth('kinesis');

  it('is private, encrypted, TLS-only, logged, and expires quarantine and on-failure objects', () => {
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      VersioningConfiguration: { Status: 'Enabled' },
      LoggingConfiguration: { DestinationBucketName: Match.anyValue(), LogFilePrefix: 'Bucket/' },
      LifecycleConfiguration: {
        Rules: Match.arrayWith([
          Match.objectLike({ Prefix: 'quarantine/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ Prefix: 'on-failure/', ExpirationInDays: 30, Status: 'Enabled' }),
          Match.objectLike({ AbortIncompleteMultipartUpload: { DaysAfterInitiation: 1 }, ExpiredObjectDeleteMarker: true, Status: 'Enabled' }),
        ]),
      },
    });
  });

  it('denies non-TLS access on every bucket', () => {
    const buckets = Object.keys(template.findResources('AWS::S3::Bucket'));
    const policies = resourcesOf(template, 'AWS::S3::BucketPolicy');
    const guarded = policies
      .filter((p) => JSON.stringify(p.Properties?.PolicyDocument).includes('"aws:SecureTransport":"false"'))
      .map((p) => (p.Properties?.Bucket as { Ref: string }).Ref);
    expect(guarded.sort()).toEqual(buckets.sort());
  });

  it('sends failed batches to a bucket kept for a 30-day replay window and retained when the stack is deleted', () => {
    const buckets = template.findResources('AWS::S3::Bucket', { Properties: { LifecycleConfiguration: { Rules: [Match.objectLike({ Id: 'expire-failed-batches', ExpirationInDays: 30 })] } } });
    const ids = Object.keys(buckets);
    expect(ids).toHaveLength(1);
    expect(buckets[ids[0]!]).toMatchObject({ DeletionPolicy: 'Retain', UpdateReplacePolicy: 'Retain' });
    // Not emptied on deletion: no auto-delete custom resource points at it.
    const autoDeleted = resourcesOf(template, 'Custom::S3AutoDeleteObjects').map((r) => JSON.stringify(r.Properties?.BucketName));
    expect(autoDeleted.some((name) => name.includes(ids[0]!))).toBe(false);
  });
});

describe('compactor', () => {
  const { stack, template } = synth('kinesis');
  const environment = (fn: { node: { defaultChild?: unknown } }) => {
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    return (functions[stack.getLogicalId(fn.node.defaultChild as CfnElement)]!.Properties!.Environment as { Variables: Record<string, string> }).Variables;
  };

  it('runs every five minutes with the lateness rule the consumer writes by', () => {
    template.hasResourceProperties('AWS::Events::Rule', { Description: 'Runs the clickstream compactor', ScheduleExpression: 'rate(5 minutes)' });
    const [consumer, compactor] = [environment(stack.consumer.handler.function), environment(stack.compactor.handler.function)];
    expect(consumer.CLICKSTREAM_LATE_AFTER_SECONDS).toBe('600');
    expect(compactor.CLICKSTREAM_LATE_AFTER_SECONDS).toBe(consumer.CLICKSTREAM_LATE_AFTER_SECONDS);
    // The consumer's 5-minute timeout and a minute: no attempt writes later than that.
    expect(compactor.CLICKSTREAM_WRITE_DEADLINE_SECONDS).toBe('360');
    // Memory bounds the slices, time bounds the hour (benchmarks.md, "Compaction"): at 3,008 MB two worker
    // threads (its vCPUs) with slices of 266,000 rows each (330,000 measured to fit, less the product
    // minutes a run holds beside them), 487 MiB of Parquet in 12 minutes, the heap capped below the
    // memory, and /tmp for the spills.
    expect(Number(compactor.CLICKSTREAM_COMPACTION_SLICE_ROWS)).toBeGreaterThanOrEqual(530_000);
    expect(Number(compactor.CLICKSTREAM_COMPACTION_SLICE_ROWS)).toBeLessThanOrEqual(535_000);
    expect(compactor.CLICKSTREAM_COMPACTION_WORKERS).toBe('2');
    expect(compactor.CLICKSTREAM_COMPACTION_MAX_HOUR_MIB).toBe('487');
    expect(compactor.NODE_OPTIONS).toBe('--enable-source-maps --max-old-space-size=2406');
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Compacts settled lake hours'), MemorySize: 3008, EphemeralStorage: { Size: 2048 } });
  });

  it("folds the open hours every minute with the same bundle's fold, by the same lateness rule, and the query API reads them folded", () => {
    template.hasResourceProperties('AWS::Events::Rule', { Description: "Folds the clickstream lake's open hours", ScheduleExpression: 'rate(1 minute)' });
    const folder = stack.compactor.folder!;
    template.hasResourceProperties('AWS::Lambda::Function', { Description: Match.stringLikeRegexp('^Folds the open hours'), Handler: 'index.fold', MemorySize: 3008, Timeout: 300 });
    const [consumer, fold, api] = [environment(stack.consumer.handler.function), environment(folder.function), environment(stack.query!.api.function)];
    expect(fold.CLICKSTREAM_LATE_AFTER_SECONDS).toBe(consumer.CLICKSTREAM_LATE_AFTER_SECONDS);
    expect(fold.CLICKSTREAM_WRITE_DEADLINE_SECONDS).toBe(consumer.CLICKSTREAM_WRITE_DEADLINE_SECONDS);
    expect(api.CLICKSTREAM_OPEN_HOURS).toBe('folded');
    // Both share the bundle: one asset.
    const code = (fn: { node: { defaultChild?: unknown } }) => JSON.stringify((template.findResources('AWS::Lambda::Function') as Resources)[stack.getLogicalId(fn.node.defaultChild as CfnElement)]!.Properties!.Code);
    expect(code(folder.function)).toBe(code(stack.compactor.handler.function));
  });

  it('does not fold where batches of a partition run at once (Kinesis, parallelization factor above 1) or nothing reads the parts, and says so if asked to', () => {
    const parallel = new ClickstreamStack(testApp({ bundle: false }), 'Parallel', { ingest: 'kinesis', kinesis: { parallelizationFactor: 2 } });
    expect(parallel.compactor.folder).toBeUndefined();
    expect(JSON.stringify(Template.fromStack(parallel).findResources('AWS::Lambda::Function'))).toContain('"CLICKSTREAM_OPEN_HOURS":"raw"');
    expect(new ClickstreamStack(testApp({ bundle: false }), 'NoQuery', { ingest: 'kinesis', queryLayer: false }).compactor.folder).toBeUndefined();
    expect(new ClickstreamStack(testApp({ bundle: false }), 'Off', { ingest: 'kinesis', compactor: { foldOpenHours: false } }).compactor.folder).toBeUndefined();
    expect(() => new ClickstreamStack(testApp({ bundle: false }), 'Asked', { ingest: 'kinesis', kinesis: { parallelizationFactor: 2 }, compactor: { foldOpenHours: true } })).toThrow(
      /compactor.foldOpenHours needs the Kinesis mapping's parallelizationFactor at 1 \(batches of a shard in order\): set one of them differently/,
    );
  });

  it('refuses a lateness outside 1 to 1440 minutes and a memory Lambda does not offer', () => {
    expect(() => new ClickstreamStack(testApp({ bundle: false }), 'Late', { ingest: 'kinesis', consumer: { lateAfterMinutes: 0 } })).toThrow(/lateAfterMinutes must be a whole number from 1 to 1440, got 0/);
    expect(() => new ClickstreamStack(testApp({ bundle: false }), 'Memory', { ingest: 'kinesis', compactor: { memorySizeMb: 20_000 } })).toThrow(/memorySizeMb must be a whole number from 1024 to 10240, got 20000/);
  });
});

describe('consumer', () => {
  it('runs the bundled handler on Node 22, ARM64, JSON logs, with the lake bucket', () => {
    synth('kinesis').template.hasResourceProperties('AWS::Lambda::Function', {
      Runtime: 'nodejs22.x',
      Architectures: ['arm64'],
      Handler: 'index.handler',
      LoggingConfig: { LogFormat: 'JSON', LogGroup: Match.anyValue() },
      Environment: { Variables: Match.objectLike({ CLICKSTREAM_LAKE_BUCKET: Match.anyValue() }) },
    });
  });

  it('turns on source maps in every function built from lambdas/ (each ships one)', () => {
    const { stack, template } = synth('kinesis');
    const ours = [stack.consumer.handler.function, stack.query!.api.function, stack.simulator!.handler.function].map((f) => stack.getLogicalId(f.node.defaultChild as CfnElement));
    const functions = template.findResources('AWS::Lambda::Function') as Resources;
    for (const id of ours) expect((functions[id]!.Properties!.Environment as { Variables: Record<string, string> }).Variables.NODE_OPTIONS).toMatch(/^--enable-source-maps( |$)/);
  });

  it("gives the consumer the young generation its batches' rows live in (lambdas/consumer/node-flags.ts)", () => {
    const { stack, template } = synth('kinesis');
    const consumer = (template.findResources('AWS::Lambda::Function') as Resources)[stack.getLogicalId(stack.consumer.handler.function.node.defaultChild as CfnElement)];
    expect((consumer!.Properties!.Environment as { Variables: Record<string, string> }).Variables.NODE_OPTIONS).toBe('--enable-source-maps --max-semi-space-size=32');
  });

  it('Kinesis: batch 10,000, 5 s window, retries until an hour before the 24 h retention drops the records, no bisect, no partial batch response (the handler does not return that shape), S3 on-failure', () => {
    synth('kinesis').template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: Match.anyValue(),
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 5,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 23 * 3600,
      BisectBatchOnFunctionError: false,
      StartingPosition: 'TRIM_HORIZON',
      ParallelizationFactor: 1,
      DestinationConfig: { OnFailure: { Destination: Match.anyValue() } },
      FunctionResponseTypes: Match.absent(),
    });
  });

  it('MSK Serverless: the cluster ARN, the events topic, a named consumer group, retries until success', () => {
    synth('msk-serverless').template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      EventSourceArn: { 'Fn::GetAtt': [Match.stringLikeRegexp('IngestCluster'), 'Arn'] },
      Topics: [EVENTS_TOPIC],
      AmazonManagedKafkaEventSourceConfig: { ConsumerGroupId: 'Test-consumer' },
      BatchSize: 10_000,
      StartingPosition: 'TRIM_HORIZON',
      MaximumRetryAttempts: Match.absent(),
      MaximumRecordAgeInSeconds: Match.absent(),
      // An on-failure destination would cap Kafka retries at 10 and then skip the batch.
      DestinationConfig: Match.absent(),
    });
    synth('msk-serverless').template.hasResourceProperties('AWS::MSK::ServerlessCluster', { ClientAuthentication: { Sasl: { Iam: { Enabled: true } } } });
  });

  it.each(['msk-serverless', 'kafka'] as const)('%s: no failed-batches bucket and no on-failure grants (nothing is ever skipped)', (variant) => {
    const { template } = synth(variant);
    expect(Object.keys(template.findResources('AWS::S3::Bucket')).filter((id) => id.includes('FailedBatches'))).toEqual([]);
    expect(JSON.stringify(template.toJSON())).not.toContain('FailedBatches');
  });

  it('existing Kafka: bootstrap servers, SCRAM secret, VPC subnets and security group, retries until success', () => {
    synth('kafka').template.hasResourceProperties('AWS::Lambda::EventSourceMapping', {
      MaximumRetryAttempts: Match.absent(),
      DestinationConfig: Match.absent(),
      SelfManagedEventSource: { Endpoints: { KafkaBootstrapServers: ['b-1.redpanda.internal:9092', 'b-2.redpanda.internal:9092'] } },
      SourceAccessConfigurations: Match.arrayWith([
        { Type: 'SASL_SCRAM_512_AUTH', URI: Match.stringLikeRegexp('secret:redpanda') },
        { Type: 'VPC_SECURITY_GROUP', URI: 'sg-0123456789abcdef0' },
        { Type: 'VPC_SUBNET', URI: 'subnet-0123456789abcdef0' },
      ]),
    });
  });

  it('copies zstd.wasm beside index.mjs in the synthesized asset directory', () => {
    const { stack, templatePath } = synth('kinesis');
    const assetPath = (stack.consumer.handler.function.node.findChild('Code') as Asset).assetPath;
    const dir = join(dirname(templatePath), assetPath);
    expect(existsSync(join(dir, 'index.mjs'))).toBe(true);
    const wasm = join(dir, 'zstd.wasm');
    expect(existsSync(wasm)).toBe(true);
    // A WebAssembly module starts with "\0asm".
    expect(readFileSync(wasm).subarray(0, 4).toString('latin1')).toBe('\0asm');
  });
});

describe('physical names never collide between two stacks', () => {
  // Both stacks in one app (one account and region), built before either is synthesized.
  const templates = (props: ClickstreamStackProps) => {
    const app = testApp({ bundle: false });
    const stacks = ['Blue', 'Green'].map((id) => new ClickstreamStack(app, `${id}${props.ingest}`, props));
    return stacks.map((stack) => Template.fromStack(stack));
  };

  it('Kinesis: the stream is named after the stack, and the simulator is given that stream', () => {
    const names = templates({ ingest: 'kinesis' }).map((t) => {
      const streams = t.findResources('AWS::Kinesis::Stream') as Record<string, { Properties: { Name: string } }>;
      const id = Object.keys(streams)[0]!;
      t.hasResourceProperties('AWS::Lambda::Function', { Environment: { Variables: Match.objectLike({ CLICKSTREAM_STREAM_NAME: { Ref: id } }) } });
      return streams[id]!.Properties.Name;
    });
    expect(names).toEqual([`Bluekinesis-${EVENTS_TOPIC}`, `Greenkinesis-${EVENTS_TOPIC}`]);
  });

  it.each<[string, ClickstreamStackProps, string]>([
    ['MSK Serverless', { ingest: 'msk-serverless' }, 'AmazonManagedKafkaEventSourceConfig'],
    ['existing Kafka', { ...KAFKA_PROPS }, 'SelfManagedKafkaEventSourceConfig'],
  ])('%s: the consumer group is named after the stack', (_, props, config) => {
    const groups = templates(props).map((t) => {
      const [mapping] = resourcesOf(t, 'AWS::Lambda::EventSourceMapping');
      return (mapping!.Properties![config] as { ConsumerGroupId: string }).ConsumerGroupId;
    });
    expect(groups).toEqual([`Blue${props.ingest}-consumer`, `Green${props.ingest}-consumer`]);
  });

  it('keeps a consumer group given as a prop', () => {
    const stack = new ClickstreamStack(testApp({ bundle: false }), 'Given', { ...KAFKA_PROPS, kafka: { ...KAFKA_PROPS.kafka!, consumerGroupId: 'team-a.clickstream' } });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { SelfManagedKafkaEventSourceConfig: { ConsumerGroupId: 'team-a.clickstream' } });
  });
});

describe('Kinesis record age', () => {
  it.each<[number, number]>([
    [24, 23 * 3600],
    [7 * 24, 7 * 24 * 3600 - 3600],
    [30 * 24, 7 * 24 * 3600],
  ])('a %i h stream gives up on records after %i s (retention less an hour, at most 7 days)', (hours, seconds) => {
    const stack = new ClickstreamStack(testApp({ bundle: false }), 'Age', { ingest: 'kinesis', kinesis: { retention: Duration.hours(hours) }, simulatorEnabled: false });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::EventSourceMapping', { MaximumRecordAgeInSeconds: seconds, MaximumRetryAttempts: -1 });
  });
});

describe('catalog and query', () => {
  const { template } = synth('kinesis');
  const tables = resourcesOf(template, 'AWS::Glue::Table').map((t) => t.Properties?.TableInput as Record<string, unknown>);
  const table = (name: string) => tables.find((t) => t.Name === name)!;

  it('names the tables Athena queries', () => {
    expect(athenaDialect('db', 'lake').eventsTable).toBe(`"db"."${EVENTS_TABLE}"`);
    expect(athenaDialect('db', 'lake').quarantineTable).toBe(`"db"."${QUARANTINE_TABLE}"`);
    expect(tables.map((t) => t.Name).sort()).toEqual([...ALL_ATHENA_TABLES].sort());
  });

  it.each<[string, string, number]>([
    [EVENTS_TABLE, 'events/', LAKE_COLUMNS.length],
    [ATHENA_TABLES.compacted, 'compacted/', LAKE_COLUMNS.length],
    [ATHENA_TABLES.late, 'late/', LAKE_COLUMNS.length],
    [QUARANTINE_TABLE, 'quarantine/', QUARANTINE_COLUMNS.length],
    ...ROLLUP_NAMES.map((name): [string, string, number] => [ATHENA_ROLLUP_TABLES[name], `rollups/${name}/`, ROLLUP_COLUMNS[name].length]),
  ])('%s: columns from the one definition, string hour partitions projected without a crawler', (name, prefix, columnCount) => {
    const t = table(name) as { PartitionKeys: unknown; Parameters: Record<string, unknown>; StorageDescriptor: { Columns: { Name: string }[] } };
    expect(t.PartitionKeys).toEqual(['year', 'month', 'day', 'hour'].map((n) => ({ Name: n, Type: 'string' })));
    expect(t.StorageDescriptor.Columns).toHaveLength(columnCount);
    expect(t.Parameters).toMatchObject({
      'projection.enabled': 'true',
      'projection.year.type': 'integer',
      'projection.month.range': '1,12',
      'projection.month.digits': '2',
      'projection.day.range': '1,31',
      'projection.hour.range': '0,23',
      'projection.hour.digits': '2',
    });
    expect(JSON.stringify(t.Parameters['storage.location.template'])).toContain(`/${prefix}year=\${year}/month=\${month}/day=\${day}/hour=\${hour}/`);
  });

  it('maps the lake column types to Glue types', () => {
    const columns = (table(EVENTS_TABLE) as { StorageDescriptor: { Columns: { Name: string; Type: string }[] } }).StorageDescriptor.Columns;
    expect(columns.find((c) => c.Name === 'event_time')?.Type).toBe('timestamp');
    expect(columns.find((c) => c.Name === 'revenue')?.Type).toBe('double');
    expect(columns.find((c) => c.Name === 'source_partition')?.Type).toBe('int');
  });

  it('enforces an encrypted, scan-limited Athena engine v3 workgroup', () => {
    template.hasResourceProperties('AWS::Athena::WorkGroup', {
      WorkGroupConfiguration: {
        EnforceWorkGroupConfiguration: true,
        BytesScannedCutoffPerQuery: 10 * 1024 ** 3,
        EngineVersion: { SelectedEngineVersion: 'Athena engine version 3' },
        ResultConfiguration: { EncryptionConfiguration: { EncryptionOption: 'SSE_S3' }, OutputLocation: Match.anyValue() },
      },
    });
  });

  it('reserves no query API concurrency by default (deploys on an account whose quota is 10), and reserves what it is given', () => {
    const api = resourcesOf(template, 'AWS::Lambda::Function').find((f) => JSON.stringify(f.Properties?.Environment ?? {}).includes('CLICKSTREAM_ATHENA_WORKGROUP'))!;
    expect(api.Properties).not.toHaveProperty('ReservedConcurrentExecutions');
    const stack = new ClickstreamStack(testApp({ bundle: false }), 'Conc', { ingest: 'kinesis', simulatorEnabled: false, query: { reservedConcurrency: 1 } });
    Template.fromStack(stack).hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLICKSTREAM_ATHENA_WORKGROUP: Match.anyValue() }) },
      ReservedConcurrentExecutions: 1,
    });
  });

  it('gives the query API its database and workgroup and an IAM-only function URL', () => {
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLICKSTREAM_GLUE_DATABASE: 'test', CLICKSTREAM_ATHENA_WORKGROUP: 'test_dashboard' }) },
    });
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'AWS_IAM' });
  });
});

describe('dashboard site', () => {
  const { template } = synth('kinesis');

  it('serves the private bucket through OAC and /api/* from the function URL, briefly cached, query strings forwarded', () => {
    template.resourceCountIs('AWS::CloudFront::OriginAccessControl', 2);
    template.hasResourceProperties('AWS::CloudFront::Distribution', {
      DistributionConfig: Match.objectLike({
        DefaultRootObject: 'index.html',
        DefaultCacheBehavior: Match.objectLike({ ViewerProtocolPolicy: 'redirect-to-https' }),
        CacheBehaviors: [
          Match.objectLike({
            PathPattern: '/api/*',
            ViewerProtocolPolicy: 'redirect-to-https',
            AllowedMethods: ['GET', 'HEAD', 'OPTIONS'],
            CachePolicyId: { Ref: Match.stringLikeRegexp('DashboardApiCache') },
            OriginRequestPolicyId: 'b689b0a8-53d0-40ab-baf2-68738e2966ac', // Managed-AllViewerExceptHostHeader: forwards every query string
          }),
          Match.objectLike({
            PathPattern: '/collect/*',
            ViewerProtocolPolicy: 'redirect-to-https',
            AllowedMethods: ['GET', 'HEAD', 'OPTIONS', 'PUT', 'PATCH', 'POST', 'DELETE'],
            CachePolicyId: '4135ea2d-6df8-44a3-9df3-4b5a84be39ad', // Managed-CachingDisabled: trackers' requests are never cached
            OriginRequestPolicyId: { Ref: Match.stringLikeRegexp('DashboardCollectRequests') },
          }),
        ],
      }),
    });
  });

  it("gives the collector a public function URL (CloudFront cannot sign trackers' POSTs), forwarding the viewer address and the tracker's headers, no cookies", () => {
    template.hasResourceProperties('AWS::Lambda::Url', { AuthType: 'NONE' });
    template.hasResourceProperties('AWS::CloudFront::OriginRequestPolicy', {
      OriginRequestPolicyConfig: Match.objectLike({
        HeadersConfig: { HeaderBehavior: 'whitelist', Headers: Match.arrayWith(['Origin', 'Content-Encoding', 'User-Agent', 'SP-Anonymous', 'CloudFront-Viewer-Address']) },
        QueryStringsConfig: { QueryStringBehavior: 'all' },
        CookiesConfig: { CookieBehavior: 'none' },
      }),
    });
  });

  it('caches /api answers 30 s by default (min 0, max a 31-day range\'s step of 3.1 hours), keyed by every query string, no headers or cookies', () => {
    template.hasResourceProperties('AWS::CloudFront::CachePolicy', {
      CachePolicyConfig: Match.objectLike({
        DefaultTTL: 30,
        MinTTL: 0,
        MaxTTL: 11_160,
        ParametersInCacheKeyAndForwardedToOrigin: Match.objectLike({
          QueryStringsConfig: { QueryStringBehavior: 'all' },
          HeadersConfig: { HeaderBehavior: 'none' },
          CookiesConfig: { CookieBehavior: 'none' },
        }),
      }),
    });
  });

  it('times the query API out before CloudFront stops waiting for it', () => {
    const origins = (resourcesOf(template, 'AWS::CloudFront::Distribution')[0]!.Properties!.DistributionConfig as { Origins: { CustomOriginConfig?: { OriginReadTimeout?: number } }[] }).Origins;
    const readTimeout = origins.find((o) => o.CustomOriginConfig)!.CustomOriginConfig!.OriginReadTimeout!;
    const api = resourcesOf(template, 'AWS::Lambda::Function').find((f) => JSON.stringify(f.Properties?.Environment ?? {}).includes('CLICKSTREAM_ATHENA_WORKGROUP'))!;
    expect(readTimeout).toBe(30);
    expect(api.Properties?.Timeout).toBe(25);
    expect(api.Properties?.Timeout as number).toBeLessThan(readTimeout);
  });

  it('lets only this distribution invoke the function URL', () => {
    template.hasResourceProperties('AWS::Lambda::Permission', {
      Action: 'lambda:InvokeFunctionUrl',
      Principal: 'cloudfront.amazonaws.com',
      SourceArn: Match.anyValue(),
    });
  });

  it('sends the local server security headers', () => {
    template.hasResourceProperties('AWS::CloudFront::ResponseHeadersPolicy', {
      ResponseHeadersPolicyConfig: Match.objectLike({
        SecurityHeadersConfig: Match.objectLike({
          ContentSecurityPolicy: { ContentSecurityPolicy: CONTENT_SECURITY_POLICY, Override: true },
          ContentTypeOptions: { Override: true },
          FrameOptions: { FrameOption: 'DENY', Override: true },
        }),
      }),
    });
  });

  it('builds the dashboard into its own directory inside the cloud assembly, not the system temp directory', () => {
    const outdir = testOutdir('clickstream-synth-site-');
    const before = readdirSync(tmpdir()).filter((d) => d.startsWith('clickstream-dashboard-')).length;
    // The dashboard is built when the site is constructed, bundling or not.
    const stack = new ClickstreamStack(testApp({ outdir, bundle: false }), 'Site', { ingest: 'kinesis', simulatorEnabled: false });
    expect(existsSync(join(outdir, `dashboard-${stack.site!.node.addr}`, 'index.html'))).toBe(true);
    expect(readdirSync(tmpdir()).filter((d) => d.startsWith('clickstream-dashboard-')).length).toBe(before);
  });

  it('deploys two sources (the built dashboard and config.json) and invalidates the distribution', () => {
    const deployment = resourcesOf(template, 'Custom::CDKBucketDeployment')[0]!;
    expect(deployment.Properties?.SourceObjectKeys).toHaveLength(2);
    expect(deployment.Properties?.DistributionPaths).toEqual(['/*']);
  });

  it('writes config.json with a refresh of 10 s and ranges aligned to the 30 s the answers are cached (longer ranges a 240th of their length), or what it is given', () => {
    const { stack } = synth('kinesis');
    expect(pageConfig(stack)).toEqual({ apiBaseUrl: '/api', refreshMs: 10_000, rangeStepMs: ANSWER_CACHE_SECONDS * 1000, stepsPerRange: 240 });
    const given = new ClickstreamStack(testApp({ bundle: false }), 'Page', { ingest: 'kinesis', simulatorEnabled: false, dashboard: { refreshInterval: Duration.seconds(5), rangeStep: Duration.minutes(1) } });
    expect(pageConfig(given)).toEqual({ apiBaseUrl: '/api', refreshMs: 5_000, rangeStepMs: 60_000, stepsPerRange: 240 });
  });
});

describe('simulator', () => {
  it('runs every minute into Kinesis with the configured rate', () => {
    const { template } = synth('kinesis');
    template.hasResourceProperties('AWS::Events::Rule', { ScheduleExpression: 'rate(1 minute)', State: 'ENABLED' });
    template.hasResourceProperties('AWS::Lambda::Function', {
      Environment: { Variables: Match.objectLike({ CLICKSTREAM_INGEST: 'kinesis', CLICKSTREAM_EVENTS_PER_MINUTE: '600' }) },
    });
  });

  it('never re-runs a failed minute late: no EventBridge or Lambda async retries, events older than a minute dropped', () => {
    const { template } = synth('kinesis');
    template.hasResourceProperties('AWS::Lambda::EventInvokeConfig', { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60, Qualifier: '$LATEST' });
    template.hasResourceProperties('AWS::Events::Rule', { Targets: [Match.objectLike({ RetryPolicy: { MaximumRetryAttempts: 0, MaximumEventAgeInSeconds: 60 } })] });
  });

  it('uses IAM auth in the cluster VPC for MSK Serverless', () => {
    synth('msk-serverless').template.hasResourceProperties('AWS::Lambda::Function', {
      VpcConfig: Match.objectLike({ SubnetIds: Match.anyValue() }),
      Environment: { Variables: Match.objectLike({ CLICKSTREAM_INGEST: 'kafka', CLICKSTREAM_KAFKA_AUTH: 'iam', CLICKSTREAM_TOPIC: EVENTS_TOPIC }) },
    });
  });

  it('is left out when turned off', () => {
    const props = stackPropsFromContext((key) => ({ ingest: 'kinesis', simulator: 'off' })[key]);
    const stack = new ClickstreamStack(testApp({ bundle: false }), 'Off', props);
    expect(stack.simulator).toBeUndefined();
    // The schedules left are the compactor's and its fold's.
    Template.fromStack(stack).resourceCountIs('AWS::Events::Rule', 2);
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { Description: 'Runs the clickstream compactor' });
    Template.fromStack(stack).hasResourceProperties('AWS::Events::Rule', { Description: "Folds the clickstream lake's open hours" });
  });
});

describe('LocalStack Community (-c localstack=true)', () => {
  it('synthesizes without the catalog, the query API and the dashboard site (no Glue, Athena, CloudFront or Lambda layers)', () => {
    const props = stackPropsFromContext((key) => ({ ingest: 'kinesis', localstack: 'true' })[key]);
    const stack = new ClickstreamStack(testApp({ bundle: false }), 'Local', props);
    expect([stack.catalog, stack.query, stack.site]).toEqual([undefined, undefined, undefined]);
    const template = Template.fromStack(stack);
    const types = new Set(Object.values(template.toJSON().Resources as Resources).map((r) => r.Type));
    for (const type of types) expect(type).not.toMatch(/^AWS::(Glue|Athena|CloudFront)::|^AWS::Lambda::LayerVersion$|^Custom::CDKBucketDeployment/);
    expect([...types]).toEqual(expect.arrayContaining(['AWS::Kinesis::Stream', 'AWS::Lambda::EventSourceMapping', 'AWS::S3::Bucket']));
    template.hasOutput('LakeBucket', {});
    expect(Object.keys(template.findOutputs('*'))).not.toContain('DashboardUrl');
  });
});

describe('operations', () => {
  it.each([
    ['kinesis', 'GetRecords.IteratorAgeMilliseconds', 'AWS/Kinesis'],
    ['msk-serverless', 'OffsetLag', 'AWS/Lambda'],
  ] as const)('%s: alarms on consumer lag (%s), function errors and the quarantine rate', (variant, lagMetric, namespace) => {
    const { template } = synth(variant);
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: lagMetric, Namespace: namespace, Statistic: 'Maximum' });
    // Consumer, compactor and its fold, collector, query API and simulator.
    expect(resourcesOf(template, 'AWS::CloudWatch::Alarm').filter((a) => a.Properties?.MetricName === 'Errors')).toHaveLength(6);
    template.hasResourceProperties('AWS::Logs::MetricFilter', {
      FilterPattern: '{ $.message.message = "batch written" }',
      MetricTransformations: [Match.objectLike({ MetricName: 'QuarantinedRecords', MetricValue: '$.message.quarantined' })],
    });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { Threshold: 0.05, Metrics: Match.arrayWith([Match.objectLike({ Expression: 'IF(records > 0, quarantined / records, 0)' })]) });
  });
});

describe('quarantine-rate metric filters', () => {
  it('match the consumer line as Lambda JSON logging wraps it and pick its counts', () => {
    const filters = resourcesOf(synth('kinesis').template, 'AWS::Logs::MetricFilter').map(
      (f) => f.Properties as { FilterPattern: string; MetricTransformations: { MetricName: string; MetricValue: string }[] },
    );
    expect(filters.map((f) => f.MetricTransformations[0]!.MetricName).sort()).toEqual(['CompactionBacklog', 'ConsumedRecords', 'HoursNotCompacted', 'QuarantinedRecords']);
    const consumerFilters = filters.filter((f) => ['ConsumedRecords', 'QuarantinedRecords'].includes(f.MetricTransformations[0]!.MetricName));
    const result = { partitions: 1, records: 200, valid: 190, quarantined: 10, duplicatesDropped: 0, objectsWritten: 2, objectsReplaced: 0 };
    const lines: unknown[] = [];
    logBatchWritten(result, { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, (line) => lines.push(line));
    const record = lambdaJsonRecord(lines[0]);
    for (const filter of consumerFilters) {
      const { path, text } = parseEqualsPattern(filter.FilterPattern);
      expect(jsonPathValue(record, path)).toBe(text);
    }
    const value = (name: string) => jsonPathValue(record, filters.find((f) => f.MetricTransformations[0]!.MetricName === name)!.MetricTransformations[0]!.MetricValue);
    expect(value('ConsumedRecords')).toBe(200);
    expect(value('QuarantinedRecords')).toBe(10);
  });
});

describe('hours-not-compacted alarm', () => {
  it("counts the compactor's line for an hour it left raw, as Lambda JSON logging wraps it, and alarms on one in an hour", () => {
    const { template } = synth('kinesis');
    const filter = resourcesOf(template, 'AWS::Logs::MetricFilter').find((f) => JSON.stringify(f.Properties).includes('HoursNotCompacted'))!.Properties as {
      FilterPattern: string;
      LogGroupName: unknown;
    };
    const lines: unknown[] = [];
    logLine(hourNotCompactedLine({ hour: 'year=2026/month=12/day=04/hour=10', reason: 'too big' }), { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, (line) => lines.push(line));
    const { path, text } = parseEqualsPattern(filter.FilterPattern);
    expect(jsonPathValue(lambdaJsonRecord(lines[0]), path)).toBe(text);
    // On the compactor's log group, not the consumer's.
    const compactorLogs = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => id.startsWith('Compactor'))![0];
    expect(filter.LogGroupName).toEqual({ Ref: compactorLogs });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'HoursNotCompacted', Namespace: 'Clickstream', Statistic: 'Sum', Period: 3600, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold' });
  });
});

describe('compaction-backlog alarm', () => {
  it("reads the work each compactor run left (its run line, as Lambda JSON logging wraps it) and alarms when no run in six hours left none", () => {
    const { template } = synth('kinesis');
    const filter = resourcesOf(template, 'AWS::Logs::MetricFilter').find((f) => JSON.stringify(f.Properties).includes('CompactionBacklog'))!.Properties as {
      FilterPattern: string;
      LogGroupName: unknown;
      MetricTransformations: { MetricValue: string }[];
    };
    const lines: unknown[] = [];
    const result = { hoursCompacted: 1, lateFilesFolded: 2, lateFilesPassed: 0, filesWritten: 1, rowsWritten: 10, duplicatesDropped: 0, filesDeleted: 0, slices: 1, peakSliceRows: 10, peakSpillBytes: 0, threads: 1, hoursSkipped: [], hoursLeft: 3, lateFilesLeft: 40, lostRace: false };
    logLine(compactionRunLine(result), { AWS_LAMBDA_LOG_FORMAT: 'JSON' }, (line) => lines.push(line));
    const record = lambdaJsonRecord(lines[0]);
    const { path, text } = parseEqualsPattern(filter.FilterPattern);
    expect(jsonPathValue(record, path)).toBe(text);
    expect(jsonPathValue(record, filter.MetricTransformations[0]!.MetricValue)).toBe(43);
    const compactorLogs = Object.entries(template.findResources('AWS::Logs::LogGroup')).find(([id]) => id.startsWith('Compactor'))![0];
    expect(filter.LogGroupName).toEqual({ Ref: compactorLogs });
    template.hasResourceProperties('AWS::CloudWatch::Alarm', { MetricName: 'CompactionBacklog', Namespace: 'Clickstream', Statistic: 'Minimum', Period: 3600, EvaluationPeriods: 6, Threshold: 1, ComparisonOperator: 'GreaterThanOrEqualToThreshold', TreatMissingData: 'notBreaching' });
  });
});

describe('outputs', () => {
  it.each(['msk-serverless', 'kafka', 'kinesis'] as const)('%s: dashboard URL, query API URL, lake bucket, ingest endpoint', (variant) => {
    const { template } = synth(variant);
    for (const name of ['DashboardUrl', 'QueryApiUrl', 'LakeBucket', 'IngestEndpoint']) template.hasOutput(name, {});
  });
});

describe('bad settings get one clear sentence', () => {
  // Validation runs before any function is bundled, so these cost no synthesis.
  const build = (props: ClickstreamStackProps) => () => new ClickstreamStack(testApp({ bundle: false }), 'Bad', props);

  it.each<[string, ClickstreamStackProps, RegExp]>([
    ['Kafka without bootstrap servers', { ingest: 'kafka', kafka: { bootstrapServers: [], authSecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x' } }, /the kafka ingest needs bootstrapServers/],
    ['Kafka without any kafka props', { ingest: 'kafka' }, /ingest "kafka" needs the kafka props/],
    ['Kafka over the Internet without a secret', { ingest: 'kafka', kafka: { bootstrapServers: ['k.example.com:9096'] } }, /needs authSecretArn/],
    [
      'SASL/SCRAM without TLS',
      { ingest: 'kafka', kafka: { bootstrapServers: ['k.example.com:9096'], authSecretArn: 'arn:aws:secretsmanager:us-east-1:1:secret:x', tls: false } },
      /Lambda supports SASL\/SCRAM \(authSecretArn\) only over TLS: remove tls: false/,
    ],
    ['a bad consumer group id', { ...KAFKA_PROPS, kafka: { ...KAFKA_PROPS.kafka!, consumerGroupId: 'has space' } }, /consumerGroupId must be 1-200 letters, digits or -\/\*:_\+=\.@, got "has space"/],
    ['a bad stream name', { ingest: 'kinesis', kinesis: { streamName: 'a/b' } }, /streamName must be 1-128 letters, digits or _\.-, got "a\/b"/],
    ['a malformed bootstrap server', { ingest: 'kafka', kafka: { bootstrapServers: ['no-port'], authSecretArn: 'arn:x' } }, /bootstrapServers must be host:port pairs, got "no-port"/],
    ['a batching window above 300 s', { ingest: 'kinesis', consumer: { batchingWindowSeconds: 301 } }, /batchingWindowSeconds must be a whole number from 0 to 300/],
    ['a batch size of 0', { ingest: 'kinesis', consumer: { batchSize: 0 } }, /batchSize must be a whole number from 1 to 10000, got 0/],
    ['a batch size above 10,000', { ingest: 'kinesis', consumer: { batchSize: 10_001 } }, /batchSize must be a whole number from 1 to 10000, got 10001/],
    ['retry limits on Kafka', { ingest: 'msk-serverless', consumer: { retryAttempts: 3 } }, /retryAttempts applies to the Kinesis ingest only/],
    ['a retry count below -1', { ingest: 'kinesis', consumer: { retryAttempts: -2 } }, /retryAttempts must be -1 \(retry until the records expire\) or a whole number from 0 to 10000, got -2/],
    ['an unknown ingest', { ingest: 'sqs' as never }, /ingest must be one of msk-serverless, kafka, kinesis, got "sqs"/],
    ['no reserved query concurrency', { ingest: 'kinesis', query: { reservedConcurrency: 0 } }, /reservedConcurrency must be a whole number of invocations, at least 1, got 0/],
    ['a fractional collector concurrency', { ingest: 'kinesis', collector: { reservedConcurrency: 2.5 } }, /reservedConcurrency must be a whole number of invocations, at least 1, got 2.5/],
    ['a refresh under a second', { ingest: 'kinesis', dashboard: { refreshInterval: Duration.millis(500) } }, /refreshInterval must be a whole number of seconds from 1 to 3600, got 0.5 s/],
    ['a range step over an hour', { ingest: 'kinesis', dashboard: { rangeStep: Duration.hours(2) } }, /rangeStep must be a whole number of seconds from 1 to 3600, got 7200 s/],
    ['a zero quarantine retention', { lake: { quarantineRetentionDays: 0 } }, /quarantineRetentionDays must be a whole number of days, at least 1, got 0/],
    ['too many simulated events', { ingest: 'kinesis', simulator: { eventsPerMinute: 600_001 } }, /eventsPerMinute must be a whole number from 1 to 600000/],
  ])('%s', (_, props, error) => {
    expect(build(props)).toThrow(error);
  });

  it.each<[Record<string, string>, RegExp]>([
    [{ ingest: 'pubsub' }, /-c ingest must be one of msk-serverless, kafka, kinesis, got "pubsub"/],
    [{ simulator: 'maybe' }, /-c simulator must be on or off, got "maybe"/],
    [{ batchSize: 'lots' }, /-c batchSize must be a whole number, got "lots"/],
    [{ ingest: 'kafka', kafkaVpcId: 'vpc-1' }, /-c kafkaVpcId, kafkaSubnetIds and kafkaSecurityGroupId go together: add -c kafkaSubnetIds=… and -c kafkaSecurityGroupId=…, or pass none of them/],
    [{ ingest: 'kafka', kafkaVpcId: 'vpc-1', kafkaSubnetIds: 's1' }, /go together: add -c kafkaSecurityGroupId=…, or pass none/],
    [{ ingest: 'kafka', kafkaSubnetIds: 's1', kafkaSecurityGroupId: 'sg-1' }, /go together: add -c kafkaVpcId=…, or pass none/],
    [{ ingest: 'kafka', kafkaVpcId: 'vpc-1', kafkaSubnetIds: ' , ', kafkaSecurityGroupId: 'sg-1' }, /go together: add -c kafkaSubnetIds=…/],
    [{ ingest: 'kafka', kafkaTls: 'yes' }, /-c kafkaTls must be true or false, got "yes"/],
    [{ ingest: 'kinesis', localstack: 'yes' }, /-c localstack must be true or false, got "yes"/],
    [{ localstack: 'true' }, /-c localstack=true needs -c ingest=kinesis .*, got "msk-serverless"/],
    [{ ingest: 'kafka', kafkaTls: 'False' }, /-c kafkaTls must be true or false, got "False"/],
    [{ openHours: 'live' }, /-c openHours must be folded or raw, got "live"/],
  ])('context %o', (context, error) => {
    expect(() => stackPropsFromContext((key) => context[key])).toThrow(error);
  });

  it.each<[string | boolean, boolean]>([
    ['true', true],
    ['false', false],
    [true, true],
    [false, false],
  ])('reads -c kafkaTls=%s exactly', (value, tls) => {
    expect(stackPropsFromContext((key) => ({ ingest: 'kafka', kafkaBootstrapServers: 'a:9092', kafkaTls: value })[key]).kafka?.tls).toBe(tls);
  });

  it('reads -c openHours=raw as no fold (the query API reads raw files) and folded as the default', () => {
    expect(stackPropsFromContext((key) => ({ openHours: 'raw' })[key]).compactor).toEqual({ foldOpenHours: false });
    expect(stackPropsFromContext((key) => ({ openHours: 'folded' })[key]).compactor).toEqual({ foldOpenHours: true });
    expect(stackPropsFromContext(() => undefined).compactor).toBeUndefined();
  });

  it('reads a Kafka setup from context', () => {
    const props = stackPropsFromContext(
      (key) =>
        ({
          ingest: 'kafka',
          kafkaBootstrapServers: 'a:9092, b:9092',
          kafkaAuthSecretArn: 'arn:s',
          kafkaVpcId: 'vpc-1',
          kafkaSubnetIds: 's1,s2',
          kafkaSecurityGroupId: 'sg-1',
          eventsPerMinute: '60',
        })[key],
    );
    expect(props).toMatchObject({
      ingest: 'kafka',
      simulatorEnabled: true,
      simulator: { eventsPerMinute: 60 },
      kafka: { bootstrapServers: ['a:9092', 'b:9092'], authSecretArn: 'arn:s', network: { vpcId: 'vpc-1', subnetIds: ['s1', 's2'], securityGroupId: 'sg-1' } },
    });
  });
});
