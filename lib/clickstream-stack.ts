/**
 * The cloud pipeline, one construct per concern: ingest (MSK Serverless,
 * an existing Kafka, or Kinesis) → consumer → lake (and its compactor) → Glue catalog and Athena →
 * query API and dashboard behind CloudFront, plus the simulator and alarms.
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Catalog } from './catalog.ts';
import { Compactor, type CompactorProps } from './compactor.ts';
import { Consumer, type ConsumerProps } from './consumer.ts';
import { Collector, type CollectorProps } from './collector.ts';
import { DashboardSite, type DashboardSiteProps } from './dashboard-site.ts';
import { ExistingKafkaIngest, type ExistingKafkaIngestProps } from './ingest/existing-kafka-ingest.ts';
import { INGEST_KINDS, type Ingest, type IngestKind } from './ingest/ingest.ts';
import { KinesisIngest, type KinesisIngestProps } from './ingest/kinesis-ingest.ts';
import { MskServerlessIngest, type MskServerlessIngestProps } from './ingest/msk-serverless-ingest.ts';
import { Lake, type LakeProps } from './lake.ts';
import { Operations } from './operations.ts';
import { Query, type QueryProps } from './query.ts';
import { Simulator, type SimulatorProps } from './simulator.ts';

export interface ClickstreamStackProps extends StackProps {
  /** Which stream carries the events. @default 'msk-serverless' */
  readonly ingest?: IngestKind;
  /** @default - MskServerlessIngest defaults */
  readonly mskServerless?: MskServerlessIngestProps;
  /** Required when ingest is 'kafka'. @default - none */
  readonly kafka?: ExistingKafkaIngestProps;
  /** @default - KinesisIngest defaults */
  readonly kinesis?: KinesisIngestProps;
  /** @default - the Lake defaults (the failed-batches bucket exists only with the Kinesis ingest) */
  readonly lake?: Omit<LakeProps, 'failedBatchesBucket'>;
  /** Event source mapping and function settings. @default - the Consumer defaults */
  readonly consumer?: Pick<ConsumerProps, 'batchSize' | 'batchingWindowSeconds' | 'retryAttempts' | 'memorySizeMb' | 'lateAfterMinutes'>;
  /** @default - the Compactor defaults */
  readonly compactor?: Pick<CompactorProps, 'memorySizeMb' | 'interval' | 'foldOpenHours'>;
  /** @default - the Query defaults */
  readonly query?: Pick<QueryProps, 'bytesScannedCutoffPerQuery' | 'resultsRetentionDays' | 'reservedConcurrency'>;
  /** How the hosted page refreshes. @default - the DashboardSite defaults */
  readonly dashboard?: Pick<DashboardSiteProps, 'refreshInterval' | 'rangeStep'>;
  /** @default - the Collector defaults */
  readonly collector?: Pick<CollectorProps, 'reservedConcurrency'>;
  /** Run the scheduled simulator. @default true */
  readonly simulatorEnabled?: boolean;
  /** @default - the Simulator defaults */
  readonly simulator?: Pick<SimulatorProps, 'eventsPerMinute'>;
  /**
   * Build the Glue catalog, the Athena query API and the CloudFront dashboard. Off for
   * LocalStack Community (`-c localstack=true`), which runs none of Glue, Athena or CloudFront.
   * @default true
   */
  readonly queryLayer?: boolean;
}

export class ClickstreamStack extends Stack {
  readonly ingest: Ingest;
  readonly lake: Lake;
  readonly consumer: Consumer;
  readonly compactor: Compactor;
  /** Absent when queryLayer is false. */
  readonly catalog?: Catalog;
  /** Absent when queryLayer is false. */
  readonly query?: Query;
  /** Absent when queryLayer is false. */
  readonly site?: DashboardSite;
  readonly simulator?: Simulator;
  readonly collector: Collector;
  readonly operations: Operations;

