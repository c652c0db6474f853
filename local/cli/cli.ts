/**
 * `npx clickstream <command>`: the local runtime's command line. A thin adapter:
 * it parses and checks flags, then calls the services, the producer and the
 * benchmark. Problems the user can fix are printed as one line, no stack.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { loadConfig, type LocalConfig } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { COMMAND_OPTIONS, formatProgress, formatSummary, parseCount, parseFlags, parseRate, parseSeconds, parseSeed, parseShare, USAGE } from './cli-options.ts';
import { waitForCaughtUp } from '../consume/consumer-lag.ts';
import { produce, type ProduceProgress } from '../produce/produce.ts';
import type { InjectionRates } from '../../lambdas/simulator/simulator.ts';
import { trafficAt } from '../../lambdas/simulator/traffic-curve.ts';
import { bootstrapServers, requireBroker } from '../services/kafka.ts';
import { localS3Client, minioCredentialsFile, s3Endpoint } from '../services/minio.ts';
import { formatRestarts, formatStatusLine, PipelineStatusReader, type PipelineStatus } from '../status/pipeline-status.ts';
import { consumerProcess } from '../consume/consumer-service.ts';
import { dashboardUrl } from '../serve/dashboard-service.ts';
import { supervisorProcess } from '../services/supervisor.ts';
import { down, up } from '../services/stack.ts';

const log = (line: string) => console.error(`clickstream: ${line}`);

async function main(argv: string[]): Promise<number> {
  const [command, ...rest] = argv;
  switch (command) {
    case 'up':
      return cmdUp(rest);
    case 'down':
      return cmdDown(rest);
    case 'status':
      return cmdStatus(rest);
    case 'produce':
      return cmdProduce(produceSettings(rest), loadConfig());
    case 'run':
      return cmdRun(rest);
    case 'serve': {
      parseFlags(rest, COMMAND_OPTIONS.serve);
      const { runServer } = await import('../serve/serve.ts');
      return runServer(loadConfig());
    }
    case 'consume': {
      parseFlags(rest, COMMAND_OPTIONS.consume);
      const { runConsumer } = await import('../consume/consume.ts');
      return runConsumer(loadConfig());
    }
    case 'supervise': {
      parseFlags(rest, COMMAND_OPTIONS.supervise);
      const { runSupervisor } = await import('../services/supervise.ts');
      return runSupervisor(loadConfig());
    }
    case 'bench': {
      // The bench imports the consumer core unbundled, so the generated code (a build step,
      // not committed) must be written before its modules load; every other command runs
      // the bundles, whose build writes it (local/common/bundle.ts).
      const { writeGeneratedCode } = await import('../../lambdas/generate-code.ts');
      writeGeneratedCode();
      const { cmdBench } = await import('../bench/index.ts');
      return cmdBench(rest, loadConfig());
    }
    case undefined:
    case 'help':
    case '--help':
    case '-h':
      console.log(USAGE);
      return command === undefined ? 1 : 0;
    default:
      throw new UserError(`unknown command "${command}": run \`npx clickstream help\` for the list`);
  }
}


async function cmdUp(args: string[]): Promise<number> {
  parseFlags(args, COMMAND_OPTIONS.up);
  const config = loadConfig();
  const { started } = await up(config, log);
  printEndpoints(config, started);
  return 0;
}

async function cmdDown(args: string[]): Promise<number> {
  parseFlags(args, COMMAND_OPTIONS.down);
  const stopped = await down(loadConfig());
  log(stopped.length ? `stopped ${listOf(stopped)}` : 'nothing was running');
  return 0;
}

async function cmdStatus(args: string[]): Promise<number> {
  const flags = parseFlags(args, COMMAND_OPTIONS.status);
  const config = loadConfig();
  const s3 = localS3Client(config);
  try {
    const report = await new PipelineStatusReader(config, s3).read();
    console.log(flags.json ? JSON.stringify(report) : formatStatus(report));
    return report.services.every((s) => s.healthy) ? 0 : 3;
  } finally {
    s3.destroy();
  }
}

function formatStatus(report: PipelineStatus): string {
  const lines = report.services.map((s) => `${s.name.padEnd(9)} ${s.healthy ? 'up' : s.running ? 'starting or unhealthy' : 'down'}  ${s.endpoint}${s.pid ? `  pid ${s.pid}` : ''}${formatRestarts(s)}`);
  const n = (x: number) => x.toLocaleString('en-US');
  if (report.topic) lines.push(`topic     ${report.topic.name}: ${n(report.topic.endOffset)} records, consumer lag ${n(report.topic.lag)}`);
  const lake = report.lake;
  if (lake) {
    const newest = lake.newestEventTimeMs === null ? 'no events yet' : `newest event ${new Date(lake.newestEventTimeMs).toISOString()} (${lake.freshnessSeconds?.toFixed(1)}s ago)`;
    lines.push(`lake      ${n(lake.eventRows)} rows in ${n(lake.eventObjects)} files (${(lake.eventBytes / 1e6).toFixed(1)} MB), ${newest}`);
    lines.push(`          ${n(lake.quarantinedRecords)} records quarantined in ${n(lake.quarantineObjects)} files`);
  }
  const c = report.compaction;
  if (c) {
    const last = c.lastRunAt ? `, last at ${c.lastRunAt}${c.lastError ? ` (failed: ${c.lastError})` : ''}` : ', first run pending';
    lines.push(`compactor ${n(c.runs)} runs: ${n(c.hoursCompacted)} hours compacted, ${n(c.lateFilesFolded)} late files folded, ${n(c.filesDeleted)} files deleted${last}`);
  }
  for (const problem of report.problems) lines.push(`problem   ${problem}`);
  return lines.join('\n');
}

interface ProduceSettings {
  readonly rate: number | 'max';
  readonly count?: number;
  readonly durationSeconds?: number;
  readonly seed: number;
  readonly flat: boolean;
  readonly inject: InjectionRates;
}

/** Every produce flag, checked before anything is started. */
function produceSettings(args: string[]): ProduceSettings {
  const flags = parseFlags(args, COMMAND_OPTIONS.produce);
  return {
    rate: parseRate(flags.rate ?? '1000'),
    ...(flags.count !== undefined && { count: parseCount('--count', flags.count) }),
    ...(flags.duration !== undefined && { durationSeconds: parseSeconds('--duration', flags.duration) }),
    seed: flags.seed === undefined ? Date.now() % 2 ** 31 : parseSeed(flags.seed),
    flat: flags.flat ?? false,
    inject: {
      duplicates: parseShare('--inject-duplicates', flags['inject-duplicates']),
      late: parseShare('--inject-late', flags['inject-late']),
      malformed: parseShare('--inject-malformed', flags['inject-malformed']),
    },
  };
}

