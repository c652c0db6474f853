/**
 * The collector in the cloud: a Lambda that answers shops' trackers and writes their
 * events to the stack's stream, behind the dashboard's CloudFront distribution at
 * /collect/* (see docs/collector.md for pointing trackers at it).
 *
 * Its function URL takes no IAM auth, unlike the query API's: CloudFront's origin access
 * control signs a POST only when the browser sends the body's SHA-256 in a header, which
 * no tracker does. A collector is public by nature; the code trusts nothing it receives,
 * and reserved concurrency can cap what a flood costs.
 */
import { Duration } from 'aws-cdk-lib';
import { FunctionUrlAuthType, type FunctionUrl } from 'aws-cdk-lib/aws-lambda';
import { Construct } from 'constructs';
import { ClickstreamFunction, reservedExecutions } from './clickstream-function.ts';
import type { Ingest } from './ingest/ingest.ts';

export interface CollectorProps {
  readonly ingest: Ingest;
  /**
   * Concurrent requests at most (the excess gets 429s from Lambda, which trackers retry).
   * @default - none reserved: the function shares the account's unreserved concurrency
   */
  readonly reservedConcurrency?: number;
}

export class Collector extends Construct {
  readonly handler: ClickstreamFunction;
  readonly url: FunctionUrl;

  constructor(scope: Construct, id: string, props: CollectorProps) {
    super(scope, id);
    const concurrency = reservedExecutions(props.reservedConcurrency);
    const network = props.ingest.producerNetwork;
    this.handler = new ClickstreamFunction(this, 'Handler', {
      handler: 'collector',
      description: "Collector: shops' trackers (Segment, Snowplow, own JSON) to the event stream",
      memorySizeMb: 512,
      // A request waits for the stream's acknowledgement, a few hundred ms; Kinesis retries back off for up to about 6 s.
      timeout: Duration.seconds(15),
      environment: props.ingest.producerEnvironment,
      ...concurrency,
      ...(network && { vpc: network.vpc, vpcSubnets: network.vpcSubnets, securityGroups: network.securityGroups }),
    });
    props.ingest.grantProduce(this.handler.function);
    this.url = this.handler.function.addFunctionUrl({ authType: FunctionUrlAuthType.NONE });
  }
}
