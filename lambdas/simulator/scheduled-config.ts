/**
 * The scheduled simulator's configuration: one typed object read from
 * `CLICKSTREAM_*` variables, which the CDK stack sets. Pure, so every bad value
 * is tested without AWS.
 */
import { HOST_PORT } from '../common/host-port.ts';

export type SimulatorIngest =
  | { readonly kind: 'kinesis'; readonly streamName: string }
  | {
      readonly kind: 'kafka';
      readonly topic: string;
      readonly bootstrapServers: readonly string[];
      /** `iam`: MSK IAM over SASL/OAUTHBEARER; `scram-sha-512`: a username/password secret; `none`: plaintext. */
      readonly auth: KafkaAuth;
      readonly tls: boolean;
      /** Create the topic when it is missing (MSK Serverless does not create topics on first write). */
      readonly createTopicPartitions?: number;
    };

export type KafkaAuth = { readonly kind: 'iam'; readonly region: string } | { readonly kind: 'scram-sha-512'; readonly secretArn: string } | { readonly kind: 'none' };

export interface ScheduledSimulatorConfig {
  readonly eventsPerMinute: number;
  readonly ingest: SimulatorIngest;
}

type Env = Readonly<Record<string, string | undefined>>;

/** A Lambda invocation has 15 minutes at most; a minute's events must be sent well inside one. */
export const MAX_EVENTS_PER_MINUTE = 600_000;

export function loadScheduledSimulatorConfig(env: Env): ScheduledSimulatorConfig {
  const eventsPerMinute = Number(required(env, 'CLICKSTREAM_EVENTS_PER_MINUTE'));
  if (!Number.isInteger(eventsPerMinute) || eventsPerMinute < 1 || eventsPerMinute > MAX_EVENTS_PER_MINUTE) {
    throw new Error(`CLICKSTREAM_EVENTS_PER_MINUTE must be a whole number from 1 to ${MAX_EVENTS_PER_MINUTE}, got "${env.CLICKSTREAM_EVENTS_PER_MINUTE}"`);
  }
  const kind = required(env, 'CLICKSTREAM_INGEST');
  if (kind === 'kinesis') return { eventsPerMinute, ingest: { kind, streamName: required(env, 'CLICKSTREAM_STREAM_NAME') } };
  if (kind !== 'kafka') throw new Error(`CLICKSTREAM_INGEST must be kafka or kinesis, got "${kind}"`);

  const bootstrapServers = required(env, 'CLICKSTREAM_BOOTSTRAP_SERVERS')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s !== '');
  const badServer = bootstrapServers.find((s) => !HOST_PORT.test(s));
  if (badServer !== undefined) throw new Error(`CLICKSTREAM_BOOTSTRAP_SERVERS must be host:port pairs separated by commas, got "${badServer}"`);
  const partitionsText = env.CLICKSTREAM_CREATE_TOPIC_PARTITIONS;
  const partitions = partitionsText ? Number(partitionsText) : undefined;
  if (partitions !== undefined && (!Number.isInteger(partitions) || partitions < 1)) {
    throw new Error(`CLICKSTREAM_CREATE_TOPIC_PARTITIONS must be a whole number above zero, got "${partitionsText}"`);
  }
  return {
    eventsPerMinute,
    ingest: {
      kind,
      topic: required(env, 'CLICKSTREAM_TOPIC'),
      bootstrapServers,
      auth: kafkaAuth(env),
      tls: env.CLICKSTREAM_KAFKA_TLS !== 'false',
      ...(partitions !== undefined && { createTopicPartitions: partitions }),
    },
  };
}

function kafkaAuth(env: Env): KafkaAuth {
  const auth = env.CLICKSTREAM_KAFKA_AUTH ?? 'none';
  switch (auth) {
    case 'iam':
      return { kind: 'iam', region: required(env, 'AWS_REGION') };
    case 'scram-sha-512':
      return { kind: 'scram-sha-512', secretArn: required(env, 'CLICKSTREAM_KAFKA_SECRET_ARN') };
    case 'none':
      return { kind: 'none' };
    default:
      throw new Error(`CLICKSTREAM_KAFKA_AUTH must be iam, scram-sha-512 or none, got "${auth}"`);
  }
}

function required(env: Env, key: string): string {
  const value = env[key];
  if (value === undefined || value === '') throw new Error(`${key} is not set: the scheduled simulator needs it (the CDK stack sets it)`);
  return value;
}