/**
 * Produces until the flags' limit or a stop. Standalone it owns Ctrl-C: the first
 * sends what is in flight and stops, the second quits at once. Under `run`, run
 * owns the signals and passes its stop signal in.
 */
async function cmdProduce(settings: ProduceSettings, config: LocalConfig, statusLine: (p: ProduceProgress) => string = formatProgress, stop?: AbortSignal): Promise<number> {
  const { rate, seed } = settings;
  await requireBroker(config);

  const controller = new AbortController();
  const onSignal = () => {
    if (controller.signal.aborted) process.exit(130);
    log('stopping: sending what is in flight (Ctrl-C again to quit at once)');
    controller.abort();
  };
  if (!stop) {
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  }
  const tty = process.stderr.isTTY;
  let lastPrinted = 0;
  const pace =
    rate === 'max'
      ? 'the maximum rate'
      : settings.flat
        ? `${rate} events/s`
        : `${rate} events/s on average over a day (x${trafficAt(Date.now()).toFixed(2)} at this hour; --flat for a constant rate)`;
  log(`producing to ${config.topic} on ${bootstrapServers(config)} at ${pace}, seed ${seed}`);
  try {
    const summary = await produce({
      bootstrapServers: [bootstrapServers(config)],
      topic: config.topic,
      rate,
      seed,
      ...(settings.count !== undefined && { count: settings.count }),
      ...(settings.durationSeconds !== undefined && { durationSeconds: settings.durationSeconds }),
      ...(settings.flat && { dailyCurve: false }),
      inject: settings.inject,
      signal: stop ?? controller.signal,
      onProgress: (p) => {
        if (tty) process.stderr.write(`\r\x1b[2K${statusLine(p)}`);
        else if (p.elapsedSeconds - lastPrinted >= 10) {
          lastPrinted = p.elapsedSeconds;
          console.error(statusLine(p));
        }
      },
    });
    if (tty) process.stderr.write('\r\x1b[2K');
    console.log(formatSummary(summary));
    return summary.errors > 0 ? 1 : 0;
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

async function cmdRun(args: string[]): Promise<number> {
  const config = loadConfig();
  const settings = produceSettings(args); // reject bad flags before starting anything
  // run owns Ctrl-C from the start: the first stops producing, the second skips waiting for
  // the consumer; either way what run started is stopped. A third quits at once.
  const stop = new AbortController();
  const skipDrain = new AbortController();
  const onSignal = () => {
    if (!stop.signal.aborted) {
      log('stopping: sending what is in flight, then letting the consumer write it (Ctrl-C again to skip that wait)');
      stop.abort();
    } else if (!skipDrain.signal.aborted) {
      log('stopping without waiting for the consumer: what it has not written is written at the next start');
      skipDrain.abort();
    } else {
      log('quitting now: services started by this run keep running; `npx clickstream down` stops them');
      process.exit(130);
    }
  };
  process.on('SIGINT', onSignal);
  process.on('SIGTERM', onSignal);
  try {
    const { started } = await up(config, log);
    printEndpoints(config, started);
    const s3 = localS3Client(config);
    const pipeline = new PipelineStatusReader(config, s3);
    let latest: PipelineStatus | undefined;
    // The status is read every 2 s in the background, one read at a time, so a slow read never stalls the producer.
    const polling = new AbortController();
    const poller = (async () => {
      while (!polling.signal.aborted) {
        latest = await pipeline.read().catch(() => latest);
        await sleep(2_000, undefined, { signal: polling.signal }).catch(() => undefined);
      }
    })();
    try {
      if (stop.signal.aborted) return 130; // stopped while the services were starting
      return await cmdProduce(settings, config, (p) => `${formatStatusLine(p.eventsPerSecond, latest, p.retrying)}  ${Math.floor(p.elapsedSeconds)}s`, stop.signal);
    } finally {
      polling.abort();
      await poller;
      try {
        if (started.includes('consumer') && !skipDrain.signal.aborted) {
          // Let the consumer write what was produced before it stops, so the lake is complete.
          log('waiting for the consumer to write what was produced (up to 30 s)');
          if (!(await waitForCaughtUp(config, 30_000, skipDrain.signal))) log('the consumer has not caught up; the rest is written at the next start');
        }
        const final = await pipeline.read();
        if (final.lake) log(`lake: ${final.lake.eventRows.toLocaleString('en-US')} rows in ${final.lake.eventObjects} files, ${final.lake.quarantinedRecords} quarantined`);
      } catch (error) {
        log(`could not read the pipeline's state before stopping: ${(error as Error).message.split('\n')[0]}`);
      } finally {
        s3.destroy();
        if (started.length > 0) log(`stopped ${listOf(await down(config, started))}`);
      }
    }
  } finally {
    process.off('SIGINT', onSignal);
    process.off('SIGTERM', onSignal);
  }
}

const listOf = (items: readonly string[]) => new Intl.ListFormat('en', { type: 'conjunction' }).format(items);

function printEndpoints(config: LocalConfig, started: readonly string[]): void {
  const note = (service: string, given?: string) => (given ? `  (given by ${given})` : started.includes(service) ? '' : '  (already running)');
  log(`Kafka  ${bootstrapServers(config)}  topic ${config.topic}${note('kafka', config.externalKafka && 'CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS')}`);
  log(`MinIO  ${s3Endpoint(config)}  bucket ${config.bucket}${note('minio', config.externalS3 && 'CLICKSTREAM_S3_ENDPOINT')}`);
  log(`consumer  ${config.topic} -> s3://${config.bucket}/events/year=/month=/day=/hour=/ (log: ${consumerProcess(config).logFile})${note('consumer')}`);
  log(`dashboard  ${dashboardUrl(config)}${note('dashboard')}`);
  log(`collector  ${dashboardUrl(config)}collect  for your site's Segment or Snowplow tracker (docs/collector.md)`);
  log(`supervisor  restarts any of these that dies (log: ${supervisorProcess(config).logFile})${note('supervisor')}`);
  if (!config.externalS3) log(`S3 credentials in ${minioCredentialsFile(config)} (readable only by you)`);
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (error: unknown) => {
    if (error instanceof UserError) {
      log(error.message);
    } else if (process.env.CLICKSTREAM_DEBUG) {
      console.error(error);
    } else {
      // Not a problem we recognised: one line, and how to see the rest.
      const message = error instanceof Error ? error.message.split('\n')[0] : String(error);
      log(`${message} (set CLICKSTREAM_DEBUG=1 for details, and see the service logs in ${loadConfigQuietly()?.stateDir ?? 'the state directory'})`);
    }
    process.exit(1);
  },
);

function loadConfigQuietly(): LocalConfig | undefined {
  try {
    return loadConfig();
  } catch {
    return undefined;
  }
}
