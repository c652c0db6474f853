/**
 * An existing Kafka cluster (Redpanda, Apache Kafka, Confluent…): the stack
 * creates no broker, only the consumer's mapping and the simulator's access.
 * Authentication is SASL/SCRAM-SHA-512 with a Secrets Manager secret holding
 * {"username","password"}; brokers in a VPC are reached through its subnets.
 */
import { Annotations } from 'aws-cdk-lib';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { SecurityGroup, Subnet, Vpc, type ISecurityGroup } from 'aws-cdk-lib/aws-ec2';
import { SourceAccessConfigurationType, type EventSourceMapping, type IFunction, type SourceAccessConfiguration } from 'aws-cdk-lib/aws-lambda';
import { Secret, type ISecret } from 'aws-cdk-lib/aws-secretsmanager';
import { Construct } from 'constructs';
import { HOST_PORT } from '../../lambdas/common/host-port.ts';
import { EVENTS_TOPIC } from '../../lambdas/common/pipeline-names.ts';
import type { ConsumerSourceSettings, Ingest, ProducerNetwork } from './ingest.ts';
import { consumerGroupId, kafkaConsumerMapping, kafkaOffsetLagMetric } from './kafka-mapping.ts';
import { grantVpcPoller } from './vpc-poller-permissions.ts';

export interface ExistingKafkaNetwork {
  readonly vpcId: string;
  /** Subnets that reach the brokers (private, one per Availability Zone). */
  readonly subnetIds: readonly string[];
  /** A group the brokers accept connections from. */
  readonly securityGroupId: string;
}

export interface ExistingKafkaIngestProps {
  /** host:port pairs of the brokers. */
  readonly bootstrapServers: readonly string[];
  /** @default EVENTS_TOPIC ('clickstream.events') */
  readonly topic?: string;
  /** ARN of a Secrets Manager secret with {"username","password"} for SASL/SCRAM-SHA-512. @default - no authentication (only allowed inside a VPC) */
  readonly authSecretArn?: string;
  /** @default - the brokers are reached over the Internet (then authSecretArn is required) */
  readonly network?: ExistingKafkaNetwork;
  /** The consumer's Kafka group; unique per stack so two stacks on one cluster keep separate offsets. @default `<stack name>-consumer` */
  readonly consumerGroupId?: string;
  /** Whether the brokers speak TLS (the simulator's connection); must stay true with authSecretArn (Lambda does SCRAM only over TLS). @default true */
  readonly tls?: boolean;
}

export class ExistingKafkaIngest extends Construct implements Ingest {
  readonly kind = 'kafka' as const;
  readonly lagUnit = 'records' as const;
  /** Lambda's Kafka mappings invoke one batch of a partition at a time. */
  readonly batchesInOrder = true;
  readonly endpoint: string;
  readonly topic: string;
  readonly producerEnvironment: Readonly<Record<string, string>>;
  readonly producerNetwork?: ProducerNetwork;
  readonly secret?: ISecret;
  readonly consumerGroupId: string;
  private readonly props: ExistingKafkaIngestProps;
  private readonly securityGroup?: ISecurityGroup;

  constructor(scope: Construct, id: string, props: ExistingKafkaIngestProps) {
    super(scope, id);
    if (props.bootstrapServers.length === 0) {
      throw new Error('the kafka ingest needs bootstrapServers: pass -c kafkaBootstrapServers=host1:9092,host2:9092 (or the kafka.bootstrapServers prop)');
    }
    const bad = props.bootstrapServers.find((s) => !HOST_PORT.test(s));
    if (bad !== undefined) throw new Error(`bootstrapServers must be host:port pairs, got "${bad}"`);
    if (!props.network && !props.authSecretArn) {
      throw new Error('a Kafka cluster reached over the Internet needs authSecretArn (SASL/SCRAM): pass -c kafkaAuthSecretArn=… or a network (-c kafkaVpcId, kafkaSubnetIds, kafkaSecurityGroupId)');
    }
    // Lambda's Kafka pollers do SASL/SCRAM only over TLS.
    if (props.authSecretArn && props.tls === false) {
      throw new Error('Lambda supports SASL/SCRAM (authSecretArn) only over TLS: remove tls: false (-c kafkaTls=false), or drop authSecretArn for brokers reached inside a VPC');
    }
    if (props.network && (props.network.subnetIds.length === 0 || !props.network.securityGroupId)) {
      throw new Error('network needs at least one subnet id and a security group id');
    }
    this.props = props;
    this.topic = props.topic ?? EVENTS_TOPIC;
    this.consumerGroupId = consumerGroupId(this, props.consumerGroupId);
    this.endpoint = props.bootstrapServers.join(',');
    if (props.authSecretArn) this.secret = Secret.fromSecretCompleteArn(this, 'AuthSecret', props.authSecretArn);
    if (props.network) {
      const { vpcId, subnetIds, securityGroupId } = props.network;
      this.securityGroup = SecurityGroup.fromSecurityGroupId(this, 'BrokerClients', securityGroupId, { mutable: false });
      const subnets = subnetIds.map((s, i) => Subnet.fromSubnetId(this, `Subnet${i}`, s));
      const vpc = Vpc.fromVpcAttributes(this, 'Vpc', { vpcId, availabilityZones: subnets.map((_, i) => `az-${i}`), privateSubnetIds: [...subnetIds] });
      this.producerNetwork = { vpc, vpcSubnets: { subnets }, securityGroups: [this.securityGroup] };
      // Route tables matter only to constructs that add routes; none here does.
      Annotations.of(this).acknowledgeWarning('@aws-cdk/aws-ec2:noSubnetRouteTableId', 'Imported subnets are only placed into, never routed.');
    }
    this.producerEnvironment = {
      CLICKSTREAM_INGEST: 'kafka',
      CLICKSTREAM_TOPIC: this.topic,
      CLICKSTREAM_BOOTSTRAP_SERVERS: this.endpoint,
      CLICKSTREAM_KAFKA_AUTH: props.authSecretArn ? 'scram-sha-512' : 'none',
      CLICKSTREAM_KAFKA_TLS: String(props.tls ?? true),
      ...(props.authSecretArn && { CLICKSTREAM_KAFKA_SECRET_ARN: props.authSecretArn }),
    };
  }

  attachConsumer(consumer: IFunction, settings: ConsumerSourceSettings): EventSourceMapping {
    const access: SourceAccessConfiguration[] = [];
    if (this.secret) {
      this.secret.grantRead(consumer);
      access.push({ type: SourceAccessConfigurationType.SASL_SCRAM_512_AUTH, uri: this.secret.secretArn });
    }
    if (this.props.network && this.securityGroup) {
      grantVpcPoller(consumer);
      access.push({ type: SourceAccessConfigurationType.VPC_SECURITY_GROUP, uri: this.securityGroup.securityGroupId });
      for (const subnet of this.props.network.subnetIds) access.push({ type: SourceAccessConfigurationType.VPC_SUBNET, uri: subnet });
    }
    return kafkaConsumerMapping(this, consumer, settings, { topic: this.topic, consumerGroupId: this.consumerGroupId, bootstrapServers: this.props.bootstrapServers, sourceAccessConfigurations: access });
  }

  grantProduce(producer: IFunction): void {
    this.secret?.grantRead(producer);
  }

  consumerLagMetric(consumer: IFunction): Metric {
    return kafkaOffsetLagMetric(consumer);
  }
}
