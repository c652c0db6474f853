/**
 * Amazon MSK Serverless with IAM authentication: the default ingest. The
 * cluster lives in a VPC of its own with no NAT gateway; the consumer's
 * event source mapping reaches Lambda, STS and S3 through VPC endpoints, and
 * the simulator runs in the same subnets. MSK Serverless does not create
 * topics on first write, so the simulator creates the topic when it is missing.
 */
import { Annotations, Aws, Fn, Stack, Validations } from 'aws-cdk-lib';
import type { Metric } from 'aws-cdk-lib/aws-cloudwatch';
import { GatewayVpcEndpointAwsService, InterfaceVpcEndpointAwsService, Port, SecurityGroup, SubnetType, Vpc } from 'aws-cdk-lib/aws-ec2';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { EventSourceMapping, IFunction } from 'aws-cdk-lib/aws-lambda';
import { CfnServerlessCluster } from 'aws-cdk-lib/aws-msk';
import { AwsCustomResource, AwsCustomResourcePolicy, PhysicalResourceId } from 'aws-cdk-lib/custom-resources';
import { Construct } from 'constructs';
import { EVENTS_TOPIC } from '../../lambdas/common/pipeline-names.ts';
import type { ConsumerSourceSettings, Ingest, ProducerNetwork } from './ingest.ts';
import { consumerGroupId, kafkaConsumerMapping, kafkaOffsetLagMetric } from './kafka-mapping.ts';
import { grantVpcPoller } from './vpc-poller-permissions.ts';

/** MSK's port for SASL/IAM over TLS. */
const IAM_PORT = 9098;

export interface MskServerlessIngestProps {
  /** @default EVENTS_TOPIC ('clickstream.events') */
  readonly topic?: string;
  /** Partitions of the topic the simulator creates when it is missing. @default 6 */
  readonly partitions?: number;
  /** The consumer's Kafka group. @default `<stack name>-consumer` */
  readonly consumerGroupId?: string;
}

export class MskServerlessIngest extends Construct implements Ingest {
  readonly kind = 'msk-serverless' as const;
  readonly lagUnit = 'records' as const;
  /** Lambda's Kafka mappings invoke one batch of a partition at a time. */
  readonly batchesInOrder = true;
  readonly vpc: Vpc;
  readonly cluster: CfnServerlessCluster;
  readonly clientSecurityGroup: SecurityGroup;
  readonly endpoint: string;
  readonly topic: string;
  readonly producerEnvironment: Readonly<Record<string, string>>;
  readonly producerNetwork: ProducerNetwork;
  readonly consumerGroupId: string;

