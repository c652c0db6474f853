/**
 * Stack props from `-c key=value` context, so `npx cdk synth -c ingest=kinesis`
 * works without editing code. Every value is checked with a one-line error.
 */
import type { ClickstreamStackProps } from './clickstream-stack.ts';
import { INGEST_KINDS, type IngestKind } from './ingest/ingest.ts';

export type ContextReader = (key: string) => unknown;

export function stackPropsFromContext(read: ContextReader): ClickstreamStackProps {
  const text = (key: string): string | undefined => {
    const value = read(key);
    if (value === undefined || value === null || value === '') return undefined;
    if (typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') throw new Error(`-c ${key} must be a plain value, got ${JSON.stringify(value)}`);
    return String(value);
  };
  const list = (key: string) => text(key)?.split(',').map((s) => s.trim()).filter((s) => s !== '') ?? [];
  const int = (key: string): number | undefined => {
    const value = text(key);
    if (value === undefined) return undefined;
    if (!/^\d+$/.test(value)) throw new Error(`-c ${key} must be a whole number, got "${value}"`);
    return Number(value);
  };

  const ingest = text('ingest') ?? 'msk-serverless';
  if (!(INGEST_KINDS as readonly string[]).includes(ingest)) throw new Error(`-c ingest must be one of ${INGEST_KINDS.join(', ')}, got "${ingest}"`);
  const simulator = text('simulator') ?? 'on';
  if (simulator !== 'on' && simulator !== 'off') throw new Error(`-c simulator must be on or off, got "${simulator}"`);

  const localstack = text('localstack') ?? 'false';
  if (localstack !== 'true' && localstack !== 'false') throw new Error(`-c localstack must be true or false, got "${localstack}"`);
  if (localstack === 'true' && ingest !== 'kinesis') throw new Error(`-c localstack=true needs -c ingest=kinesis (LocalStack Community runs no MSK and no Kafka event source mapping), got "${ingest}"`);

  const props: ClickstreamStackProps = {
    ingest: ingest as IngestKind,
    simulatorEnabled: simulator === 'on',
    // LocalStack Community runs no Glue, Athena or CloudFront (nor the Lambda layer BucketDeployment uses).
    ...(localstack === 'true' && { queryLayer: false }),
  };
  const eventsPerMinute = int('eventsPerMinute');
  const batchSize = int('batchSize');
  const batchingWindowSeconds = int('batchingWindowSeconds');
  const vpcId = text('kafkaVpcId');
  const securityGroupId = text('kafkaSecurityGroupId');
  const subnetIds = list('kafkaSubnetIds');
  // All three or none: a partial network would silently put the mapping outside the VPC.
  const networkKeys = { kafkaVpcId: vpcId, kafkaSubnetIds: subnetIds.length > 0 ? subnetIds : undefined, kafkaSecurityGroupId: securityGroupId };
  const missing = Object.entries(networkKeys).filter(([, v]) => v === undefined).map(([k]) => k);
  if (missing.length > 0 && missing.length < Object.keys(networkKeys).length) {
    throw new Error(`-c kafkaVpcId, kafkaSubnetIds and kafkaSecurityGroupId go together: add ${missing.map((k) => `-c ${k}=…`).join(' and ')}, or pass none of them`);
  }
  const tls = text('kafkaTls');
  if (tls !== undefined && tls !== 'true' && tls !== 'false') throw new Error(`-c kafkaTls must be true or false, got "${tls}"`);
  // How the hosted dashboard reads hours not compacted yet: folded (a minute behind, cheaper) or raw (seconds behind).
  const openHours = text('openHours');
  if (openHours !== undefined && openHours !== 'folded' && openHours !== 'raw') throw new Error(`-c openHours must be folded or raw, got "${openHours}"`);
  return {
    ...props,
    ...(openHours !== undefined && { compactor: { foldOpenHours: openHours === 'folded' } }),
    ...(eventsPerMinute !== undefined && { simulator: { eventsPerMinute } }),
    ...((batchSize !== undefined || batchingWindowSeconds !== undefined) && { consumer: { batchSize, batchingWindowSeconds } }),
    ...(ingest === 'kafka' && {
      kafka: {
        bootstrapServers: list('kafkaBootstrapServers'),
        ...(text('kafkaAuthSecretArn') && { authSecretArn: text('kafkaAuthSecretArn') }),
        ...(tls !== undefined && { tls: tls === 'true' }),
        ...(vpcId && securityGroupId && { network: { vpcId, securityGroupId, subnetIds } }),
      },
    }),
  };
}
