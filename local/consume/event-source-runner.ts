/**
 * A laptop stand-in for Lambda's Kafka event source mapping: a consumer group on
 * the real broker, batches cut by size, window and the 6 MB payload cap, the
 * exact MSK event shape, offsets committed only after the handler succeeded,
 * retries with backoff, and after the last attempt the batch's metadata goes to
 * an on-failure destination (an object in the lake bucket, as Lambda's S3
 * destination writes) before the batch is skipped. A lost broker connection is
 * never fatal: the runner drops its client and joins the group again with
 * bounded backoff, for as long as the outage lasts, keeping what it holds.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import { Consumer, type Message, type MessagesStream } from '@platformatic/kafka';
import type { KafkaEvent, KafkaEventRecord } from '../../lambdas/consumer/kafka-event.ts';
import { backoffMs } from '../common/backoff.ts';

/** Lambda's limit on an invocation payload. */
export const MAX_PAYLOAD_BYTES = 6 * 1024 * 1024;

type KafkaMessage = Message<Buffer, Buffer, Buffer, Buffer>;

export type Handler = (event: KafkaEvent) => Promise<unknown>;

export interface OnFailureDestination {
  /** Stores the metadata of a batch that failed every attempt. */
  write(key: string, body: string): Promise<void>;
}

export interface EventSourceRunnerOptions {
  readonly bootstrapServers: readonly string[];
  readonly topic: string;
  /** The consumer group whose committed offsets are the runner's position. */
  readonly groupId: string;
  /** Records per invocation at most. @default 10_000 */
  readonly batchSize?: number;
  /** How long to gather records before invoking with fewer than a full batch. @default 1 */
  readonly batchingWindowSeconds?: number;
  /**
   * Attempts per batch before its metadata goes to the on-failure destination and
   * the batch is skipped. @default unlimited: the partition waits until the batch
   * is written, as the cloud's Kafka mappings do (nothing acknowledged is lost)
   */
  readonly maxAttempts?: number;
  /** First retry delay; doubles each attempt, capped at 30 s. @default 500 */
  readonly retryBaseDelayMs?: number;
  readonly handler: Handler;
  readonly onFailure: OnFailureDestination;
  readonly log?: (entry: Record<string, unknown>) => void;
  /** First delay before joining the group again after the connection was lost; doubles, capped at 5 s. @default 500 */
  readonly reconnectBaseDelayMs?: number;
}

export interface RunnerStats {
  batches: number;
  records: number;
  failedAttempts: number;
  sentToOnFailure: number;
  /** Times the client was replaced after the broker connection was lost. */
  reconnects: number;
  /** Whether the runner has a live consumer in the group (false while it reconnects). */
  connected: boolean;
}

/** The partitions of a topic that the group gave this runner: fewer than the topic has means another member took the rest. */
export function assignedPartitions(assignments: readonly { topic: string; partitions: readonly number[] }[] | null | undefined, topic: string): number[] | undefined {
  if (!assignments) return undefined;
  return [...(assignments.find((a) => a.topic === topic)?.partitions ?? [])].sort((a, b) => a - b);
}

interface Pending {
  readonly message: KafkaMessage;
  readonly bytes: number;
}

export class EventSourceRunner {
  readonly stats: RunnerStats = { batches: 0, records: 0, failedAttempts: 0, sentToOnFailure: 0, reconnects: 0, connected: false };
  private consumer: Consumer<Buffer, Buffer, Buffer, Buffer> | undefined;
  private reconnecting: Promise<void> | undefined;
  private stream: MessagesStream<Buffer, Buffer, Buffer, Buffer> | undefined;
  private readonly pending: Pending[] = [];
  private pendingBytes = 0;
  /** Per partition, the offset after the last record taken in: anything below it is a re-fetch. */
  private readonly nextOffset = new Map<number, bigint>();
  private windowTimer: NodeJS.Timeout | undefined;
  private flushing: Promise<void> | undefined;
  private readonly stopped = new AbortController();
  private readonly batchSize: number;
  private readonly windowMs: number;
  private readonly maxAttempts: number;
  private readonly retryBaseDelayMs: number;
  private readonly log: (entry: Record<string, unknown>) => void;

