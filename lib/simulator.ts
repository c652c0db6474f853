/**
 * The scheduled simulator: every minute, the previous minute's shopper events
 * go to the ingest (lambdas/simulator/handler.ts). On by default; `enabled: false`
 * (or `-c simulator=off`) leaves it out of the stack entirely.
 */
import { Duration } from 'aws-cdk-lib';
import { Rule, Schedule } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import { Construct } from 'constructs';
import { MAX_EVENTS_PER_MINUTE } from '../lambdas/simulator/scheduled-config.ts';
import { ClickstreamFunction } from './clickstream-function.ts';
import type { Ingest } from './ingest/ingest.ts';

export interface SimulatorProps {
  readonly ingest: Ingest;
  /** Events produced each minute, 1-600,000. @default 600 (10 per second) */
  readonly eventsPerMinute?: number;
}

export class Simulator extends Construct {
  readonly handler: ClickstreamFunction;
  readonly schedule: Rule;

  constructor(scope: Construct, id: string, props: SimulatorProps) {
    super(scope, id);
    const perMinute = props.eventsPerMinute ?? 600;
    if (!Number.isInteger(perMinute) || perMinute < 1 || perMinute > MAX_EVENTS_PER_MINUTE) {
      throw new Error(`eventsPerMinute must be a whole number from 1 to ${MAX_EVENTS_PER_MINUTE}, got ${perMinute}`);
    }
    const network = props.ingest.producerNetwork;
    this.handler = new ClickstreamFunction(this, 'Handler', {
      handler: 'simulator',
      description: 'Simulated shoppers: one minute of events per invocation',
      memorySizeMb: 512,
      // Under a minute, so two runs never overlap.
      timeout: Duration.seconds(55),
      environment: { ...props.ingest.producerEnvironment, CLICKSTREAM_EVENTS_PER_MINUTE: String(perMinute) },
      ...(network && { vpc: network.vpc, vpcSubnets: network.vpcSubnets, securityGroups: network.securityGroups }),
    });
    props.ingest.grantProduce(this.handler.function);
    // A minute that failed is skipped rather than re-run late: EventBridge does not retry
    // delivering it, and Lambda's own asynchronous retries (2 by default, up to 6 h later) are off.
    const noLateRuns = { retryAttempts: 0, maxEventAge: Duration.minutes(1) };
    this.handler.function.configureAsyncInvoke(noLateRuns);
    this.schedule = new Rule(this, 'EveryMinute', {
      description: 'Runs the clickstream simulator',
      schedule: Schedule.rate(Duration.minutes(1)),
      targets: [new LambdaFunction(this.handler.function, noLateRuns)],
    });
  }
}
