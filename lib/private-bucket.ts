/** The house S3 bucket: private, encrypted, TLS-only, owner-enforced, logging to the access-log bucket. */
import { RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership, type BucketProps, type IBucket } from 'aws-cdk-lib/aws-s3';
import type { Construct } from 'constructs';

export interface PrivateBucketProps extends Pick<BucketProps, 'lifecycleRules' | 'versioned'> {
  /** Where S3 server access logs go, under a prefix named after the bucket's construct id. @default - no access logs (only for the log bucket itself) */
  readonly accessLogs?: IBucket;
  /** Keep the bucket and its objects when the stack is deleted. @default false */
  readonly retain?: boolean;
}

export function privateBucket(scope: Construct, id: string, props: PrivateBucketProps = {}): Bucket {
  return new Bucket(scope, id, {
    encryption: BucketEncryption.S3_MANAGED,
    enforceSSL: true,
    blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
    objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
    removalPolicy: props.retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
    autoDeleteObjects: !props.retain,
    ...(props.versioned !== undefined && { versioned: props.versioned }),
    ...(props.lifecycleRules && { lifecycleRules: props.lifecycleRules }),
    ...(props.accessLogs && { serverAccessLogsBucket: props.accessLogs, serverAccessLogsPrefix: `${id}/` }),
  });
}
