/**
 * What the rest of the stack needs from an ingest, whichever it is: attach the
 * consumer (event source mapping + the grants it needs), let the simulator
 * produce, name the endpoint, and measure consumer lag.
 */
import type { Duration } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import type { EventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';

export const INGEST_KINDS = ['msk-serverless', 'kafka', 'kinesis'] as const;
export type IngestKind = (typeof INGEST_KINDS)[number];

/** Event source mapping settings the Consumer has validated. */
export interface ConsumerSourceSettings {
  readonly batchSize: number;
  readonly maxBatchingWindow: Duration;
  /** Kinesis only; undefined: the source's default. Kafka mappings always retry until success. */
  readonly retryAttempts?: number;
  /** Kinesis only (required there): where batches that failed every attempt are recorded. Kafka mappings have no on-failure destination. */
  readonly failedBatches?: IBucket;
}

/** Where a producer must run to reach the ingest. */
export interface ProducerNetwork {
  readonly vpc: IVpc;
  readonly vpcSubnets: SubnetSelection;
  readonly securityGroups: readonly ISecurityGroup[];
}

export interface Ingest {
  readonly kind: IngestKind;
  /** Bootstrap servers or stream ARN, for the stack output. */
  readonly endpoint: string;
  /** The topic or stream name the consumer reads (and the lake's source_topic). */
  readonly topic: string;
  /** Variables the scheduled simulator reads (see lambdas/simulator/scheduled-config.ts). */
  readonly producerEnvironment: Readonly<Record<string, string>>;
  /** @default - the producer needs no VPC */
  readonly producerNetwork?: ProducerNetwork;
  attachConsumer(consumer: IFunction, settings: ConsumerSourceSettings): EventSourceMapping;
  grantProduce(producer: IFunction): void;
  /** The consumer's lag behind the head of the stream, in the unit of lagUnit. */
  consumerLagMetric(consumer: IFunction): Metric;
  readonly lagUnit: 'records' | 'milliseconds';
  /**
   * Whether the consumer writes each source partition's batches one after another (the next
   * starts once the one before has written its files), which folding the open hour relies on
   * (docs/architecture.md, "Folding the open hour").
   */
  readonly batchesInOrder: boolean;
}
