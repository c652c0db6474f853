/**
 * Independent checks over every synthesized template: cdk-nag AwsSolutions
 * (zero unacknowledged findings), least-privilege IAM, cfn-lint, and a
 * snapshot with asset hashes normalised.
 */
import { describe, expect, it, vi } from 'vitest';
import { cfnLint, CFN_LINT_VERSION } from './cfn-lint.ts';
import { synth, VARIANTS, type Variant } from './synth.ts';

vi.setConfig({ testTimeout: 300_000 });
const variants = Object.keys(VARIANTS) as Variant[];

interface Statement {
  Effect: string;
  Action: string | string[];
  Resource: unknown;
}

/** Every Allow statement of every inline IAM policy and role policy in the template. */
function allowStatements(variant: Variant): { policy: string; statement: Statement }[] {
  const resources = synth(variant).template.toJSON().Resources as Record<string, { Type: string; Properties: Record<string, unknown> }>;
  const out: { policy: string; statement: Statement }[] = [];
  for (const [id, r] of Object.entries(resources)) {
    const docs =
      r.Type === 'AWS::IAM::Policy'
        ? [r.Properties.PolicyDocument]
        : r.Type === 'AWS::IAM::Role'
          ? ((r.Properties.Policies as { PolicyDocument: unknown }[] | undefined) ?? []).map((p) => p.PolicyDocument)
          : [];
    for (const doc of docs) for (const statement of (doc as { Statement: Statement[] }).Statement) if (statement.Effect === 'Allow') out.push({ policy: id, statement });
  }
  return out;
}

/** Statements where AWS requires Resource "*" (EC2 Describe calls for Kafka pollers; CDK's own deployment provider invalidating CloudFront). */
const DOCUMENTED_STAR = [/^ec2:(Create|Delete|Describe)\w+$/, /^cloudfront:(CreateInvalidation|GetInvalidation)$/];
/** CDK-generated providers (asset deployment, auto-delete objects): their policies are CDK's, scoped to our buckets. */
const CDK_PROVIDER = /^(CustomCDKBucketDeployment|CustomS3AutoDeleteObjects|AWS679f53fac002430cb0da5b7982bd2287)/;

describe.each(variants)('%s template', (variant) => {
  it('has no unacknowledged cdk-nag AwsSolutions finding', () => {
    expect(synth(variant).nagFindings).toEqual([]);
  });

  it('grants no wildcard action and scopes every resource', () => {
    const statements = allowStatements(variant).filter((s) => !CDK_PROVIDER.test(s.policy));
    expect(statements.length).toBeGreaterThan(5);
    for (const { policy, statement } of statements) {
      const actions = ([] as string[]).concat(statement.Action);
      for (const action of actions) expect(action, `${policy}: ${action}`).not.toMatch(/^\*$|:\*$/);
      const resources = ([] as unknown[]).concat(statement.Resource);
      if (resources.includes('*')) {
        for (const action of actions) expect(DOCUMENTED_STAR.some((r) => r.test(action)), `${policy}: ${action} on "*"`).toBe(true);
      }
    }
  });

  it('never gives the consumer s3 rights outside its prefixes', () => {
    const s3 = allowStatements(variant).filter((s) => /ConsumerHandler/.test(s.policy) && ([] as string[]).concat(s.statement.Action).some((a) => a.startsWith('s3:')));
    const text = JSON.stringify(s3.map((s) => s.statement.Resource));
    expect(text).toContain('/events/*');
    expect(text).toContain('/quarantine/*');
    expect(text).not.toMatch(/LakeBucket[0-9A-F]+","Arn"\]\},"\/\*"/);
  });

  it('matches the snapshot (asset hashes normalised)', () => {
    const json = JSON.stringify(synth(variant).template.toJSON(), null, 1).replace(/[0-9a-f]{64}/g, '<asset-hash>');
    expect(JSON.parse(json)).toMatchSnapshot();
  });
});

describe(`cfn-lint ${CFN_LINT_VERSION}`, () => {
  it('finds no errors in any of the three templates', () => {
    const { errors } = cfnLint(variants.map((v) => synth(v).templatePath));
    expect(errors).toEqual([]);
  });
});
