/**
 * The local Apache Kafka broker: a single KRaft node (broker + controller) on
 * 127.0.0.1, run from the official jars that Maven resolves into the cache.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Admin } from '@platformatic/kafka';
import type { LocalConfig } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { javaCommand, requireCommand, requireJava } from './prerequisites.ts';
import {
  assertPortFree,
  logTail,
  readyOrStopped,
  runCommand,
  runningPid,
  type CommandResult,
  startDetached,
  stopProcess,
  waitFor,
  type ManagedProcess,
} from './process.ts';

const KAFKA_PROJECT = fileURLToPath(new URL('./kafka-server/', import.meta.url));

/** The pinned Kafka version: the pom is the one place it is written. */
export const KAFKA_VERSION = /<kafka\.version>([^<]+)<\/kafka\.version>/.exec(
  readFileSync(join(KAFKA_PROJECT, 'pom.xml'), 'utf8'),
)![1]!;

export function kafkaLibs(config: LocalConfig): string {
  return join(config.cacheDir, `kafka-${KAFKA_VERSION}`, 'libs');
}

export function kafkaProcess(config: LocalConfig): ManagedProcess {
  const dir = join(config.stateDir, 'kafka');
  return { name: 'Kafka', pidFile: join(dir, 'kafka.pid'), logFile: join(dir, 'kafka.out'), marker: join(dir, 'server.properties') };
}

/** The broker clients connect to: one given by CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS, or ours on loopback. */
export function bootstrapServers(config: LocalConfig): string {
  return config.externalKafka ?? `127.0.0.1:${config.kafkaPort}`;
}

/** Resolves the Kafka jars with Maven once; later runs find them in the cache. */
export async function installKafka(config: LocalConfig, log: (line: string) => void): Promise<string> {
  const libs = kafkaLibs(config);
  const complete = join(libs, '.complete');
  if (existsSync(complete)) return libs;
  await requireCommand('mvn', 'resolve the Kafka jars once', 'install Maven (for example the Debian package maven) and run again');
  log(`resolving Apache Kafka ${KAFKA_VERSION} jars with Maven into ${libs} (first run only)`);
  const result = await runCommand('mvn', ['-q', '-B', '-f', join(KAFKA_PROJECT, 'pom.xml'), 'dependency:copy-dependencies', `-DoutputDirectory=${libs}`]);
  if (result.code !== 0) {
    throw new UserError(`Maven could not resolve the Kafka jars (exit ${result.code}): ${lastLine(result.stdout + result.stderr)}`);
  }
  writeFileSync(complete, `${new Date().toISOString()}\n`);
  return libs;
}

function serverProperties(config: LocalConfig, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@127.0.0.1:${config.kafkaControllerPort}`,
    `listeners=PLAINTEXT://127.0.0.1:${config.kafkaPort},CONTROLLER://127.0.0.1:${config.kafkaControllerPort}`,
    `advertised.listeners=PLAINTEXT://127.0.0.1:${config.kafkaPort}`,
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    'controller.listener.names=CONTROLLER',
    'inter.broker.listener.name=PLAINTEXT',
    `log.dirs=${dataDir}`,
    `num.partitions=${config.partitions}`,
    // One node: every internal topic has one replica.
    'default.replication.factor=1',
    'min.insync.replicas=1',
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    'group.initial.rebalance.delay.ms=0',
    // Topics are created explicitly, so a typo in a topic name fails instead of creating a new topic.
    'auto.create.topics.enable=false',
    // Sized for a laptop that also runs MinIO, the consumer and the dashboard.
    'num.network.threads=2',
    'num.io.threads=4',
    'num.recovery.threads.per.data.dir=1',
    '',
  ].join('\n');
}

const JVM_OPTIONS = ['-Xms256m', '-Xmx1g', '-XX:+UseG1GC', '-XX:MaxGCPauseMillis=20', '-XX:+ExitOnOutOfMemoryError', '-Djava.awt.headless=true'];

/**
 * The JVM's arguments for Kafka's classes. Its temporary files go to the state directory, not the
 * system's: the LZ4 codec unpacks a native library there (230 KB) that a killed JVM leaves behind.
 */
function javaArgs(libs: string, kafkaDir: string, logFile: string): string[] {
  const logsDir = join(kafkaDir, 'logs');
  const tmpDir = join(kafkaDir, 'tmp');
  mkdirSync(logsDir, { recursive: true, mode: 0o700 });
  mkdirSync(tmpDir, { recursive: true, mode: 0o700 });
  return [
    `-Djava.io.tmpdir=${tmpDir}`,
    `-Dlog4j2.configurationFile=${join(KAFKA_PROJECT, 'log4j2.yaml')}`,
    `-Dkafka.logs.dir=${logsDir}`,
    `-Dkafka.log.file=${logFile}`,
    '-cp',
    `${libs}/*`,
  ];
}

