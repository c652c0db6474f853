/**
 * Synthesizes each ingest variant once per test file (bundling takes seconds)
 * with cdk-nag's AwsSolutions checks attached, and shares the result.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { App, Validations } from 'aws-cdk-lib';
import { Template } from 'aws-cdk-lib/assertions';
import { AwsSolutionsChecks } from 'cdk-nag';
import { afterAll } from 'vitest';
import { ClickstreamStack, type ClickstreamStackProps } from '../../lib/clickstream-stack.ts';

export const KAFKA_PROPS: ClickstreamStackProps = {
  ingest: 'kafka',
  kafka: {
    bootstrapServers: ['b-1.redpanda.internal:9092', 'b-2.redpanda.internal:9092'],
    authSecretArn: 'arn:aws:secretsmanager:us-east-1:123456789012:secret:redpanda-AbCdEf',
    network: { vpcId: 'vpc-0123456789abcdef0', subnetIds: ['subnet-0123456789abcdef0', 'subnet-0123456789abcdef1'], securityGroupId: 'sg-0123456789abcdef0' },
  },
};

export const VARIANTS = {
  'msk-serverless': { ingest: 'msk-serverless' },
  kafka: KAFKA_PROPS,
  kinesis: { ingest: 'kinesis' },
} as const satisfies Record<string, ClickstreamStackProps>;

export type Variant = keyof typeof VARIANTS;

export interface Synthesized {
  readonly stack: ClickstreamStack;
  readonly template: Template;
  /** The template file as cdk synth writes it. */
  readonly templatePath: string;
  /** Unacknowledged cdk-nag findings (rule id and construct path); empty when clean. */
  readonly nagFindings: readonly string[];
}

/** The feature flags the CLI passes from cdk.json, so tests synthesize what `cdk synth` does. */
export const CDK_JSON_CONTEXT = (JSON.parse(readFileSync(new URL('../../cdk.json', import.meta.url), 'utf8')) as { context: Record<string, unknown> }).context;

const cache = new Map<Variant, Synthesized>();
const outdirs: string[] = [];

/**
 * A cloud assembly directory that goes when the test file ends. An App without one makes
 * its own `cdk.out*` in the temp directory and leaves it there: about 20 MB per app, with
 * the dashboard's build and the bundles.
 */
export function testOutdir(prefix = 'clickstream-synth-'): string {
  const dir = mkdtempSync(join(tmpdir(), prefix));
  outdirs.push(dir);
  return dir;
}

afterAll(() => {
  cache.clear();
  for (const dir of outdirs.splice(0)) rmSync(dir, { recursive: true, force: true });
});

/** An app with cdk.json's context; `bundle: false` skips asset bundling for tests that only check validation. */
export function testApp(options: { outdir?: string; bundle?: boolean } = {}): App {
  return new App({ outdir: options.outdir ?? testOutdir(), context: { ...CDK_JSON_CONTEXT, ...(options.bundle === false && { 'aws:cdk:bundling-stacks': [] }) } });
}

export function synth(variant: Variant): Synthesized {
  const hit = cache.get(variant);
  if (hit) return hit;
  const outdir = testOutdir(`clickstream-synth-${variant}-`);
  const app = testApp({ outdir });
  const stack = new ClickstreamStack(app, 'Test', VARIANTS[variant]);
  Validations.of(app).addPlugins(new AwsSolutionsChecks(app));
  const nagFindings: string[] = [];
  try {
    app.synth();
  } catch (error) {
    nagFindings.push(...nagErrors(outdir, error as Error));
  }
  const templatePath = join(outdir, stack.templateFile);
  const result = { stack, template: Template.fromJSON(JSON.parse(readFileSync(templatePath, 'utf8')) as Record<string, unknown>), templatePath, nagFindings };
  cache.set(variant, result);
  return result;
}

/**
 * The policy validation report CDK writes when a plugin fails, as "rule path" lines. A failed synthesis
 * whose report names nothing is a finding too: until 2026-12-05 this read the report's older shape
 * (violatingResources), found nothing in the current one (violatingConstructs), and passed three
 * unacknowledged wildcards that `cdk synth` refused.
 */
function nagErrors(outdir: string, error: Error): string[] {
  type Violation = { ruleName: string; violatingConstructs?: { constructPath?: string }[]; violatingResources?: { resourceLogicalId?: string }[] };
  let report: { pluginReports?: { violations?: Violation[] }[] };
  try {
    report = JSON.parse(readFileSync(join(outdir, 'validation-report.json'), 'utf8')) as typeof report;
  } catch {
    return [`synthesis failed: ${error.message.split('\n')[0]}`];
  }
  const findings = (report.pluginReports ?? []).flatMap((p) =>
    (p.violations ?? []).flatMap((v) => [...(v.violatingConstructs ?? []).map((c) => c.constructPath), ...(v.violatingResources ?? []).map((r) => r.resourceLogicalId)].map((where) => `${v.ruleName} ${where ?? ''}`)),
  );
  return findings.length > 0 ? findings : [`synthesis failed: ${error.message.split('\n')[0]}`];
}
