import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import type { SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import { produce } from '../../local/produce/produce.ts';
import { consumerProcess, readConsumerStatus } from '../../local/consume/consumer-service.ts';
import { bootstrapServers } from '../../local/services/kafka.ts';
import { startMinio, stopMinio } from '../../local/services/minio.ts';
import { isRunning, runningPid } from '../../local/services/process.ts';
import { readRestarts } from '../../local/services/supervisor.ts';
import { openLake, waitForConsumer } from './helpers.ts';

const config = inject('config');

function produceInBackground(seed: number, count: number): { done: Promise<unknown>; acknowledged: SimulatedRecord[] } {
  const acknowledged: SimulatedRecord[] = [];
  const done = produce({ bootstrapServers: [bootstrapServers(config)], topic: config.topic, rate: 'max', count, seed, onAcknowledged: (b) => acknowledged.push(...b) });
  return { done, acknowledged };
}

/** Every acknowledged event is in the lake exactly once. */
async function expectExactlyOnce(acknowledged: readonly SimulatedRecord[]): Promise<void> {
  const ids = acknowledged.map((r) => `'${r.event!.event_id}'`);
  const lake = await openLake(config);
  try {
    const rows = await lake.query(`SELECT event_id, count(*)::INTEGER AS n FROM events WHERE event_id IN (${ids.join(',')}) GROUP BY event_id`);
    expect(rows.length).toBe(acknowledged.length);
    expect(rows.filter((r) => r.n !== 1)).toEqual([]);
  } finally {
    lake.close();
  }
}

describe('consumer faults', () => {
  it('loses nothing and duplicates nothing when the runner is killed with SIGKILL mid-stream: the supervisor restarts it', async () => {
    const { done, acknowledged } = produceInBackground(101, 60_000);
    // Kill once the runner has written part of the stream.
    const before = readConsumerStatus(config)?.records ?? 0;
    while ((readConsumerStatus(config)?.records ?? 0) < before + 5_000) await sleep(100);
    const pid = runningPid(consumerProcess(config))!;
    process.kill(pid, 'SIGKILL');
    while (isRunning(pid)) await sleep(50);
    const killedAt = Date.now();

    await done;
    // No further command: the supervisor notices the death and starts a new runner.
    const restartOf = () => readRestarts(config).find((r) => r.service === 'consumer' && r.previousPid === pid && r.pid !== undefined);
    while (!restartOf() && Date.now() - killedAt < 60_000) await sleep(200);
    const restarted = restartOf();
    expect(restarted, 'the supervisor did not restart the consumer within 60 s').toBeDefined();
    expect(restarted?.pid).toBe(runningPid(consumerProcess(config)));
    await waitForConsumer(config, 180_000);
    console.log(`[consumer faults] runner killed: restarted by the supervisor after ${((Date.parse(restarted!.at) - killedAt) / 1000).toFixed(1)}s`);
    expect(acknowledged).toHaveLength(60_000);
    await expectExactlyOnce(acknowledged);
  });

  it('retries while storage is down and lands everything once it is back', async () => {
    await waitForConsumer(config);
    const failedBefore = readConsumerStatus(config)!.failedAttempts;
    expect(await stopMinio(config)).toBe(true);
    try {
      const { done, acknowledged } = produceInBackground(202, 20_000);
      await done;
      while (readConsumerStatus(config)!.failedAttempts < failedBefore + 2) await sleep(200);
      expect(await startMinio(config, () => undefined)).toBe(true);
      await waitForConsumer(config, 180_000);
      await expectExactlyOnce(acknowledged);
      expect(readConsumerStatus(config)!.sentToOnFailure).toBe(0);
    } finally {
      await startMinio(config, () => undefined);
    }
  });
});