  constructor(private readonly options: EventSourceRunnerOptions) {
    this.batchSize = options.batchSize ?? 10_000;
    this.windowMs = (options.batchingWindowSeconds ?? 1) * 1000;
    this.maxAttempts = options.maxAttempts ?? Infinity;
    this.retryBaseDelayMs = options.retryBaseDelayMs ?? 500;
    if (!(this.batchSize >= 1 && this.batchSize <= 10_000)) throw new RangeError(`batchSize must be from 1 to 10000, got ${this.batchSize}`);
    if (!(this.windowMs >= 0 && this.windowMs <= 300_000)) throw new RangeError(`batchingWindowSeconds must be from 0 to 300, got ${this.windowMs / 1000}`);
    if (!(this.maxAttempts >= 1)) throw new RangeError(`maxAttempts must be at least 1, got ${this.maxAttempts}`);
    this.log = options.log ?? (() => undefined);
  }

  /** The partitions the group assigned to this runner now; undefined while it is not in the group. */
  get assignment(): number[] | undefined {
    return this.stats.connected ? assignedPartitions(this.consumer?.assignments, this.options.topic) : undefined;
  }

  /** This runner's member id in the group, to tell it from other members. */
  get memberId(): string | undefined {
    return this.stats.connected ? (this.consumer?.memberId ?? undefined) : undefined;
  }

  private get stopping(): boolean {
    return this.stopped.signal.aborted;
  }

  /** Joins the group and starts fetching; fails only if the very first join fails (the caller reports it). */
  async start(): Promise<void> {
    await this.connect();
  }

  /** Stops fetching, finishes the batch in hand (committing it if it succeeds) and leaves the group. */
  async stop(): Promise<void> {
    this.stopped.abort();
    this.stream?.pause();
    clearTimeout(this.windowTimer);
    await this.reconnecting;
    if (this.flushing) await this.flushing;
    if (this.consumer) await closeConsumer(this.consumer);
    this.stats.connected = false;
  }

  /** A new client, a group join and a stream from the committed offsets. */
  private async connect(): Promise<void> {
    const consumer = new Consumer<Buffer, Buffer, Buffer, Buffer>({
      clientId: 'clickstream-event-source-runner',
      groupId: this.options.groupId,
      bootstrapBrokers: [...this.options.bootstrapServers],
      // A runner that died is noticed within 10 s, so a restarted one gets its partitions back quickly.
      sessionTimeout: 10_000,
      heartbeatInterval: 1_000,
      // The client's own retries ride out a broker restart of a few seconds; anything longer
      // ends in an error, and the runner replaces the client (see connectionLost).
      retries: 10,
      retryDelay: 500,
    });
    // The client emits 'error' when a rejoin fails for good; unheard, that would end the process.
    consumer.on('error', (error: Error) => this.connectionLost(consumer, error));
    let stream: MessagesStream<Buffer, Buffer, Buffer, Buffer>;
    try {
      stream = await consumer.consume({ topics: [this.options.topic], mode: 'committed', fallbackMode: 'earliest', autocommit: false, maxWaitTime: 500 });
    } catch (error) {
      await closeConsumer(consumer);
      throw error;
    }
    this.consumer = consumer;
    this.stream = stream;
    this.stats.connected = true;
    // Records a replaced stream still delivers are dropped: the new one fetches them again.
    stream.on('data', (message: KafkaMessage) => {
      if (stream === this.stream) this.accept(message);
    });
    stream.on('error', (error: Error) => this.connectionLost(consumer, error));
    if (this.overfull) stream.pause();
  }

  /** The first report of a lost connection starts one reconnect loop; later reports of the same client are ignored. */
  private connectionLost(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>, error: Error): void {
    if (consumer !== this.consumer || this.reconnecting || this.stopping) return;
    this.log({ level: 'WARN', message: 'broker connection lost; joining the group again', error: error.message.split('\n')[0] });
    this.stats.connected = false;
    this.reconnecting = this.reconnect(consumer).finally(() => (this.reconnecting = undefined));
  }

  /**
   * Replaces the client until a new one has joined, with bounded backoff, for as long as it
   * takes. What the runner holds stays: records already taken in are skipped when the new
   * stream delivers them again, and a batch in hand commits through the new client.
   */
  private async reconnect(lost: Consumer<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
    this.stream = undefined;
    await closeConsumer(lost);
    const base = this.options.reconnectBaseDelayMs ?? 500;
    for (let attempt = 1; !this.stopping; attempt++) {
      // Capped at 5 s, not 30: a try costs one refused local connection, and a low cap means the
      // runner is back within seconds of the broker, however long the outage was.
      await sleep(backoffMs(attempt, base, 5_000), undefined, { signal: this.stopped.signal }).catch(() => undefined);
      if (this.stopping) return;
      try {
        await this.connect();
        this.stats.reconnects++;
        this.log({ level: 'INFO', message: 'rejoined the group', attempt });
        return;
      } catch (error) {
        this.log({ level: 'WARN', message: 'broker still unreachable; retrying', attempt, error: (error as Error).message.split('\n')[0] });
      }
    }
  }

