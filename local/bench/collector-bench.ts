/**
 * The collector under load on loopback, Kafka co-located: Segment batches (as
 * analytics-next sends them) from `connections` connections, through the real local
 * collector path (Node HTTP adapter, Collector, group commit, idempotent producer) to a
 * broker of the benchmark's own. Baseline in the same run: the same server whose stream
 * acknowledges at once (what HTTP, parsing, mapping and validation cost without Kafka).
 * Both run twice: as fast as the connections go (the most the machine accepts, where
 * latency is mostly queueing: connections / throughput) and at the goal's rate (issue 14:
 * 10,000 events/s), where the p99 is what a tracker waits at that traffic.
 *
 * Then the no-loss check: the same load while the broker is stopped and started again;
 * every event the collector acknowledged must be in the topic afterwards.
 */
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin, Consumer, MessagesStreamModes, stringDeserializers } from '@platformatic/kafka';
import { Collector, type IngestSend } from '../../lambdas/collector/collect-request.ts';
import { loadClientEnricher } from '../../lambdas/collector/enrich-client.ts';
import { serialBatches } from '../../lambdas/collector/serial-batches.ts';
import { EventProducer } from '../../lambdas/common/event-producer.ts';
import type { LocalConfig } from '../common/config.ts';
import { collectorCostPerMillionEvents, type CollectorCost } from './cost-model.ts';
import { answerCollect } from '../serve/collect-http.ts';
import { bootstrapServers, startKafka, stopKafka } from '../services/kafka.ts';

export interface CollectorLoad {
  readonly requests: number;
  readonly seconds: number;
  readonly eventsPerSecond: number;
  readonly p50Ms: number;
  readonly p99Ms: number;
  readonly non2xx: number;
  readonly errors: number;
}

export interface CollectorBenchResult {
  readonly connections: number;
  readonly eventsPerRequest: number;
  readonly collector: CollectorLoad;
  /** Baseline: the same server, the stream acknowledging at once. */
  readonly noStream: CollectorLoad;
  /** The same two at a fixed rate: requests a second offered, from all connections together. */
  readonly atRate: { readonly requestsPerSecond: number; readonly collector: CollectorLoad; readonly noStream: CollectorLoad };
  readonly restart: { readonly acknowledged: number; readonly inTopic: number; readonly lost: number; readonly refused: number; readonly downSeconds: number };
  /** Dollars per million events in the cloud, one event per request (Snowplow's default) and batched as here. */
  readonly cloudCost: { readonly single: CollectorCost; readonly batched: CollectorCost; readonly secondsPerRequest: number };
}

/** The collector function's memory (lib/collector.ts). */
const CLOUD_COLLECTOR_MEMORY_MB = 512;
/** Assumed: a Kinesis PutRecords round trip inside a region, which the function waits for. */
const STREAM_ACK_SECONDS = 0.03;

const CONNECTIONS = 50;
const EVENTS_PER_REQUEST = 20;
/** The goal's traffic (issue 14): 10,000 events a second. */
const GOAL_EVENTS_PER_SECOND = 10_000;
const GOAL_REQUESTS_PER_SECOND = GOAL_EVENTS_PER_SECOND / EVENTS_PER_REQUEST;
const LOAD_SCRIPT = fileURLToPath(new URL('./collector-load.ts', import.meta.url));

