/** The CDK app: `npx cdk synth` / `npx cdk deploy`. Synthesizes offline, with no AWS credentials. */
import { App } from 'aws-cdk-lib';
import { ClickstreamStack } from '../lib/clickstream-stack.ts';

const app = new App();
new ClickstreamStack(app, 'Clickstream', {
  description: 'Real-time e-commerce clickstream pipeline: stream -> Lambda -> partitioned Parquet in S3 -> Athena dashboard',
});