  /** Two batches' worth waiting: fetching pauses until the batch in hand is written. */
  private get overfull(): boolean {
    return this.pending.length >= 2 * this.batchSize || this.pendingBytes >= 2 * MAX_PAYLOAD_BYTES;
  }

  private accept(message: KafkaMessage): void {
    // After a group rejoin the client fetches again from the committed offsets; records
    // this runner already holds or is writing are skipped, so a batch never repeats one.
    const expected = this.nextOffset.get(message.partition);
    if (expected !== undefined && message.offset < expected) return;
    this.nextOffset.set(message.partition, message.offset + 1n);

    const bytes = recordBytes(message);
    this.pending.push({ message, bytes });
    this.pendingBytes += bytes;
    // Backpressure: while a batch is retried (storage down), stop fetching rather than buffer without bound.
    if (this.overfull) this.stream?.pause();
    if (this.pending.length >= this.batchSize || this.pendingBytes >= MAX_PAYLOAD_BYTES) {
      this.scheduleFlush(0);
    } else if (!this.windowTimer) {
      this.scheduleFlush(this.windowMs);
    }
  }

  private scheduleFlush(delayMs: number): void {
    clearTimeout(this.windowTimer);
    this.windowTimer = setTimeout(() => {
      this.windowTimer = undefined;
      if (!this.flushing) this.flushing = this.flushLoop().finally(() => (this.flushing = undefined));
    }, delayMs);
  }

  /** Invokes batch after batch while records are waiting. */
  private async flushLoop(): Promise<void> {
    while (this.pending.length > 0 && !this.stopping) {
      await this.invokeUntilDone(this.takeBatch());
      if (this.stopping) return;
      if (this.pending.length < this.batchSize && this.pendingBytes < MAX_PAYLOAD_BYTES) {
        this.stream?.resume();
        // A partial batch waits for its window like any other.
        if (this.pending.length > 0) this.scheduleFlush(this.windowMs);
        return;
      }
    }
  }

  /** Up to batchSize records and at most the payload cap (a single larger record still goes alone). */
  private takeBatch(): Pending[] {
    let bytes = 0;
    let count = 0;
    for (const p of this.pending) {
      if (count >= this.batchSize || (count > 0 && bytes + p.bytes > MAX_PAYLOAD_BYTES)) break;
      bytes += p.bytes;
      count++;
    }
    this.pendingBytes -= bytes;
    return this.pending.splice(0, count);
  }

  private async invokeUntilDone(batch: Pending[]): Promise<void> {
    const messages = batch.map((p) => p.message);
    const event = toKafkaEvent(messages, this.options.bootstrapServers);
    for (let attempt = 1; ; attempt++) {
      try {
        await this.options.handler(event);
        this.stats.batches++;
        this.stats.records += batch.length;
        await this.commit(messages);
        return;
      } catch (error) {
        this.stats.failedAttempts++;
        const reason = error instanceof Error ? error.message : String(error);
        this.log({ level: 'WARN', message: 'batch failed', attempt, records: batch.length, error: reason });
        if (attempt >= this.maxAttempts && (await this.sendToOnFailure(event, batch.length, attempt, reason))) {
          await this.commit(messages);
          return;
        }
        if (this.stopping) return; // not committed: the next start delivers it again
        await sleep(backoffMs(attempt, this.retryBaseDelayMs, 30_000), undefined, { signal: this.stopped.signal }).catch(() => undefined);
      }
    }
  }

