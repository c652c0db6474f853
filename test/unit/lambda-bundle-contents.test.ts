/**
 * What each Lambda bundle carries, read from esbuild's metafile for a build with the
 * real options (nothing is written). The consumer validates with code generated at
 * build time (lambdas/generate-code.ts), so it carries no Ajv. The simulator and the query API need only the
 * event's enums and limits (lambdas/common/event-enums.ts); one value import from the
 * schema or the decoder would pull TypeBox or Ajv back into them without any error,
 * only a larger bundle and a slower cold start. Sizes are measured in docs/benchmarks.md
 * (`clickstream bench --only handler`); this checks the structure and the size goals, which
 * are deterministic: what a cold start loads (index.mjs and the chunks it imports
 * statically) and, for the simulator, what each ingest's path loads in all.
 */
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { lambdaBuildOptions, type LambdaName } from '../../lambdas/bundle-options.ts';
import { lambdaBundleSize, type BundleSize } from '../../local/bench/bundle-sizes.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const AJV = /(^|\/)node_modules\/ajv\//;
const TYPEBOX = /(^|\/)node_modules\/@sinclair\/typebox\//;
const VALIDATOR = /^lambdas\/common\/(validate-event|decode-event)\.ts$/;
const SCHEMA_BUILDER = /^lambdas\/common\/event-schema\.ts$/;
/** The build step that writes the generated code: it compiles the schema with Ajv, so no bundle may carry it. */
const VALIDATOR_BUILD = /^lambdas\/generate-code\.ts$/;
const GENERATED_VALIDATOR = /^lambdas\/common\/generated\/event-validator\.js$/;

const inputs: Partial<Record<LambdaName, Metafile['inputs']>> = {};
const sizes: Partial<Record<LambdaName, BundleSize>> = {};
const KiB = 1024;

async function bundleInputs(name: LambdaName): Promise<Metafile['inputs']> {
  const result = await build({ ...lambdaBuildOptions(name, ROOT, `dist/lambda-bundle-contents/${name}`), write: false, metafile: true });
  return result.metafile.inputs;
}

const files = (name: LambdaName, pattern: RegExp) => Object.keys(inputs[name] ?? {}).filter((f) => pattern.test(f));

/** Files outside `pattern` that import a file inside it: who pulls the package in. */
const importers = (name: LambdaName, pattern: RegExp) =>
  Object.entries(inputs[name] ?? {})
    .filter(([file, input]) => !pattern.test(file) && input.imports.some((i) => pattern.test(i.path)))
    .map(([file]) => file);

