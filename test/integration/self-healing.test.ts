/**
 * Services that heal themselves, on the shared pipeline that `up` started (with
 * its supervisor): a broker or store killed mid-stream comes back with no
 * further command, the consumer rides the outage out, and the lake ends equal
 * to the topic, exactly once; a 30 s broker outage during produce loses no
 * event at the source. The topic is read back by Kafka's own Java client.
 */
import { randomUUID } from 'node:crypto';
import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, inject, it } from 'vitest';
import type { SimulatedRecord } from '../../lambdas/simulator/simulator.ts';
import { pipelineLag, type PartitionLag } from '../../local/consume/consumer-lag.ts';
import { formatRestarts } from '../../local/status/pipeline-status.ts';
import { produce } from '../../local/produce/produce.ts';
import { consumerProcess, readConsumerStatus } from '../../local/consume/consumer-service.ts';
import { bootstrapServers, kafkaProcess, startKafka, stopKafka } from '../../local/services/kafka.ts';
import { minioProcess } from '../../local/services/minio.ts';
import { isRunning, runningPid, type ManagedProcess } from '../../local/services/process.ts';
import { status } from '../../local/services/stack.ts';
import { readRestarts, restartSummary } from '../../local/services/supervisor.ts';
import { consumeWithJavaClient, openLake, waitForConsumer } from './helpers.ts';

const config = inject('config');
const quiet = () => undefined;
const BROWSER = 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36';

async function until(check: () => boolean | Promise<boolean>, timeoutMs: number, what: string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
    await sleep(200);
  }
}

/** SIGKILL to the service's process group: a crash, not a stop (its pid file stays). */
async function kill(proc: ManagedProcess): Promise<number> {
  const pid = runningPid(proc)!;
  process.kill(-pid, 'SIGKILL');
  await until(() => !isRunning(pid), 10_000, `${proc.name} to die`);
  return pid;
}

const offsetKey = (partition: number, offset: number | string) => `${partition}:${offset}`;

/**
 * The lake holds, for the offsets produced between `before` and `after`, exactly the topic's
 * records: each at most once by (partition, offset), with the topic's event id, and every record
 * on the topic either there or (a source duplicate from a re-sent batch) present under its event
 * id at another offset. And every acknowledged event is among them.
 */
async function expectLakeEqualsTopic(before: readonly PartitionLag[], after: readonly PartitionLag[], acknowledged: readonly SimulatedRecord[]): Promise<void> {
  const inRange = (partition: number, offset: number) => {
    const from = before.find((p) => p.partition === partition)?.endOffset ?? 0;
    const to = after.find((p) => p.partition === partition)!.endOffset;
    return offset >= from && offset < to;
  };
  const produced = after.reduce((n, p) => n + p.endOffset - (before.find((b) => b.partition === p.partition)?.endOffset ?? 0), 0);
  const total = after.reduce((n, p) => n + p.endOffset, 0);
  const topic = (await consumeWithJavaClient(config, config.topic, total + 1)).filter((r) => inRange(r.partition, r.offset));
  expect(topic).toHaveLength(produced);
  const topicIds = new Map(topic.map((r) => [offsetKey(r.partition, r.offset), (JSON.parse(r.value) as { event_id: string }).event_id]));

  const lake = await openLake(config);
  try {
    const where = after
      .map((p) => `(source_partition = ${p.partition} AND source_offset::BIGINT >= ${before.find((b) => b.partition === p.partition)?.endOffset ?? 0} AND source_offset::BIGINT < ${p.endOffset})`)
      .join(' OR ');
    const rows = await lake.query(`SELECT source_partition, source_offset::BIGINT AS source_offset, event_id FROM events WHERE source_topic = '${config.topic}' AND (${where})`);
    const lakeKeys = new Set(rows.map((r) => offsetKey(Number(r.source_partition), String(r.source_offset))));
    expect(lakeKeys.size, 'a topic record landed twice').toBe(rows.length);
    for (const r of rows) expect(r.event_id).toBe(topicIds.get(offsetKey(Number(r.source_partition), String(r.source_offset))));
    const lakeIds = new Set(rows.map((r) => String(r.event_id)));
    const missing = topic.filter((r) => !lakeKeys.has(offsetKey(r.partition, r.offset)));
    expect(missing.filter((r) => !lakeIds.has(topicIds.get(offsetKey(r.partition, r.offset))!)), 'topic records missing from the lake').toEqual([]);
    expect(acknowledged.filter((r) => !lakeIds.has(r.event!.event_id)).length, 'acknowledged events missing from the lake').toBe(0);
  } finally {
    lake.close();
  }
}

