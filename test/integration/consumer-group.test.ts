/**
 * Consumer-group protection on the local broker: a client that joins the
 * pipeline's group takes partitions from the runner, and their records would
 * skip the lake. `status` detects it from the runner's own assignment and names
 * the client; once the client leaves, the runner holds every partition again.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer } from '@platformatic/kafka';
import { describe, expect, inject, it } from 'vitest';
import { PipelineStatusReader } from '../../local/status/pipeline-status.ts';
import { readConsumerStatus } from '../../local/consume/consumer-service.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { localS3Client } from '../../local/services/minio.ts';

const config = inject('config');

async function until(check: () => Promise<boolean> | boolean, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(500);
  }
}

describe('consumer group takeover', () => {
  it('is reported by status, naming the client, and clears once the client leaves', async () => {
    const s3 = localS3Client(config);
    const reader = new PipelineStatusReader(config, s3);
    const takeover = async () => (await reader.read()).problems.find((p) => p.startsWith(`consumer group ${config.consumerGroup}:`));
    expect(await takeover()).toBeUndefined();

    // Joins the group and is assigned partitions, but never fetches or commits: the test takes nothing from the lake.
    const intruder = new Consumer({ clientId: 'intruder', groupId: config.consumerGroup, bootstrapBrokers: [bootstrapServers(config)], sessionTimeout: 10_000, heartbeatInterval: 1_000 });
    try {
      await intruder.consume({ topics: [config.topic], autocommit: false, mode: 'committed', fallbackMode: 'latest' });
      let problem: string | undefined;
      await until(async () => (problem = await takeover()) !== undefined, 30_000, 'status to report the other client');
      expect(problem).toMatch(new RegExp(`^consumer group ${config.consumerGroup}: intruder from 127\\.0\\.0\\.1 joined it and holds \\d of ${config.partitions} partitions, whose records skip the lake: stop that client, or give this pipeline its own CLICKSTREAM_CONSUMER_GROUP$`));
    } finally {
      // Forced: it leaves the group at once. close() without a callback returns a promise, though its first overload is typed void.
      await new Promise<void>((resolve) => intruder.close(true, () => resolve()));
    }
    await until(() => readConsumerStatus(config)?.assignedPartitions?.length === config.partitions, 30_000, 'the runner to hold every partition again');
    expect(await takeover()).toBeUndefined();
    s3.destroy();
  }, 120_000);
});
