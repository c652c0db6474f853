/**
 * How the deployed stack is wired, read back from LocalStack's own APIs: the
 * consumer's Kinesis event source mapping (retries, record age, on-failure
 * destination, as docs/cloud.md says) and the simulator's schedule.
 */
import { DescribeRuleCommand, ListTargetsByRuleCommand } from '@aws-sdk/client-eventbridge';
import { ListEventSourceMappingsCommand } from '@aws-sdk/client-lambda';
import { describe, expect, it } from 'vitest';
import { events, lambda, physicalId, streamArn } from './aws.ts';

describe('the deployed stack (cloud)', () => {
  it("gives the consumer's Kinesis mapping retries until the records are about to expire, then the failed-batches bucket", async () => {
    // GIVEN the deployed consumer and failed-batches bucket
    const consumer = await physicalId('AWS::Lambda::Function', 'ConsumerHandlerFunction');
    const failedBatches = await physicalId('AWS::S3::Bucket', 'LakeFailedBatches');

    // WHEN Lambda lists the consumer's event source mappings
    const { EventSourceMappings = [] } = await lambda.send(new ListEventSourceMappingsCommand({ FunctionName: consumer }));

    // THEN there is one, on the stream, as docs/cloud.md describes it (24 h retention less one hour)
    expect(EventSourceMappings).toHaveLength(1);
    expect(EventSourceMappings[0]).toMatchObject({
      EventSourceArn: streamArn,
      StartingPosition: 'TRIM_HORIZON',
      BatchSize: 10_000,
      MaximumBatchingWindowInSeconds: 5,
      MaximumRetryAttempts: -1,
      MaximumRecordAgeInSeconds: 23 * 3600,
      DestinationConfig: { OnFailure: { Destination: `arn:aws:s3:::${failedBatches}` } },
    });
    // LocalStack leaves out settings that are off.
    expect(EventSourceMappings[0]!.BisectBatchOnFunctionError ?? false).toBe(false);
    expect(EventSourceMappings[0]!.FunctionResponseTypes ?? []).not.toContain('ReportBatchItemFailures');
  });

  it('runs the simulator every minute from an EventBridge rule', async () => {
    const simulator = await physicalId('AWS::Lambda::Function', 'SimulatorHandlerFunction');
    const rule = await physicalId('AWS::Events::Rule', 'SimulatorEveryMinute');

    const described = await events.send(new DescribeRuleCommand({ Name: rule }));
    const { Targets = [] } = await events.send(new ListTargetsByRuleCommand({ Rule: rule }));

    expect(described.ScheduleExpression).toBe('rate(1 minute)');
    expect(Targets.map((t) => t.Arn?.split(':function:')[1])).toEqual([simulator]);
    expect(Targets[0]!.RetryPolicy?.MaximumRetryAttempts).toBe(0);
  });
});
