import { App } from 'aws-cdk-lib';
import { Match, Template } from 'aws-cdk-lib/assertions';
import { describe, expect, it } from 'vitest';
import { ClickstreamStack } from '../../lib/clickstream-stack.ts';

describe('ClickstreamStack', () => {
  it('creates a private, encrypted, TLS-only lake bucket that expires quarantine', () => {
    // GIVEN / WHEN
    const template = Template.fromStack(new ClickstreamStack(new App(), 'Test'));
    // THEN
    template.hasResourceProperties('AWS::S3::Bucket', {
      BucketEncryption: { ServerSideEncryptionConfiguration: [{ ServerSideEncryptionByDefault: { SSEAlgorithm: 'AES256' } }] },
      PublicAccessBlockConfiguration: { BlockPublicAcls: true, BlockPublicPolicy: true, IgnorePublicAcls: true, RestrictPublicBuckets: true },
      LifecycleConfiguration: { Rules: Match.arrayWith([Match.objectLike({ Prefix: 'quarantine/', ExpirationInDays: 30, Status: 'Enabled' })]) },
    });
    template.hasResourceProperties('AWS::S3::BucketPolicy', {
      PolicyDocument: {
        Statement: Match.arrayWith([
          Match.objectLike({ Effect: 'Deny', Action: 's3:*', Condition: { Bool: { 'aws:SecureTransport': 'false' } } }),
        ]),
      },
    });
    template.hasOutput('LakeBucket', {});
  });

  it('rejects a quarantine retention that is not a whole number of days', () => {
    expect(() => new ClickstreamStack(new App(), 'Bad', { lake: { quarantineRetentionDays: 0 } })).toThrow(
      /quarantineRetentionDays must be a whole number of days, at least 1, got 0/,
    );
  });
});
