/**
 * cdk-nag acknowledgements shared by several constructs, each with its reason.
 * IAM5 findings name each wildcard resource exactly, so grants on "every
 * object under one prefix of a bucket this stack owns" are acknowledged by
 * that exact resource, never by rule alone.
 */
import { Stack, Validations, type CfnElement } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IBucket } from 'aws-cdk-lib/aws-s3';
import type { IConstruct } from 'constructs';

export function acknowledge(scope: IConstruct, id: string, reason: string): void {
  Validations.of(scope).acknowledge({ id, reason });
}

/** Acknowledges `<bucket>/<prefix>*` grants in the function's default policy. */
export function acknowledgeObjectGrants(fn: IFunction, bucket: IBucket, prefixes: readonly string[], reason: string): void {
  const policy = fn.role?.node.tryFindChild('DefaultPolicy');
  if (!policy) return;
  const logicalId = Stack.of(bucket).getLogicalId(bucket.node.defaultChild as CfnElement);
  for (const prefix of prefixes) acknowledge(policy, `AwsSolutions-IAM5[Resource::<${logicalId}.Arn>/${prefix}*]`, reason);
}
