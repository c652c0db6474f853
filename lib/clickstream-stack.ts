/**
 * The cloud pipeline, one construct per concern. This is the foundation: the
 * lake. Ingest, consumer, catalog/query, dashboard site, simulator and alarms
 * are added as their constructs land (see docs/architecture.md).
 */
import { CfnOutput, Stack, type StackProps } from 'aws-cdk-lib';
import type { Construct } from 'constructs';
import { Lake, type LakeProps } from './lake.ts';

export interface ClickstreamStackProps extends StackProps {
  /** @default - the Lake defaults */
  readonly lake?: LakeProps;
}

export class ClickstreamStack extends Stack {
  readonly lake: Lake;

  constructor(scope: Construct, id: string, props: ClickstreamStackProps = {}) {
    super(scope, id, props);
    this.lake = new Lake(this, 'Lake', props.lake);
    new CfnOutput(this, 'LakeBucket', { value: this.lake.bucket.bucketName, description: 'S3 bucket holding the Parquet lake' });
  }
}
