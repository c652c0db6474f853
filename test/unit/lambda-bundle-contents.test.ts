/**
 * What each Lambda bundle carries, read from esbuild's metafile for a build with the
 * real options (nothing is written). The consumer validates with code generated at
 * build time (lambdas/generate-code.ts), so it carries no Ajv. The simulator and the query API need only the
 * event's enums and limits (lambdas/common/event-enums.ts); one value import from the
 * schema or the decoder would pull TypeBox or Ajv back into them without any error,
 * only a larger bundle and a slower cold start. Sizes are measured in docs/benchmarks.md;
 * this checks the structure.
 */
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { beforeAll, describe, expect, it } from 'vitest';
import { LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRY_POINTS, type LambdaName } from '../../lambdas/bundle-options.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

const AJV = /(^|\/)node_modules\/ajv\//;
const TYPEBOX = /(^|\/)node_modules\/@sinclair\/typebox\//;
const VALIDATOR = /^lambdas\/common\/(validate-event|decode-event)\.ts$/;
const SCHEMA_BUILDER = /^lambdas\/common\/event-schema\.ts$/;
/** The build step that writes the generated code: it compiles the schema with Ajv, so no bundle may carry it. */
const VALIDATOR_BUILD = /^lambdas\/generate-code\.ts$/;
const GENERATED_VALIDATOR = /^lambdas\/common\/generated\/event-validator\.js$/;

const inputs: Partial<Record<LambdaName, Metafile['inputs']>> = {};

async function bundleInputs(name: LambdaName): Promise<Metafile['inputs']> {
  const result = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    absWorkingDir: ROOT,
    entryPoints: [LAMBDA_ENTRY_POINTS[name]],
    outfile: `dist/lambda-bundle-contents/${name}/index.mjs`,
    write: false,
    metafile: true,
  });
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
    for (const name of ['consumer', 'query-api', 'simulator'] as const) inputs[name] = await bundleInputs(name);
  }, 120_000);

  it('the consumer validates with the generated validator and takes its columns from the published schema: no Ajv, no TypeBox', () => {
    expect(files('consumer', VALIDATOR)).toHaveLength(2);
    expect(files('consumer', SCHEMA_BUILDER)).toEqual([]);
    expect(files('consumer', GENERATED_VALIDATOR)).toHaveLength(1);
    expect(files('consumer', AJV)).toEqual([]);
    expect(files('consumer', VALIDATOR_BUILD)).toEqual([]);
    // The lake columns come from the published JSON Schema, not the TypeBox definition.
    expect(files('consumer', TYPEBOX)).toEqual([]);
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
    // Its schema registry's Avro support is never used (no registry): avsc is replaced by a stub.
    expect(files('simulator', /(^|\/)node_modules\/avsc\//)).toEqual([]);
    expect(files('simulator', /^lambdas\/simulator\/avsc-not-bundled\.ts$/)).toHaveLength(1);
  });
});
