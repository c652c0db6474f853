/**
 * One picture of the local pipeline: which services are up, how far the
 * consumer is behind the topic, and what the lake holds. `status --json` prints
 * it; the run command's status line is drawn from it.
 */
import type { S3Client } from '@aws-sdk/client-s3';
import { thousands } from '../cli/cli-options.ts';
import type { LocalConfig } from '../common/config.ts';
import { otherGroupMembers, pipelineLag, takeoverProblem, type PartitionLag } from '../consume/consumer-lag.ts';
import { LakeInventoryReader, type LakeInventory } from '../lake/lake-inventory.ts';
import type { CompactionStatus } from '../consume/compaction-loop.ts';
import { readConsumerStatus } from '../consume/consumer-service.ts';
import { status, type ServiceStatus } from '../services/stack.ts';

export interface TopicStatus {
  readonly name: string;
  readonly endOffset: number;
  readonly committedOffset: number;
  /** Records on the topic the consumer has not committed yet. */
  readonly lag: number;
  readonly partitions: readonly PartitionLag[];
}

export interface LakeStatus extends LakeInventory {
  readonly bucket: string;
  /** Seconds from the newest event in the lake to now: how far behind the lake is while events flow. */
  readonly freshnessSeconds: number | null;
}

export interface PipelineStatus {
  readonly generatedAt: string;
  readonly services: readonly ServiceStatus[];
  /** Absent when Kafka is not answering. */
  readonly topic: TopicStatus | null;
  /** Absent when MinIO is not answering. */
  readonly lake: LakeStatus | null;
  /** The compactor's runs in the consumer process; absent when it is off or the consumer is down. */
  readonly compaction?: CompactionStatus;
  /** What could not be read, one line each. */
  readonly problems: readonly string[];
}

export class PipelineStatusReader {
  private readonly inventory: LakeInventoryReader;

  constructor(
    private readonly config: LocalConfig,
    s3: S3Client,
  ) {
    this.inventory = new LakeInventoryReader(s3, config.bucket);
  }

  async read(now = Date.now): Promise<PipelineStatus> {
    const services = await status(this.config);
    const up = (name: string) => services.find((s) => s.name === name)?.healthy === true;
    const problems: string[] = [];
    const attempt = async <T>(what: string, read: () => Promise<T>): Promise<T | null> => {
      try {
        return await read();
      } catch (error) {
        problems.push(`${what}: ${(error as Error).message.split('\n')[0]}`);
        return null;
      }
    };
    const runner = up('consumer') ? readConsumerStatus(this.config) : undefined;
    if (runner?.connected === false) problems.push('consumer: lost the broker, joining the group again with backoff (nothing is committed or lost meanwhile)');
    if (up('kafka') && runner?.assignedPartitions && runner.assignedPartitions.length < this.config.partitions) {
      // Only now is the group described, to name the other client: a status read without a takeover costs nothing more.
      const others = (await attempt('consumer group members', () => otherGroupMembers(this.config, runner.memberId))) ?? [];
      const problem = takeoverProblem(this.config.consumerGroup, this.config.partitions, runner.assignedPartitions, others);
      if (problem) problems.push(problem);
    }
    const [partitions, inventory] = await Promise.all([
      up('kafka') ? attempt('consumer lag', () => pipelineLag(this.config)) : null,
      up('minio') ? attempt('lake inventory', () => this.inventory.read()) : null,
    ]);
    return {
      generatedAt: new Date(now()).toISOString(),
      services,
      topic: partitions && topicStatus(this.config.topic, partitions),
      lake: inventory && lakeStatus(this.config.bucket, inventory, now()),
      ...(runner?.compaction && { compaction: runner.compaction }),
      problems,
    };
  }
}

export function topicStatus(name: string, partitions: readonly PartitionLag[]): TopicStatus {
  const total = (f: (p: PartitionLag) => number) => partitions.reduce((n, p) => n + f(p), 0);
  return { name, endOffset: total((p) => p.endOffset), committedOffset: total((p) => p.committedOffset), lag: total((p) => p.lag), partitions };
}

export function lakeStatus(bucket: string, inventory: LakeInventory, nowMs: number): LakeStatus {
  const freshnessSeconds = inventory.newestEventTimeMs === null ? null : Math.max(0, (nowMs - inventory.newestEventTimeMs) / 1000);
  return { bucket, ...inventory, freshnessSeconds };
}

/** The run command's status line: events/s produced (from the producer), anything down, then what the pipeline shows. */
export function formatStatusLine(producedPerSecond: number, s: PipelineStatus | undefined, heldEvents = 0): string {
  const parts = [`produced ${thousands(producedPerSecond)}/s`];
  // During an outage the line says what is down and what is held, so a rate of 0 explains itself.
  const services = s?.services ?? [];
  const down = services.filter((service) => !service.healthy);
  // "(restarting)" only when the supervisor is there to do it and the services are ours, not given ones.
  const restarting = services.some((service) => service.name === 'supervisor' && service.healthy) && down.every((service) => !service.external);
  if (down.length > 0) parts.push(`${down.map((service) => service.name).join(', ')} down${restarting ? ' (restarting)' : ''}`);
  if (heldEvents > 0) parts.push(`${thousands(heldEvents)} events held for the broker`);
  if (s?.topic) parts.push(`lag ${thousands(s.topic.lag)}`);
  if (s?.lake) {
    parts.push(`lake ${thousands(s.lake.eventRows)} events`);
    if (s.lake.freshnessSeconds !== null) parts.push(`freshness ${s.lake.freshnessSeconds.toFixed(1)}s`);
    parts.push(`quarantined ${thousands(s.lake.quarantinedRecords)}`);
  }
  return parts.join('  ');
}

/** `  restarted 2 times, last at <time>` (or why the last start failed); nothing for a service never restarted. */
export function formatRestarts(s: ServiceStatus): string {
  const last = s.lastRestart;
  if (!last) return '';
  const count = `restarted ${s.restarts ?? 0} time${s.restarts === 1 ? '' : 's'}`;
  return last.error ? `  ${count}; the last try at ${last.at} failed: ${last.error}` : `  ${count}, last at ${last.at}`;
}
