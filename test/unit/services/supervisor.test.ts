import { describe, expect, it } from 'vitest';
import { backoffMs } from '../../../local/common/backoff.ts';
import { takeoverProblem } from '../../../local/consume/consumer-lag.ts';
import { assignedPartitions, commitOffsets } from '../../../local/consume/event-source-runner.ts';
import { formatRestarts } from '../../../local/status/pipeline-status.ts';
import { afterFailure } from '../../../local/services/supervise.ts';
import { appendRestart, restartSummary, type RestartRecord } from '../../../local/services/supervisor.ts';

describe('backoffMs', () => {
  it.each([
    [1, 500],
    [2, 1_000],
    [3, 2_000],
    [7, 30_000],
    [1_000, 30_000],
  ])('attempt %i waits %i ms (0.5 s doubling, never more than 30 s)', (attempt, expected) => {
    expect(backoffMs(attempt, 500, 30_000)).toBe(expected);
  });
});

describe('commitOffsets', () => {
  it('commits, per topic and partition, one past the highest offset of the batch', () => {
    const messages = [
      { topic: 't', partition: 0, offset: 5n },
      { topic: 't', partition: 1, offset: 9n },
      { topic: 't', partition: 0, offset: 7n },
      { topic: 't', partition: 0, offset: 6n },
    ];
    expect(commitOffsets(messages)).toEqual([
      { topic: 't', partition: 0, offset: 8n, leaderEpoch: -1 },
      { topic: 't', partition: 1, offset: 10n, leaderEpoch: -1 },
    ]);
  });
});

describe('restart records', () => {
  const at = (n: number) => `2026-12-03T09:00:0${n}.000Z`;
  const records: RestartRecord[] = [
    { service: 'kafka', at: at(1), previousPid: 10, pid: 11 },
    { service: 'consumer', at: at(2), previousPid: 20, error: 'no Kafka broker answers on 127.0.0.1:19092' },
    { service: 'consumer', at: at(3), previousPid: 20, pid: 21 },
  ];

  it('counts the restarts that succeeded and keeps the latest attempt', () => {
    expect(restartSummary(records, 'consumer')).toEqual({ restarts: 1, lastRestart: records[2] });
    expect(restartSummary(records, 'minio')).toEqual({ restarts: 0 });
  });

  it('keeps only the latest records, so a service that keeps dying cannot grow the file without bound', () => {
    const kept = appendRestart(records, { service: 'minio', at: at(4), previousPid: 30, pid: 31 }, 2);
    expect(kept.map((r) => r.at)).toEqual([at(3), at(4)]);
  });

  it('says when a service was restarted, or why the last try failed', () => {
    const base = { name: 'kafka', running: true, healthy: true, endpoint: '127.0.0.1:19092' };
    expect(formatRestarts(base)).toBe('');
    expect(formatRestarts({ ...base, restarts: 2, lastRestart: records[0]! })).toBe(`  restarted 2 times, last at ${at(1)}`);
    expect(formatRestarts({ ...base, restarts: 0, lastRestart: records[1]! })).toBe(
      `  restarted 0 times; the last try at ${at(2)} failed: no Kafka broker answers on 127.0.0.1:19092`,
    );
  });

  it('pushes the next try after a failed start back, 2 s doubling, at most a minute', () => {
    let owed = { previousPid: 1, failures: 0, nextTryAt: 0 };
    const waits: number[] = [];
    for (let i = 0; i < 8; i++) {
      owed = afterFailure(owed, 1_000);
      waits.push(owed.nextTryAt - 1_000);
    }
    expect(waits).toEqual([2_000, 4_000, 8_000, 16_000, 32_000, 60_000, 60_000, 60_000]);
  });
});

describe('consumer group takeover', () => {
  it('reads the partitions the group gave the runner for its topic', () => {
    expect(assignedPartitions(null, 't')).toBeUndefined();
    expect(assignedPartitions([{ topic: 'other', partitions: [0] }, { topic: 't', partitions: [3, 1, 2] }], 't')).toEqual([1, 2, 3]);
    expect(assignedPartitions([{ topic: 'other', partitions: [0] }], 't')).toEqual([]);
  });

  it('says nothing while the runner holds every partition, or before it has joined', () => {
    expect(takeoverProblem('g', 3, [0, 1, 2], [])).toBeUndefined();
    expect(takeoverProblem('g', 3, undefined, [])).toBeUndefined();
  });

  it('names the other client, how many partitions it holds, and the fix', () => {
    expect(takeoverProblem('clickstream-consumer', 6, [0, 1, 2], [{ clientId: 'intruder', clientHost: '/127.0.0.1' }])).toBe(
      'consumer group clickstream-consumer: intruder from 127.0.0.1 joined it and holds 3 of 6 partitions, whose records skip the lake: stop that client, or give this pipeline its own CLICKSTREAM_CONSUMER_GROUP',
    );
    expect(takeoverProblem('g', 2, [], [])).toMatch(/^consumer group g: another client joined it and holds 2 of 2 partitions/);
  });
});