/** Runs one of Kafka's own command-line tools (a main class from the cached jars) to completion. */
export async function runKafkaTool(config: LocalConfig, mainClass: string, args: string[]): Promise<CommandResult> {
  return runCommand(javaCommand(), ['-Xmx512m', ...javaArgs(kafkaLibs(config), join(config.stateDir, 'kafka'), 'tools.log'), mainClass, ...args]);
}

/** Starts the broker unless ours is already running; returns whether it started one. */
export async function startKafka(config: LocalConfig, log: (line: string) => void): Promise<boolean> {
  if (config.externalKafka) {
    if (await acceptsConnections(config.externalKafka)) return false;
    throw new UserError(`no Kafka answers on ${config.externalKafka} (CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS): start it, or unset the variable to let clickstream start its own broker`);
  }
  const proc = kafkaProcess(config);
  if (runningPid(proc) !== undefined) {
    await waitForKafka(config, proc, 60_000);
    return false;
  }
  await requireJava(17);
  const libs = await installKafka(config, log);
  await assertPortFree(config.kafkaPort, 'Kafka', 'CLICKSTREAM_KAFKA_PORT');
  await assertPortFree(config.kafkaControllerPort, 'the Kafka controller', 'CLICKSTREAM_KAFKA_CONTROLLER_PORT');

  const dir = join(config.stateDir, 'kafka');
  const dataDir = join(dir, 'data');
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  writeFileSync(proc.marker, serverProperties(config, dataDir));

  if (!existsSync(join(dataDir, 'meta.properties'))) {
    const format = await runKafkaTool(config, 'kafka.tools.StorageTool', ['format', '--cluster-id', clusterId(), '--config', proc.marker]);
    if (format.code !== 0) throw new UserError(`formatting Kafka storage failed: ${lastLine(format.stdout + format.stderr)}`);
  }

  startDetached(proc, javaCommand(), [...JVM_OPTIONS, ...javaArgs(libs, dir, 'server.log'), 'kafka.Kafka', proc.marker]);
  await readyOrStopped(proc, waitForKafka(config, proc, 90_000));
  return true;
}

async function waitForKafka(config: LocalConfig, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      if (runningPid(proc) === undefined) {
        throw new UserError(`Kafka exited during startup; see ${proc.logFile}: ${logTail(proc.logFile)}`);
      }
      return acceptsConnections(bootstrapServers(config));
    },
    timeoutMs,
    () => `Kafka did not accept connections on 127.0.0.1:${config.kafkaPort} within ${timeoutMs / 1000}s; see ${proc.logFile}`,
  );
}

export async function stopKafka(config: LocalConfig): Promise<boolean> {
  // A broker given by the environment is not ours to stop.
  return config.externalKafka ? false : stopProcess(kafkaProcess(config), 30_000);
}

/**
 * Creates the events topic if it is missing. An existing topic (say, on a given
 * broker) must have the partitions the config names: lag and the caught-up check
 * read exactly those.
 */
export async function ensureTopic(config: LocalConfig): Promise<void> {
  const admin = new Admin({ clientId: 'clickstream-setup', bootstrapBrokers: [bootstrapServers(config)], retries: 10, retryDelay: 500 });
  try {
    const topics = await admin.listTopics();
    if (!topics.includes(config.topic)) {
      await admin.createTopics({ topics: [config.topic], partitions: config.partitions, replicas: 1 });
      return;
    }
    const metadata = await admin.metadata({ topics: [config.topic] });
    const partitions = metadata.topics.get(config.topic)?.partitionsCount;
    if (partitions !== undefined && partitions !== config.partitions) {
      throw new UserError(`topic ${config.topic} has ${partitions} partitions, but CLICKSTREAM_PARTITIONS is ${config.partitions}: set CLICKSTREAM_PARTITIONS=${partitions}`);
    }
  } finally {
    await admin.close();
  }
}

/** Stops a command that needs the broker with one line when none answers. */
export async function requireBroker(config: LocalConfig): Promise<void> {
  if (!(await acceptsConnections(bootstrapServers(config)))) {
    throw new UserError(`no Kafka broker answers on ${bootstrapServers(config)}: start one with \`npx clickstream up\``);
  }
}

/** Whether something accepts TCP connections at host:port. */
export function acceptsConnections(address: string): Promise<boolean> {
  const separator = address.lastIndexOf(':');
  return new Promise((resolve) => {
    const socket = connect({ host: address.slice(0, separator), port: Number(address.slice(separator + 1)) });
    // A host that drops packets would otherwise hold every caller for the OS connect timeout (minutes).
    socket.setTimeout(2_000, () => {
      socket.destroy();
      resolve(false);
    });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

/** A KRaft cluster id: 16 random bytes, base64url, not starting with a dash (it would read as a flag). */
function clusterId(): string {
  let id: string;
  do id = randomBytes(16).toString('base64url');
  while (id.startsWith('-'));
  return id;
}

function lastLine(text: string): string {
  // Strip ANSI colour codes that Maven prints even with -q.
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
