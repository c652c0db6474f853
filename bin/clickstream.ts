/**
 * The CDK app: `npx cdk synth` / `npx cdk deploy`, the ingest chosen with
 * `-c ingest=msk-serverless|kafka|kinesis` (see docs/cloud.md). Synthesizes
 * offline, with no AWS credentials, and fails on any unacknowledged cdk-nag
 * AwsSolutions finding.
 */
import { App, Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import { stackPropsFromContext } from '../lib/app-context.ts';
import { ClickstreamStack } from '../lib/clickstream-stack.ts';

const app = new App();
new ClickstreamStack(app, 'Clickstream', {
  description: 'Real-time e-commerce clickstream pipeline: stream -> Lambda -> partitioned Parquet in S3 -> Athena dashboard',
  ...stackPropsFromContext((key) => app.node.tryGetContext(key)),
});
Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
