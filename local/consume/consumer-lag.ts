/** How far the consumer group is behind the topic: end offsets minus committed offsets, per partition. */
import { setTimeout as sleep } from 'node:timers/promises';
import { Admin } from '@platformatic/kafka';
import type { LocalConfig } from '../common/config.ts';
import { bootstrapServers } from '../services/kafka.ts';


export interface PartitionLag {
  readonly partition: number;
  readonly endOffset: number;
  readonly committedOffset: number;
  readonly lag: number;
}

export async function consumerLag(bootstrapServers: readonly string[], topic: string, partitions: number, groupId: string): Promise<PartitionLag[]> {
  const admin = new Admin({ clientId: 'clickstream-lag', bootstrapBrokers: [...bootstrapServers] });
  try {
    const indexes = Array.from({ length: partitions }, (_, i) => i);
    const [ends, groups] = await Promise.all([
      admin.listOffsets({ topics: [{ name: topic, partitions: indexes.map((partitionIndex) => ({ partitionIndex, timestamp: -1n })) }] }),
      admin.listConsumerGroupOffsets({ groups: [{ groupId, topics: [{ name: topic, partitionIndexes: indexes }] }] }),
    ]);
    const committed = new Map(groups[0]?.topics.find((t) => t.name === topic)?.partitions.map((p) => [p.partitionIndex, Number(p.committedOffset)]) ?? []);
    return (ends[0]?.partitions ?? []).map((p) => {
      // A group that never committed on a partition reports -1: it has everything still to read.
      const committedOffset = Math.max(0, committed.get(p.partitionIndex) ?? 0);
      const endOffset = Number(p.offset);
      return { partition: p.partitionIndex, endOffset, committedOffset, lag: Math.max(0, endOffset - committedOffset) };
    });
  } finally {
    await admin.close();
  }
}

/** The lag of the pipeline's own consumer group on its topic. */
export function pipelineLag(config: LocalConfig): Promise<PartitionLag[]> {
  return consumerLag([bootstrapServers(config)], config.topic, config.partitions, config.consumerGroup);
}

/** Polls until the pipeline's consumer has committed everything on the topic; false if the timeout passed or the wait was given up first. */
export async function waitForCaughtUp(config: LocalConfig, timeoutMs: number, giveUp?: AbortSignal): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const lag = await pipelineLag(config);
    if (lag.length === config.partitions && lag.every((p) => p.lag === 0)) return true;
    if (Date.now() > deadline || giveUp?.aborted) return false;
    await sleep(500, undefined, giveUp && { signal: giveUp }).catch(() => undefined);
  }
}

export interface GroupMember {
  readonly clientId: string;
  readonly clientHost: string;
}

/** The members of the pipeline's consumer group other than the runner (told apart by its member id). */
export async function otherGroupMembers(config: LocalConfig, runnerMemberId: string | undefined): Promise<GroupMember[]> {
  const admin = new Admin({ clientId: 'clickstream-status', bootstrapBrokers: [bootstrapServers(config)] });
  try {
    const groups = await admin.describeGroups({ groups: [config.consumerGroup] });
    const members = [...(groups.get(config.consumerGroup)?.members.values() ?? [])];
    return members.filter((m) => m.id !== runnerMemberId).map((m) => ({ clientId: m.clientId, clientHost: m.clientHost }));
  } finally {
    await admin.close();
  }
}

/**
 * The problem line when another client holds part of the pipeline's consumer group: the
 * group gave the runner fewer partitions than the topic has, so the rest go to that
 * client and their records never reach the lake. Undefined when the runner holds them all.
 */
export function takeoverProblem(group: string, partitions: number, assigned: readonly number[] | undefined, others: readonly GroupMember[]): string | undefined {
  if (assigned === undefined || assigned.length >= partitions) return undefined;
  const who = others.length > 0 ? others.map((m) => `${m.clientId} from ${m.clientHost.replace(/^\//, '')}`).join(', ') : 'another client';
  return `consumer group ${group}: ${who} joined it and holds ${partitions - assigned.length} of ${partitions} partitions, whose records skip the lake: stop that client, or give this pipeline its own CLICKSTREAM_CONSUMER_GROUP`;
}
