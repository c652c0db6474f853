/** The data lake bucket: private, encrypted, TLS-only, versioned for recovery from a bad write. */
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import { BlockPublicAccess, Bucket, BucketEncryption, ObjectOwnership } from 'aws-cdk-lib/aws-s3';
import { Construct } from 'constructs';

export interface LakeProps {
  /** Days before quarantined records expire. @default 30 */
  readonly quarantineRetentionDays?: number;
  /** Keep the bucket and its data when the stack is deleted. @default true */
  readonly retainData?: boolean;
}

export class Lake extends Construct {
  readonly bucket: Bucket;

  constructor(scope: Construct, id: string, props: LakeProps = {}) {
    super(scope, id);
    const quarantineDays = props.quarantineRetentionDays ?? 30;
    if (!Number.isInteger(quarantineDays) || quarantineDays < 1) {
      throw new Error(`quarantineRetentionDays must be a whole number of days, at least 1, got ${quarantineDays}`);
    }
    const retain = props.retainData ?? true;
    this.bucket = new Bucket(this, 'Bucket', {
      encryption: BucketEncryption.S3_MANAGED,
      enforceSSL: true,
      blockPublicAccess: BlockPublicAccess.BLOCK_ALL,
      objectOwnership: ObjectOwnership.BUCKET_OWNER_ENFORCED,
      versioned: true,
      removalPolicy: retain ? RemovalPolicy.RETAIN : RemovalPolicy.DESTROY,
      autoDeleteObjects: !retain,
      lifecycleRules: [
        { id: 'expire-quarantine', prefix: 'quarantine/', expiration: Duration.days(quarantineDays) },
        // Overwrites from retried batches leave noncurrent versions; they are only needed briefly.
        { id: 'expire-noncurrent', noncurrentVersionExpiration: Duration.days(7) },
      ],
    });
  }
}