  constructor(scope: Construct, id: string, props: ClickstreamStackProps = {}) {
    super(scope, id, props);
    const kind = props.ingest ?? 'msk-serverless';
    if (!(INGEST_KINDS as readonly string[]).includes(kind)) throw new Error(`ingest must be one of ${INGEST_KINDS.join(', ')}, got "${String(kind)}"`);
    if (kind === 'kafka' && !props.kafka) throw new Error('ingest "kafka" needs the kafka props: at least bootstrapServers (-c kafkaBootstrapServers=host:port,…)');

    // Only a Kinesis mapping has an on-failure destination; Kafka mappings retry until success.
    this.lake = new Lake(this, 'Lake', { ...props.lake, failedBatchesBucket: kind === 'kinesis' });
    this.ingest =
      kind === 'kinesis'
        ? new KinesisIngest(this, 'Ingest', props.kinesis)
        : kind === 'kafka'
          ? new ExistingKafkaIngest(this, 'Ingest', props.kafka!)
          : new MskServerlessIngest(this, 'Ingest', props.mskServerless);
    this.consumer = new Consumer(this, 'Consumer', {
      ...props.consumer,
      ingest: this.ingest,
      lake: this.lake.bucket,
      ...(this.lake.failedBatchesBucket && { failedBatches: this.lake.failedBatchesBucket }),
    });
    // Folding is for Athena's reads, and needs each partition's batches in order (a Kinesis mapping with a
    // parallelization factor above 1 runs them at once).
    const foldOpenHours = props.compactor?.foldOpenHours ?? (this.ingest.batchesInOrder && (props.queryLayer ?? true));
    if (foldOpenHours && !this.ingest.batchesInOrder) throw new Error('compactor.foldOpenHours needs the Kinesis mapping\'s parallelizationFactor at 1 (batches of a shard in order): set one of them differently');
    this.compactor = new Compactor(this, 'Compactor', { ...props.compactor, foldOpenHours, lake: this.lake.bucket, timingEnvironment: this.consumer.timingEnvironment });
    this.collector = new Collector(this, 'Collector', { ...props.collector, ingest: this.ingest });
    if (props.queryLayer ?? true) {
      this.catalog = new Catalog(this, 'Catalog', { lake: this.lake.bucket });
      this.query = new Query(this, 'Query', { openHours: foldOpenHours ? 'folded' : 'raw', ...props.query, lake: this.lake.bucket, catalog: this.catalog, accessLogs: this.lake.accessLogsBucket });
      this.site = new DashboardSite(this, 'Dashboard', { ...props.dashboard, apiUrl: this.query.url, collectorUrl: this.collector.url, accessLogs: this.lake.accessLogsBucket });
      new CfnOutput(this, 'DashboardUrl', { value: this.site.url, description: 'The hosted dashboard' });
      new CfnOutput(this, 'QueryApiUrl', { value: `${this.site.url}api/query/`, description: 'The query API, behind the same distribution (append a query name, e.g. kpis)' });
    }
    new CfnOutput(this, 'CollectorUrl', {
      value: this.site ? `${this.site.url}collect` : this.collector.url.url,
      description: "Where shops' trackers send events (docs/collector.md)",
    });
    if (props.simulatorEnabled ?? true) this.simulator = new Simulator(this, 'Simulator', { ...props.simulator, ingest: this.ingest });
    this.operations = new Operations(this, 'Operations', {
      ingest: this.ingest,
      consumer: this.consumer.handler.function,
      consumerLogs: this.consumer.handler.logGroup,
      compactorLogs: this.compactor.handler.logGroup,
      functions: [this.consumer.handler.function, this.compactor.handler.function, ...(this.compactor.folder ? [this.compactor.folder.function] : []), this.collector.handler.function, ...(this.query ? [this.query.api.function] : []), ...(this.simulator ? [this.simulator.handler.function] : [])],
    });

    new CfnOutput(this, 'LakeBucket', { value: this.lake.bucket.bucketName, description: 'S3 bucket holding the Parquet lake' });
    new CfnOutput(this, 'IngestEndpoint', { value: this.ingest.endpoint, description: `Where events go (${kind}): bootstrap servers or stream ARN` });
    new CfnOutput(this, 'IngestTopic', { value: this.ingest.topic, description: 'Topic or stream name' });
  }
}
