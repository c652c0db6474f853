/**
 * Alarms a person running the pipeline wants: the consumer falling behind,
 * any function failing, too many records quarantined, and an hour the compactor
 * left raw (answered exactly, but every query over it pays the raw files' cost).
 * The quarantine rate
 * comes from metric filters on the consumer's per-batch log line (no extra
 * PutMetricData calls). Lambda's JSON log format nests that line under `message`,
 * so the filters read `$.message.message`, `$.message.records` and
 * `$.message.quarantined` (lambdas/consumer/batch-log.ts owns the shape and the paths).
 */
import { Duration } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, MathExpression, TreatMissingData, type IAlarmAction } from 'aws-cdk-lib/aws-cloudwatch';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { FilterPattern, MetricFilter, type ILogGroup } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_JSON_MESSAGE_PATH } from '../lambdas/common/lambda-log.ts';
import { COMPACTION_RUN_PATHS, COMPACTION_RUN_MESSAGE, HOUR_NOT_COMPACTED_MESSAGE } from '../lambdas/compactor/compaction-log.ts';
import { BATCH_LOG_PATHS, BATCH_WRITTEN_MESSAGE } from '../lambdas/consumer/batch-log.ts';
import type { Ingest } from './ingest/ingest.ts';

export const METRIC_NAMESPACE = 'Clickstream';

export interface OperationsProps {
  readonly ingest: Ingest;
  readonly consumer: IFunction;
  readonly consumerLogs: ILogGroup;
  readonly compactorLogs: ILogGroup;
  /** Functions whose errors raise an alarm (the consumer is always included). */
  readonly functions: readonly IFunction[];
  /** Kafka: records behind; Kinesis: age of the oldest unread record, ms. @default 100_000 records / 300_000 ms */
  readonly lagThreshold?: number;
  /** Share of records quarantined over 5 minutes that raises the alarm, 0-1. @default 0.05 */
  readonly quarantineRateThreshold?: number;
  /** Where alarms notify (e.g. an SNS topic action). @default - no action: alarms show in the console */
  readonly alarmAction?: IAlarmAction;
}

export class Operations extends Construct {
  readonly alarms: Alarm[] = [];
  private readonly alarmAction?: IAlarmAction;

  constructor(scope: Construct, id: string, props: OperationsProps) {
    super(scope, id);
    this.alarmAction = props.alarmAction;
    const rate = props.quarantineRateThreshold ?? 0.05;
    if (!(rate > 0 && rate <= 1)) throw new Error(`quarantineRateThreshold must be a share above 0 and at most 1, got ${rate}`);
    const lagThreshold = props.lagThreshold ?? (props.ingest.lagUnit === 'records' ? 100_000 : 300_000);

    this.add(
      new Alarm(this, 'ConsumerLag', {
        alarmDescription: `The consumer is behind the stream by more than ${lagThreshold} ${props.ingest.lagUnit} for 5 minutes`,
        metric: props.ingest.consumerLagMetric(props.consumer),
        threshold: lagThreshold,
        evaluationPeriods: 5,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    props.functions.forEach((fn, i) =>
      this.add(
        new Alarm(this, `Errors${i}`, {
          alarmDescription: `Function ${fn.node.path} failed (an error or a timeout) in the last 5 minutes`,
          metric: fn.metricErrors({ period: Duration.minutes(5), statistic: 'Sum' }),
          threshold: 1,
          evaluationPeriods: 1,
          comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
          treatMissingData: TreatMissingData.NOT_BREACHING,
        }),
      ),
    );

    const pattern = FilterPattern.stringValue(BATCH_LOG_PATHS.message, '=', BATCH_WRITTEN_MESSAGE);
    const counted = (name: string, valuePath: string) =>
      new MetricFilter(this, `${name}Filter`, { logGroup: props.consumerLogs, filterPattern: pattern, metricNamespace: METRIC_NAMESPACE, metricName: name, metricValue: valuePath, defaultValue: 0 }).metric({
        statistic: 'Sum',
        period: Duration.minutes(5),
      });
    const quarantined = counted('QuarantinedRecords', BATCH_LOG_PATHS.quarantined);
    const records = counted('ConsumedRecords', BATCH_LOG_PATHS.records);
    this.add(
      new Alarm(this, 'QuarantineRate', {
        alarmDescription: `More than ${rate * 100}% of consumed records were quarantined over 5 minutes: look at the dashboard's quarantine panel for the reason`,
        metric: new MathExpression({ expression: 'IF(records > 0, quarantined / records, 0)', usingMetrics: { quarantined, records }, period: Duration.minutes(5), label: 'Quarantined share' }),
        threshold: rate,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );

    const notCompacted = new MetricFilter(this, 'HoursNotCompactedFilter', {
      logGroup: props.compactorLogs,
      filterPattern: FilterPattern.stringValue(LAMBDA_JSON_MESSAGE_PATH, '=', HOUR_NOT_COMPACTED_MESSAGE),
      metricNamespace: METRIC_NAMESPACE,
      metricName: 'HoursNotCompacted',
      metricValue: '1',
      defaultValue: 0,
    }).metric({ statistic: 'Sum', period: Duration.hours(1) });
    this.add(
      new Alarm(this, 'HoursNotCompacted', {
        alarmDescription:
          "The compactor left an hour raw in the last hour (its log line 'hour not compacted' says why): queries over it stay exact but read its raw files, several times the bytes. If the hour is too big, give the compactor more memory (compactor.memorySizeMb; docs/architecture.md, Compaction)",
        metric: notCompacted,
        threshold: 1,
        evaluationPeriods: 1,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
    // Work left after every run for six hours: a backlog (a replay) the compactor has not worked through.
    const backlog = new MetricFilter(this, 'CompactionBacklogFilter', {
      logGroup: props.compactorLogs,
      filterPattern: FilterPattern.stringValue(COMPACTION_RUN_PATHS.message, '=', COMPACTION_RUN_MESSAGE),
      metricNamespace: METRIC_NAMESPACE,
      metricName: 'CompactionBacklog',
      metricValue: COMPACTION_RUN_PATHS.backlog,
    }).metric({ statistic: 'Minimum', period: Duration.hours(1) });
    this.add(
      new Alarm(this, 'CompactionBacklog', {
        alarmDescription:
          "Every compactor run for six hours left work for the next (its 'compaction run' line: hoursLeft, lateFilesLeft): a replay or backlog each run takes a share of. If those numbers fall, it is working through it; if not, look for an hour it cannot finish (docs/architecture.md, A run's share)",
        metric: backlog,
        threshold: 1,
        evaluationPeriods: 6,
        comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
        treatMissingData: TreatMissingData.NOT_BREACHING,
      }),
    );
  }

  private add(alarm: Alarm): void {
    if (this.alarmAction) alarm.addAlarmAction(this.alarmAction);
    this.alarms.push(alarm);
  }
}
