/**
 * The consumer as a local service: the event-source-mapping runner invoking the
 * bundled consumer handler, run as a background process by `up`.
 */
import { readFileSync, writeFileSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { lakeTimingEnv, type LocalConfig } from '../common/config.ts';
import type { CompactionStatus } from './compaction-loop.ts';
import { cliServiceProcess, startCliService } from '../services/cli-service.ts';
import { CONSUMER_NODE_FLAGS } from '../../lambdas/consumer/node-flags.ts';
import { minioCredentials, s3Endpoint } from '../services/minio.ts';
import { runningPid, stopProcess, type ManagedProcess } from '../services/process.ts';

export function consumerProcess(config: LocalConfig): ManagedProcess {
  return cliServiceProcess(config, 'consumer', 'consume');
}

export function consumerStatusFile(config: LocalConfig): string {
  return join(config.stateDir, 'consumer', 'status.json');
}

export interface ConsumerStatus {
  readonly pid: number;
  readonly startedAt: string;
  readonly updatedAt: string;
  readonly batches: number;
  readonly records: number;
  readonly failedAttempts: number;
  readonly sentToOnFailure: number;
  /** Times the runner replaced its client after the broker connection was lost. */
  readonly reconnects?: number;
  /** False while the runner is rejoining the group after a lost connection. */
  readonly connected?: boolean;
  /** The topic's partitions the group assigned to the runner; fewer than the topic has means another client took the rest. */
  readonly assignedPartitions?: readonly number[];
  /** The runner's member id in its consumer group. */
  readonly memberId?: string;
  /** The compactor's runs in this process (absent when it is off). */
  readonly compaction?: CompactionStatus;
}

export function readConsumerStatus(config: LocalConfig): ConsumerStatus | undefined {
  try {
    return JSON.parse(readFileSync(consumerStatusFile(config), 'utf8')) as ConsumerStatus;
  } catch {
    return undefined;
  }
}

export function writeConsumerStatus(config: LocalConfig, status: ConsumerStatus): void {
  const file = consumerStatusFile(config);
  writeFileSync(`${file}.part`, JSON.stringify(status));
  renameSync(`${file}.part`, file);
}

/** What the bundled handlers (consumer, compactor) read: the lake bucket, the lateness rule, and a MinIO endpoint with its credentials. */
export function handlerEnv(config: LocalConfig): Record<string, string> {
  const credentials = minioCredentials(config);
  return {
    CLICKSTREAM_LAKE_BUCKET: config.bucket,
    ...lakeTimingEnv(config.lakeTiming),
    CLICKSTREAM_S3_FORCE_PATH_STYLE: 'true',
    AWS_ENDPOINT_URL_S3: s3Endpoint(config),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
  };
}

/** Starts the runner unless ours is running (it builds its handler bundle itself); returns whether it started one. */
export async function startConsumer(config: LocalConfig): Promise<boolean> {
  const proc = consumerProcess(config);
  if (runningPid(proc) !== undefined) return false;
  // Ready once the runner has joined the group and written its first status.
  // With the function's Node flags: the runner calls the handler in its own process.
  await startCliService(config, proc, 'consume', (pid) => readConsumerStatus(config)?.pid === pid, CONSUMER_NODE_FLAGS);
  return true;
}

export async function stopConsumer(config: LocalConfig): Promise<boolean> {
  return stopProcess(consumerProcess(config), 30_000);
}
