/**
 * The consumer's event source mapping for Kafka, managed (MSK) or not: the
 * settings both share. Deliberately no on-failure destination: with one, Lambda
 * caps the (otherwise infinite) retries at 10 and then commits past the batch,
 * which would drop acknowledged records. Without one a failing batch is retried
 * until storage is back and its partition waits; bad records never fail a
 * batch (the handler quarantines them), so only an outage can stall it.
 */
import { Duration, Stack } from 'aws-cdk-lib';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { EventSourceMapping, StartingPosition, type IFunction, type SourceAccessConfiguration } from 'aws-cdk-lib/aws-lambda';
import type { Construct } from 'constructs';
import type { ConsumerSourceSettings } from './ingest.ts';

/** Lambda's rule for a Kafka consumer group id. */
const GROUP_ID = /^[a-zA-Z0-9-/*:_+=.@]{1,200}$/;

/**
 * The consumer group: named (Lambda's default is the mapping's UUID) so offset tooling can find it,
 * and by default derived from the stack name so two stacks on one cluster never share offsets.
 */
export function consumerGroupId(scope: Construct, given: string | undefined): string {
  const id = given ?? `${Stack.of(scope).stackName}-consumer`;
  if (!GROUP_ID.test(id)) throw new Error(`consumerGroupId must be 1-200 letters, digits or -/*:_+=.@, got "${id}"`);
  return id;
}

/** Lambda's own OffsetLag for a Kafka mapping (MSK or not): records between the group's commit and the topic's end. */
export function kafkaOffsetLagMetric(consumer: IFunction): Metric {
  return consumer.metric('OffsetLag', { statistic: 'Maximum', period: Duration.minutes(1) });
}

export interface KafkaMappingSource {
  readonly topic: string;
  /** From consumerGroupId(). */
  readonly consumerGroupId: string;
  /** MSK: the cluster ARN. */
  readonly clusterArn?: string;
  /** Self-managed Kafka: host:port pairs. */
  readonly bootstrapServers?: readonly string[];
  readonly sourceAccessConfigurations?: readonly SourceAccessConfiguration[];
}

export function kafkaConsumerMapping(scope: Construct, consumer: IFunction, settings: ConsumerSourceSettings, source: KafkaMappingSource): EventSourceMapping {
  if (settings.retryAttempts !== undefined) {
    throw new Error(
      'retryAttempts applies to the Kinesis ingest only: a Kafka event source mapping retries a failed batch until it succeeds, which keeps every record (only storage outages fail a batch)',
    );
  }
  return new EventSourceMapping(scope, 'ConsumerMapping', {
    target: consumer,
    ...(source.clusterArn && { eventSourceArn: source.clusterArn }),
    ...(source.bootstrapServers && { kafkaBootstrapServers: [...source.bootstrapServers] }),
    kafkaTopic: source.topic,
    kafkaConsumerGroupId: source.consumerGroupId,
    // From the oldest record kept: nothing produced before the mapping existed is skipped.
    startingPosition: StartingPosition.TRIM_HORIZON,
    batchSize: settings.batchSize,
    maxBatchingWindow: settings.maxBatchingWindow,
    ...(source.sourceAccessConfigurations && { sourceAccessConfigurations: [...source.sourceAccessConfigurations] }),
    // No onFailure and no retryAttempts/maxRecordAge: Lambda's defaults for Kafka are infinite.
  });
}