describe('services that heal themselves', () => {
  it.each([
    ['kafka', kafkaProcess(config)],
    ['minio', minioProcess(config)],
  ])(
    'restarts %s killed mid-stream with no further command; the consumer rides it out and the lake ends equal to the topic, exactly once',
    async (name, proc) => {
      await waitForConsumer(config);
      const before = await pipelineLag(config);
      const consumerPid = runningPid(consumerProcess(config));
      const restartsBefore = restartSummary(readRestarts(config), name).restarts;
      const acknowledged: SimulatedRecord[] = [];
      const producing = produce({
        bootstrapServers: [bootstrapServers(config)],
        topic: config.topic,
        rate: 3_000,
        dailyCurve: false,
        count: 45_000,
        seed: name === 'kafka' ? 501 : 502,
        onAcknowledged: (batch) => acknowledged.push(...batch),
      });
      await until(() => acknowledged.length >= 10_000, 60_000, 'the first 10,000 events');
      const killedPid = await kill(proc);
      const killedAt = Date.now();

      await until(() => restartSummary(readRestarts(config), name).restarts > restartsBefore, 120_000, `the supervisor to restart ${name}`);
      const restarted = Date.now();
      const summary = await producing;
      expect(summary.errors).toBe(0);
      expect(summary.sent).toBe(45_000);
      await waitForConsumer(config, 180_000);
      const caughtUp = Date.now();
      console.log(
        `[self-healing] ${name} killed: restarted after ${((restarted - killedAt) / 1000).toFixed(1)}s, lag 0 after ${((caughtUp - killedAt) / 1000).toFixed(1)}s, ` +
          `${summary.retries} producer batches re-sent, consumer reconnects ${readConsumerStatus(config)?.reconnects ?? 0}`,
      );

      const record = readRestarts(config).filter((r) => r.service === name).at(-1)!;
      expect(record.previousPid).toBe(killedPid);
      expect(record.pid).toBe(runningPid(proc));
      // What `status` shows: the service up again, how often and when it was restarted.
      const shown = (await status(config)).find((s) => s.name === name)!;
      expect(shown).toMatchObject({ healthy: true, restarts: restartsBefore + 1, lastRestart: record });
      expect(formatRestarts(shown)).toBe(`  restarted ${restartsBefore + 1} time${restartsBefore === 0 ? '' : 's'}, last at ${record.at}`);
      // Rode it out: the same runner process, not a restarted one.
      expect(runningPid(consumerProcess(config))).toBe(consumerPid);
      await expectLakeEqualsTopic(before, await pipelineLag(config), acknowledged);
    },
    300_000,
  );

  it('loses no event at the source through a 30 s broker outage during produce', async () => {
    await waitForConsumer(config);
    const before = await pipelineLag(config);
    const acknowledged: SimulatedRecord[] = [];
    let held = 0;
    const producing = produce({
      bootstrapServers: [bootstrapServers(config)],
      topic: config.topic,
      rate: 2_000,
      dailyCurve: false,
      count: 60_000,
      seed: 503,
      onAcknowledged: (batch) => acknowledged.push(...batch),
      onProgress: (p) => (held = Math.max(held, p.retrying)),
    });
    await until(() => acknowledged.length >= 10_000, 60_000, 'the first 10,000 events');
    // A deliberate stop: the supervisor leaves it down, so the outage lasts exactly as long as the test says.
    expect(await stopKafka(config)).toBe(true);
    await sleep(30_000);
    const during = acknowledged.length;
    expect(await startKafka(config, quiet)).toBe(true);
    const back = Date.now();

    const summary = await producing;
    await waitForConsumer(config, 180_000);
    console.log(
      `[self-healing] 30 s broker outage: ${summary.sent} of 60000 acknowledged, ${summary.errors} lost, at most ${held} events held, ` +
        `${summary.retries} batches re-sent, lag 0 ${((Date.now() - back) / 1000).toFixed(1)}s after the broker was back`,
    );
    expect(summary.errors).toBe(0);
    expect(summary.sent).toBe(60_000);
    // Backpressure: the simulator waited, so only the batch in flight (1,000 records) was held meanwhile.
    expect(held).toBeGreaterThan(0);
    expect(held).toBeLessThanOrEqual(1_000);
    expect(during).toBeLessThan(60_000);
    expect(new Set(acknowledged.map((r) => r.event!.event_id)).size).toBe(60_000);
    await expectLakeEqualsTopic(before, await pipelineLag(config), acknowledged);
  }, 300_000);

  it('the collector loses no event it acknowledged through a broker outage, and refuses (503) while the broker is away', async () => {
    await waitForConsumer(config);
    const run = randomUUID().slice(0, 8);
    const acknowledged: string[] = [];
    const answers = new Map<number, number>();
    let sending = true;
    const now = () => new Date().toISOString();
    // A tracker in a shopper's browser (a browser's User-Agent: Node's own would make these bots, which the
    // dashboard's tests on this shared lake do not expect) that keeps sending batches of 10 page views, each
    // message with its own id, one request at a time.
    const tracker = (async () => {
      while (sending) {
        const ids = Array.from({ length: 10 }, () => randomUUID());
        const batch = ids.map((id) => ({ type: 'page', messageId: id, anonymousId: `outage-${run}`, timestamp: now(), context: { page: { url: `https://shop.test/?run=${run}` } } }));
        const response = await fetch(`http://127.0.0.1:${config.dashboardPort}/collect/v1/b`, { method: 'POST', body: JSON.stringify({ batch, sentAt: now() }), headers: { 'content-type': 'text/plain', 'user-agent': BROWSER } }).catch(() => undefined);
        const status = response?.status ?? 0;
        answers.set(status, (answers.get(status) ?? 0) + 1);
        if (status === 200) acknowledged.push(...ids);
        await sleep(50);
      }
    })();
    await until(() => acknowledged.length >= 500, 60_000, 'the first 500 acknowledged events');
    expect(await stopKafka(config)).toBe(true);
    await until(() => (answers.get(503) ?? 0) >= 1, 90_000, 'a 503 while the broker is away');
    expect(await startKafka(config, quiet)).toBe(true);
    const before = acknowledged.length;
    await until(() => acknowledged.length >= before + 500, 90_000, '500 more acknowledged events after the broker came back');
    sending = false;
    await tracker;
    await waitForConsumer(config, 180_000);

    const lake = await openLake(config);
    try {
      const rows = await lake.query(`SELECT DISTINCT event_id, device_type FROM events WHERE user_id = 'outage-${run}'`);
      expect(new Set(rows.map((r) => r.device_type))).toEqual(new Set(['desktop']));
      const landed = new Set(rows.map((r) => String(r.event_id)));
      const lost = acknowledged.filter((id) => !landed.has(id));
      console.log(`[self-healing] collector through a broker outage: ${acknowledged.length} events acknowledged, ${lost.length} lost; answers ${JSON.stringify(Object.fromEntries(answers))}`);
      expect(lost).toEqual([]);
      // Only 200 and 503: never an answer that would make a tracker drop its events.
      expect([...answers.keys()].every((status) => status === 200 || status === 503)).toBe(true);
    } finally {
      lake.close();
    }
  }, 300_000);
});

