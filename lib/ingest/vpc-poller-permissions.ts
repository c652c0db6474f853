/**
 * What a Kafka event source mapping inside a VPC needs from the consumer's role:
 * Lambda's pollers create and describe network interfaces in the cluster's
 * subnets. These EC2 actions do not support resource-level scoping for the
 * Describe calls, so this is the one documented place where Resource is "*".
 */
import { Validations } from 'aws-cdk-lib';
import { PolicyStatement } from 'aws-cdk-lib/aws-iam';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';

export const VPC_POLLER_ACTIONS = [
  'ec2:CreateNetworkInterface',
  'ec2:DescribeNetworkInterfaces',
  'ec2:DescribeVpcs',
  'ec2:DeleteNetworkInterface',
  'ec2:DescribeSubnets',
  'ec2:DescribeSecurityGroups',
] as const;

export function grantVpcPoller(consumer: IFunction): void {
  consumer.addToRolePolicy(new PolicyStatement({ actions: [...VPC_POLLER_ACTIONS], resources: ['*'] }));
  const policy = consumer.role?.node.tryFindChild('DefaultPolicy');
  if (policy) {
    Validations.of(policy).acknowledge({
      id: 'AwsSolutions-IAM5[Resource::*]',
      reason: 'Kafka event source mappings in a VPC need ec2 network-interface actions; the Describe calls accept only Resource "*" (as in AWSLambdaMSKExecutionRole).',
    });
  }
}