describe('Lambda bundle contents', () => {
  beforeAll(async () => {
    for (const name of ['collector', 'compactor', 'consumer', 'query-api', 'simulator'] as const) {
      inputs[name] = await bundleInputs(name);
      sizes[name] = await lambdaBundleSize(name);
    }
  }, 120_000);

  it('the SDK credential chain beyond the environment (SSO, STS, web identity, containers) is a lazy chunk, not loaded at cold start', () => {
    const size = sizes['query-api']!;
    expect(size.topPackages.map((p) => p.name)).not.toContain('@aws-sdk/nested-clients');
    expect(size.lazyBytes).toBeGreaterThan(100 * KiB);
  });

  it('the consumer, the compactor and the query API reach S3 through the project\'s transport, and the consumer carries no AWS SDK at all', () => {
    // The cold-import goal (at most 60 ms of CPU over a bare Node start, docs/benchmarks.md) rests on this:
    // importing the SDK's S3 client alone took 67-84 ms. Timed by `clickstream bench --only handler`, not here.
    for (const name of ['consumer', 'compactor', 'query-api'] as const) {
      expect(files(name, /(^|\/)node_modules\/@aws-sdk\/client-s3\//), name).toEqual([]);
      expect(files(name, /^lambdas\/common\/s3-transport\.ts$/), name).toHaveLength(1);
    }
    expect(files('consumer', /(^|\/)node_modules\/@(aws-sdk|smithy|aws-crypto)\//)).toEqual([]);
    expect(sizes.consumer!.lazyBytes).toBe(0);
  });

  it('meets the size goals: query API at most 400 KiB at cold start, simulator at most 600 KiB on every ingest path (Kinesis, Kafka, MSK IAM, SCRAM)', () => {
    expect(sizes['query-api']!.bytes).toBeLessThanOrEqual(400 * KiB);
    const simulator = sizes.simulator!;
    expect(simulator.paths.map((p) => p.module).sort()).toEqual([
      'lambdas/ingest/kafka-sender.ts',
      'lambdas/ingest/kafka-sender.ts > lambdas/ingest/msk-iam-token.ts',
      'lambdas/ingest/kafka-sender.ts > lambdas/ingest/secret-string.ts',
      'lambdas/ingest/kinesis-producer.ts',
    ]);
    // Kafka with SCRAM reads its secret with the project's signed request, not the SDK's client (707 KiB in all with it).
    for (const path of simulator.paths) expect(path.bytes, path.module).toBeLessThanOrEqual(600 * KiB);
    // The consumer has no size goal of its own; this catches a regression (531 KiB before the split,
    // 443 KiB with the SDK's S3 client, 122 KiB without it).
    expect(sizes.consumer!.bytes).toBeLessThanOrEqual(160 * KiB);
  });

  it('the consumer validates with the generated validator and takes its columns from the published schema: no Ajv, no TypeBox', () => {
    expect(files('consumer', VALIDATOR)).toHaveLength(2);
    expect(files('consumer', SCHEMA_BUILDER)).toEqual([]);
    expect(files('consumer', GENERATED_VALIDATOR)).toHaveLength(1);
    expect(files('consumer', AJV)).toEqual([]);
    expect(files('consumer', VALIDATOR_BUILD)).toEqual([]);
    // The lake columns come from the published JSON Schema, not the TypeBox definition.
    expect(files('consumer', TYPEBOX)).toEqual([]);
  });

  it('the collector validates with the generated validator, carries no TypeBox or Ajv compiler, and loads each stream client only on its path', () => {
    expect(files('collector', GENERATED_VALIDATOR)).toHaveLength(1);
    expect(files('collector', SCHEMA_BUILDER)).toEqual([]);
    expect(files('collector', TYPEBOX)).toEqual([]);
    expect(importers('collector', AJV)).toEqual(['node_modules/@platformatic/kafka/dist/utils.js']);
    expect(sizes.collector!.paths.map((p) => p.module).sort()).toEqual([
      'lambdas/ingest/kafka-sender.ts',
      'lambdas/ingest/kafka-sender.ts > lambdas/ingest/msk-iam-token.ts',
      'lambdas/ingest/kafka-sender.ts > lambdas/ingest/secret-string.ts',
      'lambdas/ingest/kinesis-producer.ts',
    ]);
  });

  it('the query API carries neither TypeBox nor Ajv nor the event schema', () => {
    expect(files('query-api', VALIDATOR)).toEqual([]);
    expect(files('query-api', SCHEMA_BUILDER)).toEqual([]);
    expect(files('query-api', TYPEBOX)).toEqual([]);
    expect(files('query-api', AJV)).toEqual([]);
  });

  it('the simulator carries neither TypeBox nor the event schema, and Ajv only for the Kafka client', () => {
    expect(files('simulator', VALIDATOR)).toEqual([]);
    expect(files('simulator', SCHEMA_BUILDER)).toEqual([]);
    expect(files('simulator', TYPEBOX)).toEqual([]);
    // @platformatic/kafka validates its own options with Ajv; nothing of ours may import it.
    expect(importers('simulator', AJV)).toEqual(['node_modules/@platformatic/kafka/dist/utils.js']);
    // The Kafka client is loaded only on the Kafka path (a Kinesis deployment never loads it).
    expect(importers('simulator', /(^|\/)node_modules\/@platformatic\/kafka\//).filter((f) => f.startsWith('lambdas/'))).toEqual(['lambdas/common/event-producer.ts', 'lambdas/ingest/kafka-sender.ts']);
    expect(inputs.simulator!['lambdas/ingest/stream-sender.ts']!.imports.filter((i) => i.kind === 'dynamic-import').map((i) => i.path).sort()).toEqual([
      'lambdas/ingest/kafka-sender.ts',
      'lambdas/ingest/kinesis-producer.ts',
    ]);
    // MSK IAM tokens are signed by lambdas/ingest/msk-iam-token.ts: not AWS's signer package, which brings an STS client.
    expect(files('simulator', /(^|\/)node_modules\/(aws-msk-iam-sasl-signer-js|@aws-sdk\/client-sts)\//)).toEqual([]);
    // Its schema registry's Avro support is never used (no registry): avsc is replaced by a stub.
    expect(files('simulator', /(^|\/)node_modules\/avsc\//)).toEqual([]);
    expect(files('simulator', /^lambdas\/ingest\/avsc-not-bundled\.ts$/)).toHaveLength(1);
  });
});
