/**
 * The house wrapper around a Lambda function: every function in lambdas/ is built
 * by esbuild's API with the very options the local runtime uses
 * (lambdas/bundle-options.ts: index.mjs plus the chunks its lazy imports load), on
 * this machine (no Docker), for ARM64 on Node 22, logging JSON to an explicit log
 * group with a retention. Not NodejsFunction: its esbuild command line writes one
 * file (--outfile), which rules out code splitting, and takes no aliases object.
 */
import { copyFileSync } from 'node:fs';
import { join } from 'node:path';
import { AssetHashType, Duration, RemovalPolicy, Size, type ILocalBundling } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Architecture, Code, Function as LambdaFunction, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { buildSync } from 'esbuild';
import { writeGeneratedCode } from '../lambdas/generate-code.ts';
import { LAMBDA_ASSETS, lambdaBuildOptions, type LambdaName } from '../lambdas/bundle-options.ts';
import { acknowledge } from './nag.ts';
import { REPO_ROOT } from './paths.ts';

export interface ClickstreamFunctionProps {
  /** Which handler in lambdas/ (a key of LAMBDA_ENTRY_POINTS). */
  readonly handler: LambdaName;
  /** Which export of that bundle Lambda calls. @default 'handler' */
  readonly exportName?: string;
  readonly description: string;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
  /** Local disk under /tmp, in MiB (512 to 10,240). @default 512 */
  readonly ephemeralStorageMb?: number;
  /** @default - none */
  readonly environment?: Readonly<Record<string, string>>;
  /** Run inside this VPC (to reach a private Kafka cluster). @default - not in a VPC */
  readonly vpc?: IVpc;
  /** @default - the VPC's private subnets */
  readonly vpcSubnets?: SubnetSelection;
  /** @default - a new security group when vpc is set */
  readonly securityGroups?: readonly ISecurityGroup[];
  /** @default RetentionDays.ONE_MONTH */
  readonly logRetention?: RetentionDays;
  /** Concurrency reserved for (and capping) the function. @default - none: the account's unreserved pool */
  readonly reservedConcurrentExecutions?: number;
}

/**
 * A construct's `reservedConcurrency` prop as the function's reserved executions: undefined
 * (none reserved) or a whole number of at least 1, else one sentence naming the prop.
 */
export function reservedExecutions(reservedConcurrency: number | undefined): Pick<ClickstreamFunctionProps, 'reservedConcurrentExecutions'> {
  if (reservedConcurrency === undefined) return {};
  if (!Number.isInteger(reservedConcurrency) || reservedConcurrency < 1) {
    throw new Error(`reservedConcurrency must be a whole number of invocations, at least 1, got ${reservedConcurrency}`);
  }
  return { reservedConcurrentExecutions: reservedConcurrency };
}

/**
 * Builds one function's asset directory with the local esbuild. `name` is a field so it
 * is part of the asset's cache key (CDK keys its bundling cache on these options).
 */
class LocalEsbuild implements ILocalBundling {
  constructor(readonly name: LambdaName) {}

  tryBundle(outputDir: string): boolean {
    // The generated code (lambdas/generate-code.ts) must exist before the bundle that imports it is built.
    writeGeneratedCode();
    buildSync(lambdaBuildOptions(this.name, REPO_ROOT, outputDir));
    // Files the bundle loads at run time (zstd.wasm for the consumer) go beside index.mjs.
    for (const asset of LAMBDA_ASSETS[this.name]) copyFileSync(join(REPO_ROOT, 'node_modules', asset.package, asset.file), join(outputDir, asset.file.split('/').pop()!));
    return true;
  }
}

export class ClickstreamFunction extends Construct {
  readonly function: LambdaFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ClickstreamFunctionProps) {
    super(scope, id);
    if (props.vpcSubnets && !props.vpc) throw new Error(`${id}: vpcSubnets must be set only together with vpc`);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    this.function = new LambdaFunction(this, 'Function', {
      code: Code.fromAsset(REPO_ROOT, {
        // Hashed by what was built, not by the repository it was built from.
        assetHashType: AssetHashType.OUTPUT,
        // The image is never used: local bundling always runs (or throws).
        bundling: { image: Runtime.NODEJS_22_X.bundlingImage, local: new LocalEsbuild(props.handler) },
      }),
      handler: `index.${props.exportName ?? 'handler'}`,
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      ...(props.ephemeralStorageMb !== undefined && { ephemeralStorageSize: Size.mebibytes(props.ephemeralStorageMb) }),
      ...(props.reservedConcurrentExecutions !== undefined && { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      loggingFormat: LoggingFormat.JSON,
      logGroup: this.logGroup,
      // Every bundle ships a linked source map; without this flag Node ignores it and stack traces point into minified code.
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      ...(props.vpc && { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups ? [...props.securityGroups] : undefined }),
    });
    acknowledge(this.function, 'AwsSolutions-L1', 'Node.js 22 is the runtime this project targets (bundles are built for node20 so the same artifact runs on the local machine).');
    if (this.function.role) {
      acknowledge(
        this.function.role,
        'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole]',
        "Lambda's basic execution policy lets the function write its own logs, nothing more.",
      );
      if (props.vpc) {
        acknowledge(
          this.function.role,
          'AwsSolutions-IAM4[Policy::arn:<AWS::Partition>:iam::aws:policy/service-role/AWSLambdaVPCAccessExecutionRole]',
          "Lambda's VPC access policy manages the function's own network interfaces in the Kafka cluster's subnets.",
        );
      }
    }
  }
}