  /** Lambda-style failure record: where the batch was, not its payload. True if it was stored. */
  private async sendToOnFailure(event: KafkaEvent, records: number, attempts: number, reason: string): Promise<boolean> {
    const partitions = Object.entries(event.records).map(([group, list]) => ({
      topicPartition: group,
      firstOffset: list[0]!.offset,
      lastOffset: list[list.length - 1]!.offset,
      records: list.length,
    }));
    const first = partitions[0]!;
    const body = JSON.stringify({
      requestContext: { condition: 'RetryAttemptsExhausted', approximateInvokeCount: attempts },
      responseContext: { functionError: 'Unhandled' },
      reason,
      timestamp: new Date().toISOString(),
      KafkaBatchInfo: partitions,
    });
    try {
      await this.options.onFailure.write(`on-failure/${first.topicPartition}-o${first.firstOffset}-${Date.now()}.json`, body);
      this.stats.sentToOnFailure += records;
      this.log({ level: 'ERROR', message: 'batch sent to the on-failure destination', partitions });
      return true;
    } catch (error) {
      this.log({ level: 'ERROR', message: 'on-failure destination unreachable; retrying the batch', error: (error as Error).message });
      return false;
    }
  }

  /**
   * Commits, per partition, the offset after the highest record of the batch, through the
   * client of the moment (the one that fetched the batch may have been replaced). Retried on
   * its own: the batch has landed, so a commit failure must not re-run the handler. If it
   * never succeeds (stop), the batch is delivered again and its keys overwrite themselves.
   */
  private async commit(messages: readonly KafkaMessage[]): Promise<void> {
    const offsets = commitOffsets(messages);
    for (let attempt = 1; !this.stopping || attempt === 1; attempt++) {
      try {
        if (!this.consumer || this.reconnecting) throw new Error('not connected to the broker');
        await this.consumer.commit({ offsets });
        return;
      } catch (error) {
        this.log({ level: 'WARN', message: 'offset commit failed', attempt, error: (error as Error).message.split('\n')[0] });
        await sleep(backoffMs(attempt, 200, 5_000), undefined, { signal: this.stopped.signal }).catch(() => undefined);
      }
    }
  }
}

/** Per partition, the offset after the highest record: what Kafka stores as the group's position. */
export function commitOffsets(messages: readonly Pick<KafkaMessage, 'topic' | 'partition' | 'offset'>[]): { topic: string; partition: number; offset: bigint; leaderEpoch: number }[] {
  const highest = new Map<string, { topic: string; partition: number; offset: bigint }>();
  for (const m of messages) {
    const key = `${m.topic}\0${m.partition}`;
    if (m.offset >= (highest.get(key)?.offset ?? -1n)) highest.set(key, { topic: m.topic, partition: m.partition, offset: m.offset });
  }
  // -1: the leader epoch is unknown to the runner, which Kafka accepts for a commit.
  return [...highest.values()].map((m) => ({ ...m, offset: m.offset + 1n, leaderEpoch: -1 }));
}

/** Closes a client, giving up after 10 s: a client whose broker is gone must not hold a stop or a reconnect. */
async function closeConsumer(consumer: Consumer<Buffer, Buffer, Buffer, Buffer>): Promise<void> {
  // Without a callback close() returns a promise, but its first overload is typed void.
  const closed = new Promise<void>((resolve) => consumer.close(true, () => resolve()));
  await Promise.race([closed, sleep(10_000, undefined, { ref: false })]);
}

function recordBytes(message: KafkaMessage): number {
  let headers = 0;
  for (const [k, v] of message.headers) headers += (k?.length ?? 0) + 4 * (v?.length ?? 0) + 8;
  // Base64 grows key and value by a third; headers go as arrays of numbers (about 4 bytes a byte);
  // topic, partition, offset, timestamps and JSON punctuation add about 150 bytes.
  return Math.ceil(((message.value?.length ?? 0) + (message.key?.length ?? 0)) * (4 / 3)) + headers + message.topic.length + 150;
}

/** The event exactly as Lambda builds it for a self-managed Kafka / MSK source. */
export function toKafkaEvent(messages: readonly KafkaMessage[], bootstrapServers: readonly string[]): KafkaEvent {
  const records: Record<string, KafkaEventRecord[]> = {};
  for (const m of messages) {
    const group = `${m.topic}-${m.partition}`;
    (records[group] ??= []).push({
      topic: m.topic,
      partition: m.partition,
      offset: Number(m.offset),
      timestamp: Number(m.timestamp),
      timestampType: 'CREATE_TIME',
      key: m.key && m.key.length > 0 ? m.key.toString('base64') : null,
      value: m.value ? m.value.toString('base64') : null,
      // Kafka allows a header without a value; Lambda sends it as an empty list.
      headers: [...m.headers.entries()].map(([k, v]) => ({ [k?.toString() ?? '']: v ? [...v] : [] })),
    });
  }
  return { eventSource: 'SelfManagedKafka', bootstrapServers: bootstrapServers.join(','), records };
}
