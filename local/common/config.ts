/**
 * The local runtime's configuration: one typed object read from `CLICKSTREAM_*`
 * environment variables, with defaults that work with no settings at all.
 */
import { chmodSync, mkdirSync, statSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { HOST_PORT } from '../../lambdas/common/host-port.ts';
import { lakeTimingFromEnv, type LakeTiming } from '../../lambdas/common/lake-timing.ts';
import { UserError } from './errors.ts';

export interface LocalConfig {
  /** Downloads and builds (Kafka jars, the MinIO binary), shared by every clone. */
  readonly cacheDir: string;
  /** Service data, logs, pid files and generated credentials of this machine's local pipeline. */
  readonly stateDir: string;
  readonly kafkaPort: number;
  readonly kafkaControllerPort: number;
  readonly minioPort: number;
  readonly dashboardPort: number;
  readonly topic: string;
  readonly partitions: number;
  /** The consumer group the runner commits in: one per pipeline sharing a broker. */
  readonly consumerGroup: string;
  readonly bucket: string;
  /** Records per consumer invocation at most (Lambda allows up to 10,000). */
  readonly batchSize: number;
  /** Seconds the runner gathers records before invoking with a partial batch (Lambda allows up to 300). */
  readonly batchingWindowSeconds: number;
  /** Attempts per batch before its metadata goes to the on-failure destination. */
  readonly maxAttempts?: number;
  /** Seconds between compaction runs in the consumer process; 0 turns the compactor off. */
  readonly compactionIntervalSeconds: number;
  /** When an hour of the lake stops changing (shared by the consumer and the compactor). */
  readonly lakeTiming: LakeTiming;
  /** A Kafka-compatible broker (host:port) to use instead of starting one, e.g. the docker-compose Redpanda. */
  readonly externalKafka?: string;
  /** An S3-compatible store to use instead of starting MinIO, e.g. the docker-compose MinIO. */
  readonly externalS3?: ExternalS3;
}

export interface ExternalS3 {
  readonly endpoint: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

type Env = Readonly<Record<string, string | undefined>>;

export function loadConfig(env: Env = process.env): LocalConfig {
  const home = homedir();
  const externalKafka = name(env, 'CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS', '', HOST_PORT, 'one broker address as host:port, for example 127.0.0.1:9092');
  const externalS3 = s3Settings(env);
  const config: LocalConfig = {
    cacheDir: path(env, 'CLICKSTREAM_CACHE_DIR', join(env.XDG_CACHE_HOME ?? join(home, '.cache'), 'clickstream')),
    stateDir: path(env, 'CLICKSTREAM_STATE_DIR', join(env.XDG_STATE_HOME ?? join(home, '.local', 'state'), 'clickstream')),
    kafkaPort: port(env, 'CLICKSTREAM_KAFKA_PORT', 19092),
    kafkaControllerPort: port(env, 'CLICKSTREAM_KAFKA_CONTROLLER_PORT', 19093),
    minioPort: port(env, 'CLICKSTREAM_MINIO_PORT', 19000),
    dashboardPort: port(env, 'CLICKSTREAM_DASHBOARD_PORT', 18080),
    topic: name(env, 'CLICKSTREAM_TOPIC', 'clickstream.events', /^[A-Za-z0-9._-]{1,249}$/, 'letters, digits, dots, dashes and underscores'),
    partitions: integer(env, 'CLICKSTREAM_PARTITIONS', 6, 1, 1000),
    consumerGroup: name(env, 'CLICKSTREAM_CONSUMER_GROUP', 'clickstream-consumer', /^[A-Za-z0-9._-]{1,249}$/, 'letters, digits, dots, dashes and underscores'),
    batchSize: integer(env, 'CLICKSTREAM_BATCH_SIZE', 10_000, 1, 10_000),
    batchingWindowSeconds: integer(env, 'CLICKSTREAM_BATCHING_WINDOW_SECONDS', 1, 0, 300),
    ...(env.CLICKSTREAM_MAX_ATTEMPTS && { maxAttempts: integer(env, 'CLICKSTREAM_MAX_ATTEMPTS', 0, 1, 1000) }),
    compactionIntervalSeconds: integer(env, 'CLICKSTREAM_COMPACTION_INTERVAL_SECONDS', 300, 0, 86_400),
    lakeTiming: lakeTiming(env),
    ...(externalKafka && { externalKafka }),
    ...(externalS3 && { externalS3 }),
    bucket: name(env, 'CLICKSTREAM_BUCKET', 'clickstream-lake', /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, 'an S3 bucket name: 3-63 lower-case letters, digits, dots and dashes'),
  };
  const ports = [config.kafkaPort, config.kafkaControllerPort, config.minioPort, config.dashboardPort];
  if (new Set(ports).size !== ports.length) {
    throw new UserError(`CLICKSTREAM_KAFKA_PORT, CLICKSTREAM_KAFKA_CONTROLLER_PORT, CLICKSTREAM_MINIO_PORT and CLICKSTREAM_DASHBOARD_PORT must differ, got ${ports.join(', ')}`);
  }
  return config;
}

/**
 * Creates the state directory, or tightens an existing one, to mode 0700: it holds
 * MinIO's credentials and the services' data, and `mkdir` leaves the mode of a
 * directory that already exists (say one made 0755 by hand) as it was.
 */
export function ensureStateDir(config: LocalConfig): void {
  const dir = config.stateDir;
  try {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
  } catch (error) {
    const code = (error as NodeJS.ErrnoException).code;
    // mkdir of a path that is a file fails with EEXIST: say what is wrong in words.
    const problem = code === 'EEXIST' ? 'is not a directory' : `could not be created (${code ?? (error as Error).message})`;
    throw new UserError(`the state directory ${dir} (CLICKSTREAM_STATE_DIR) ${problem}: point CLICKSTREAM_STATE_DIR at a directory you own`);
  }
  if ((statSync(dir).mode & 0o777) !== 0o700) {
    try {
      chmodSync(dir, 0o700);
    } catch (error) {
      throw new UserError(`the state directory ${dir} could not be made private (mode 0700) (${(error as NodeJS.ErrnoException).code ?? (error as Error).message}): point CLICKSTREAM_STATE_DIR at a directory you own`);
    }
  }
}

/** The environment that makes a child process load this same configuration. */
export function configEnv(config: LocalConfig): Record<string, string> {
  return {
    CLICKSTREAM_CACHE_DIR: config.cacheDir,
    CLICKSTREAM_STATE_DIR: config.stateDir,
    CLICKSTREAM_KAFKA_PORT: String(config.kafkaPort),
    CLICKSTREAM_KAFKA_CONTROLLER_PORT: String(config.kafkaControllerPort),
    CLICKSTREAM_MINIO_PORT: String(config.minioPort),
    CLICKSTREAM_DASHBOARD_PORT: String(config.dashboardPort),
    CLICKSTREAM_TOPIC: config.topic,
    CLICKSTREAM_PARTITIONS: String(config.partitions),
    CLICKSTREAM_CONSUMER_GROUP: config.consumerGroup,
    CLICKSTREAM_BUCKET: config.bucket,
    CLICKSTREAM_BATCH_SIZE: String(config.batchSize),
    CLICKSTREAM_BATCHING_WINDOW_SECONDS: String(config.batchingWindowSeconds),
    ...(config.maxAttempts !== undefined && { CLICKSTREAM_MAX_ATTEMPTS: String(config.maxAttempts) }),
    CLICKSTREAM_COMPACTION_INTERVAL_SECONDS: String(config.compactionIntervalSeconds),
    ...lakeTimingEnv(config.lakeTiming),
    ...(config.externalKafka && { CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS: config.externalKafka }),
    ...(config.externalS3 && {
      CLICKSTREAM_S3_ENDPOINT: config.externalS3.endpoint,
      CLICKSTREAM_S3_ACCESS_KEY_ID: config.externalS3.accessKeyId,
      CLICKSTREAM_S3_SECRET_ACCESS_KEY: config.externalS3.secretAccessKey,
    }),
  };
}

/** The lateness settings (lambdas/common/lake-timing.ts), as a user error when one is bad. */
function lakeTiming(env: Env): LakeTiming {
  try {
    return lakeTimingFromEnv(env);
  } catch (error) {
    throw new UserError((error as Error).message);
  }
}

/** The environment the consumer and compactor bundles read the lateness settings from. */
export function lakeTimingEnv(timing: LakeTiming): Record<string, string> {
  return { CLICKSTREAM_LATE_AFTER_SECONDS: String(timing.lateAfterMs / 1000), CLICKSTREAM_WRITE_DEADLINE_SECONDS: String(timing.writeDeadlineMs / 1000) };
}

/** An S3 store given by the environment: the endpoint and both halves of its credentials, or none of them. */
function s3Settings(env: Env): ExternalS3 | undefined {
  const keys = ['CLICKSTREAM_S3_ENDPOINT', 'CLICKSTREAM_S3_ACCESS_KEY_ID', 'CLICKSTREAM_S3_SECRET_ACCESS_KEY'] as const;
  const [endpoint, accessKeyId, secretAccessKey] = keys.map((k) => env[k] || undefined);
  if (!endpoint && !accessKeyId && !secretAccessKey) return undefined;
  if (!endpoint || !accessKeyId || !secretAccessKey) {
    throw new UserError(`${keys.join(', ')} go together: set all three to use your own S3 store, or none to let clickstream start MinIO`);
  }
  if (!/^https?:\/\/[^/\s]+\/?$/.test(endpoint)) throw new UserError(`CLICKSTREAM_S3_ENDPOINT must be an http(s) URL with no path, for example http://127.0.0.1:9000, got "${endpoint}"`);
  return { endpoint: endpoint.replace(/\/$/, ''), accessKeyId, secretAccessKey };
}

function path(env: Env, key: string, fallback: string): string {
  const value = env[key];
  if (value === undefined || value === '') return fallback;
  if (!value.startsWith('/')) throw new UserError(`${key} must be an absolute path, got "${value}"`);
  return value;
}

function integer(env: Env, key: string, fallback: number, min: number, max: number): number {
  const value = env[key];
  if (value === undefined || value === '') return fallback;
  const parsed = Number(value);
  if (!/^\d+$/.test(value) || parsed < min || parsed > max) {
    throw new UserError(`${key} must be a whole number from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

function port(env: Env, key: string, fallback: number): number {
  return integer(env, key, fallback, 1024, 65535);
}

function name(env: Env, key: string, fallback: string, pattern: RegExp, what: string): string {
  const value = env[key];
  if (value === undefined || value === '') return fallback;
  if (!pattern.test(value)) throw new UserError(`${key} must be ${what}, got "${value}"`);
  return value;
}