export async function benchCollector(config: LocalConfig, requests: number, log: (line: string) => void): Promise<CollectorBenchResult> {
  await startKafka(config, log);
  const scratch = mkdtempSync(join(tmpdir(), 'clickstream-collector-bench-'));
  const url = `http://127.0.0.1:${config.dashboardPort}/collect/v1/b`;
  try {
    const enricher = await loadClientEnricher();
    const measure = async (name: string, send: IngestSend, options: { warmUp?: boolean; rate?: number } = {}): Promise<{ load: CollectorLoad; ids: string[] }> => {
      const server = await listen(config.dashboardPort, new Collector({ send, enricher }));
      try {
        // The first run in the process pays for compiling the hot paths; a short unmeasured one takes that.
        if (options.warmUp) await runLoad(url, Math.min(requests, 2_000), join(scratch, 'warm-up.ids'));
        log(`collector: ${requests} requests of ${EVENTS_PER_REQUEST} events, ${CONNECTIONS} connections, ${options.rate ? `${options.rate} requests/s` : 'as fast as they go'} (${name})`);
        return await runLoad(url, requests, join(scratch, `${name}.ids`), options.rate);
      } finally {
        await new Promise((resolve) => server.close(resolve));
      }
    };
    const acknowledgeAtOnce: IngestSend = () => Promise.resolve();
    const noStream = (await measure('no stream', acknowledgeAtOnce, { warmUp: true })).load;
    const noStreamAtRate = (await measure('no stream at rate', acknowledgeAtOnce, { rate: GOAL_REQUESTS_PER_SECOND })).load;
    const topic = await createTopic(config, 'bench.collector');
    const producer = new EventProducer({ bootstrapServers: [bootstrapServers(config)], topic, clientId: 'clickstream-collector-bench' });
    try {
      const toKafka = serialBatches((records) => producer.send(records));
      const collector = (await measure('collector', toKafka)).load;
      const collectorAtRate = (await measure('collector at rate', toKafka, { rate: GOAL_REQUESTS_PER_SECOND })).load;
      // The restart: the load runs while the broker goes away for a few seconds and comes back.
      const downSeconds = 5;
      const restarted = (async () => {
        await new Promise((r) => setTimeout(r, 2_000));
        log('collector: stopping the broker under load');
        await stopKafka(config);
        await new Promise((r) => setTimeout(r, downSeconds * 1000));
        log('collector: starting the broker again');
        await startKafka(config, log);
      })();
      // At the goal's rate, so the load spans the outage and the recovery (as fast as they go, the
      // quick 503s of the outage would use up the requests before the broker is back).
      const during = await measure('restart', toKafka, { rate: GOAL_REQUESTS_PER_SECOND });
      await restarted;
      const inTopic = await topicIds(config, topic);
      const lost = during.ids.filter((id) => !inTopic.has(id)).length;
      // The function's time per request: this machine's CPU per request with no stream (all of it on one
      // core, an upper bound: the load generator shared the machine) plus the wait for the stream.
      const secondsPerRequest = noStream.seconds / noStream.requests + STREAM_ACK_SECONDS;
      return {
        cloudCost: {
          secondsPerRequest,
          single: collectorCostPerMillionEvents(1, secondsPerRequest, CLOUD_COLLECTOR_MEMORY_MB),
          batched: collectorCostPerMillionEvents(EVENTS_PER_REQUEST, secondsPerRequest, CLOUD_COLLECTOR_MEMORY_MB),
        },
        connections: CONNECTIONS,
        eventsPerRequest: EVENTS_PER_REQUEST,
        collector,
        noStream,
        atRate: { requestsPerSecond: GOAL_REQUESTS_PER_SECOND, collector: collectorAtRate, noStream: noStreamAtRate },
        restart: { acknowledged: during.ids.length, inTopic: inTopic.size, lost, refused: during.load.non2xx, downSeconds },
      };
    } finally {
      await producer.close();
    }
  } finally {
    rmSync(scratch, { recursive: true, force: true });
    await stopKafka(config);
  }
}

function listen(port: number, collector: Collector): Promise<Server> {
  const server = createServer((req, res) => {
    answerCollect(collector, req, res, new URL(req.url ?? '/', 'http://localhost')).catch((error: Error) => {
      res.writeHead(500);
      res.end(error.message);
    });
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, '127.0.0.1', () => resolve(server));
  });
}

async function runLoad(url: string, requests: number, idsFile: string, rate?: number): Promise<{ load: CollectorLoad; ids: string[] }> {
  const args = [LOAD_SCRIPT, url, String(CONNECTIONS), String(requests), String(EVENTS_PER_REQUEST), idsFile, ...(rate ? [String(rate)] : [])];
  const stdout = await new Promise<string>((resolve, reject) => {
    execFile(process.execPath, ['--import', import.meta.resolve('tsx'), ...args], { timeout: 300_000, maxBuffer: 16 * 2 ** 20 }, (error, out, err) => {
      if (error) reject(new Error(`the collector load failed: ${err.trim().split('\n').pop() ?? error.message}`));
      else resolve(out);
    });
  });
  const r = JSON.parse(stdout.trim().split('\n').pop()!) as { requests: number; seconds: number; p50Ms: number; p99Ms: number; non2xx: number; errors: number };
  const ids = readFileSync(idsFile, 'utf8').split('\n').filter((l) => l !== '');
  return { load: { ...r, eventsPerSecond: ids.length / r.seconds }, ids };
}

async function createTopic(config: LocalConfig, topic: string): Promise<string> {
  const admin = new Admin({ clientId: 'clickstream-bench', bootstrapBrokers: [bootstrapServers(config)] });
  try {
    if ((await admin.listTopics()).includes(topic)) await admin.deleteTopics({ topics: [topic] });
    await admin.createTopics({ topics: [topic], partitions: 6, replicas: 1 });
    return topic;
  } finally {
    await admin.close();
  }
}

/** Every event id in the topic, read from the start until no new record comes for 5 s. */
async function topicIds(config: LocalConfig, topic: string): Promise<Set<string>> {
  const consumer = new Consumer({ clientId: 'clickstream-bench-check', groupId: `bench-check-${Date.now()}`, bootstrapBrokers: [bootstrapServers(config)], deserializers: stringDeserializers });
  const ids = new Set<string>();
  try {
    const stream = await consumer.consume({ topics: [topic], mode: MessagesStreamModes.EARLIEST });
    let idle: NodeJS.Timeout | undefined;
    await new Promise<void>((resolve) => {
      const arm = () => {
        clearTimeout(idle);
        idle = setTimeout(resolve, 5_000);
      };
      arm();
      stream.on('data', (message: { value: string }) => {
        ids.add((JSON.parse(message.value) as { event_id: string }).event_id);
        arm();
      });
    });
    await stream.close();
  } finally {
    await consumer.close();
  }
  return ids;
}
