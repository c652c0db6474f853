/**
 * Which stream a producing Lambda (the scheduled simulator, the collector) writes to:
 * one typed object read from `CLICKSTREAM_*` variables, which the CDK stack sets from
 * the ingest (lib/ingest/ingest.ts `producerEnvironment`). Pure, so every bad value is
 * tested without AWS.
 */
import { HOST_PORT } from '../common/host-port.ts';

export type StreamIngest =
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

export type Env = Readonly<Record<string, string | undefined>>;

/** `who` names the Lambda in the error, e.g. "the scheduled simulator". */
export function loadStreamIngest(env: Env, who: string): StreamIngest {
  const required = (key: string) => requiredVariable(env, key, who);
  const kind = required('CLICKSTREAM_INGEST');
  if (kind === 'kinesis') return { kind, streamName: required('CLICKSTREAM_STREAM_NAME') };
  if (kind !== 'kafka') throw new Error(`CLICKSTREAM_INGEST must be kafka or kinesis, got "${kind}"`);

  const bootstrapServers = required('CLICKSTREAM_BOOTSTRAP_SERVERS')
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
    kind,
    topic: required('CLICKSTREAM_TOPIC'),
    bootstrapServers,
    auth: kafkaAuth(env, required),
    tls: env.CLICKSTREAM_KAFKA_TLS !== 'false',
    ...(partitions !== undefined && { createTopicPartitions: partitions }),
  };
}

function kafkaAuth(env: Env, required: (key: string) => string): KafkaAuth {
  const auth = env.CLICKSTREAM_KAFKA_AUTH ?? 'none';
  switch (auth) {
    case 'iam':
      return { kind: 'iam', region: required('AWS_REGION') };
    case 'scram-sha-512':
      return { kind: 'scram-sha-512', secretArn: required('CLICKSTREAM_KAFKA_SECRET_ARN') };
    case 'none':
      return { kind: 'none' };
    default:
      throw new Error(`CLICKSTREAM_KAFKA_AUTH must be iam, scram-sha-512 or none, got "${auth}"`);
  }
}

export function requiredVariable(env: Env, key: string, who: string): string {
  const value = env[key];
  if (value === undefined || value === '') throw new Error(`${key} is not set: ${who} needs it (the CDK stack sets it)`);
  return value;
}