  constructor(scope: Construct, id: string, props: MskServerlessIngestProps = {}) {
    super(scope, id);
    this.topic = props.topic ?? EVENTS_TOPIC;
    this.consumerGroupId = consumerGroupId(this, props.consumerGroupId);
    const partitions = props.partitions ?? 6;
    if (!Number.isInteger(partitions) || partitions < 1) throw new Error(`partitions must be a whole number, at least 1, got ${partitions}`);

    // MSK Serverless needs subnets in two Availability Zones; no NAT: endpoints are cheaper and private.
    this.vpc = new Vpc(this, 'Vpc', { maxAzs: 2, natGateways: 0, subnetConfiguration: [{ name: 'kafka', subnetType: SubnetType.PRIVATE_ISOLATED, cidrMask: 24 }] });
    Validations.of(this.vpc).acknowledge({ id: 'AwsSolutions-VPC7', reason: 'No flow logs: the VPC holds only the Kafka cluster and its clients, all traffic is IAM-authenticated TLS; add flow logs if your policy requires them.' });
    // One group for the cluster and every client: the mapping's pollers use the cluster's group.
    this.clientSecurityGroup = new SecurityGroup(this, 'KafkaClients', { vpc: this.vpc, description: 'MSK Serverless cluster and its clients (Lambda pollers, simulator)' });
    this.clientSecurityGroup.connections.allowInternally(Port.tcp(IAM_PORT), 'Kafka over IAM/TLS between clients and the cluster');
    this.clientSecurityGroup.connections.allowInternally(Port.tcp(443), 'VPC endpoints for the event source mapping');
    Annotations.of(this.clientSecurityGroup).acknowledgeWarning('@aws-cdk/aws-ec2:ipv4IgnoreEgressRule', 'The group allows all outbound traffic already; the internal rules are for inbound.');
    this.vpc.addGatewayEndpoint('S3', { service: GatewayVpcEndpointAwsService.S3 });
    for (const [name, service] of [['Lambda', InterfaceVpcEndpointAwsService.LAMBDA], ['Sts', InterfaceVpcEndpointAwsService.STS]] as const) {
      this.vpc.addInterfaceEndpoint(name, { service, securityGroups: [this.clientSecurityGroup], open: false });
    }

    this.cluster = new CfnServerlessCluster(this, 'Cluster', {
      clusterName: `${Stack.of(this).stackName}-events`.slice(0, 64),
      clientAuthentication: { sasl: { iam: { enabled: true } } },
      vpcConfigs: [{ subnetIds: this.vpc.isolatedSubnets.map((s) => s.subnetId), securityGroups: [this.clientSecurityGroup.securityGroupId] }],
    });

    // CloudFormation has no attribute for the bootstrap string; ask MSK once at deploy time.
    const brokers = new AwsCustomResource(this, 'BootstrapBrokers', {
      onUpdate: {
        service: 'Kafka',
        action: 'getBootstrapBrokers',
        parameters: { ClusterArn: this.cluster.attrArn },
        physicalResourceId: PhysicalResourceId.of(this.cluster.attrArn),
        outputPaths: ['BootstrapBrokerStringSaslIam'],
      },
      policy: AwsCustomResourcePolicy.fromStatements([new PolicyStatement({ actions: ['kafka:GetBootstrapBrokers'], resources: [this.cluster.attrArn] })]),
      installLatestAwsSdk: false,
    });
    this.endpoint = brokers.getResponseField('BootstrapBrokerStringSaslIam');
    const provider = Stack.of(this).node.tryFindChild(AwsCustomResource.PROVIDER_FUNCTION_UUID.replace(/-/g, '').replace(/^/, 'AWS'));
    if (provider) {
      Validations.of(provider).acknowledge({
        id: 'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        reason: "CDK's AwsCustomResource provider writes only its own logs; its one call is scoped to this cluster's ARN.",
      });
    }
    this.producerEnvironment = {
      CLICKSTREAM_INGEST: 'kafka',
      CLICKSTREAM_TOPIC: this.topic,
      CLICKSTREAM_BOOTSTRAP_SERVERS: this.endpoint,
      CLICKSTREAM_KAFKA_AUTH: 'iam',
      CLICKSTREAM_KAFKA_TLS: 'true',
      CLICKSTREAM_CREATE_TOPIC_PARTITIONS: String(partitions),
    };
    this.producerNetwork = { vpc: this.vpc, vpcSubnets: { subnetType: SubnetType.PRIVATE_ISOLATED }, securityGroups: [this.clientSecurityGroup] };
  }

  /** arn:…:cluster/<name>/<uuid> → arn:…:<kind>/<name>/<uuid>/<resource>, the form kafka-cluster actions are scoped to. */
  private dataPlaneArn(kind: 'topic' | 'group', resource: string): string {
    const parts = Fn.split('/', this.cluster.attrArn);
    return `arn:${Aws.PARTITION}:kafka:${Aws.REGION}:${Aws.ACCOUNT_ID}:${kind}/${Fn.select(1, parts)}/${Fn.select(2, parts)}/${resource}`;
  }

  attachConsumer(consumer: IFunction, settings: ConsumerSourceSettings): EventSourceMapping {
    consumer.addToRolePolicy(new PolicyStatement({ actions: ['kafka:DescribeClusterV2', 'kafka:GetBootstrapBrokers'], resources: [this.cluster.attrArn] }));
    consumer.addToRolePolicy(new PolicyStatement({ actions: ['kafka-cluster:Connect', 'kafka-cluster:DescribeClusterDynamicConfiguration'], resources: [this.cluster.attrArn] }));
    consumer.addToRolePolicy(new PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:ReadData'], resources: [this.dataPlaneArn('topic', this.topic)] }));
    consumer.addToRolePolicy(new PolicyStatement({ actions: ['kafka-cluster:DescribeGroup', 'kafka-cluster:AlterGroup'], resources: [this.dataPlaneArn('group', this.consumerGroupId)] }));
    grantVpcPoller(consumer);
    return kafkaConsumerMapping(this, consumer, settings, { topic: this.topic, consumerGroupId: this.consumerGroupId, clusterArn: this.cluster.attrArn });
  }

  grantProduce(producer: IFunction): void {
    producer.addToRolePolicy(new PolicyStatement({ actions: ['kafka-cluster:Connect', 'kafka-cluster:WriteDataIdempotently'], resources: [this.cluster.attrArn] }));
    producer.addToRolePolicy(
      new PolicyStatement({ actions: ['kafka-cluster:DescribeTopic', 'kafka-cluster:CreateTopic', 'kafka-cluster:WriteData'], resources: [this.dataPlaneArn('topic', this.topic)] }),
    );
  }

  consumerLagMetric(consumer: IFunction): Metric {
    return kafkaOffsetLagMetric(consumer);
  }
}
