/**
 * The house wrapper around NodejsFunction: every function in lambdas/ is built
 * with the same esbuild options the local runtime uses (lambdas/bundle-options.ts),
 * with the local esbuild (no Docker), for ARM64 on Node 22, logging JSON to an
 * explicit log group with a retention.
 */
import { join } from 'node:path';
import { Duration, RemovalPolicy } from 'aws-cdk-lib';
import type { ISecurityGroup, IVpc, SubnetSelection } from 'aws-cdk-lib/aws-ec2';
import { Architecture, LoggingFormat, Runtime } from 'aws-cdk-lib/aws-lambda';
import { LogLevel, NodejsFunction, OutputFormat, SourceMapMode } from 'aws-cdk-lib/aws-lambda-nodejs';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import { Construct } from 'constructs';
import { LAMBDA_ASSETS, LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRY_POINTS, type LambdaName } from '../lambdas/bundle-options.ts';
import { REPO_ROOT } from './paths.ts';

export interface ClickstreamFunctionProps {
  /** Which handler in lambdas/ (a key of LAMBDA_ENTRY_POINTS). */
  readonly handler: LambdaName;
  readonly description: string;
  /** @default 512 */
  readonly memorySizeMb?: number;
  /** @default Duration.seconds(30) */
  readonly timeout?: Duration;
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
}

export class ClickstreamFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ClickstreamFunctionProps) {
    super(scope, id);
    if (props.vpcSubnets && !props.vpc) throw new Error(`${id}: vpcSubnets must be set only together with vpc`);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const assets = LAMBDA_ASSETS[props.handler];
    this.function = new NodejsFunction(this, 'Function', {
      entry: join(REPO_ROOT, LAMBDA_ENTRY_POINTS[props.handler]),
      handler: 'handler',
      projectRoot: REPO_ROOT,
      depsLockFilePath: join(REPO_ROOT, 'package-lock.json'),
      description: props.description,
      runtime: Runtime.NODEJS_22_X,
      architecture: Architecture.ARM_64,
      memorySize: props.memorySizeMb ?? 512,
      timeout: props.timeout ?? Duration.seconds(30),
      loggingFormat: LoggingFormat.JSON,
      logGroup: this.logGroup,
      environment: { ...props.environment },
      ...(props.vpc && { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups ? [...props.securityGroups] : undefined }),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: LAMBDA_BUNDLE_OPTIONS.target,
        minify: LAMBDA_BUNDLE_OPTIONS.minify,
        sourceMap: true, // linked, as LAMBDA_BUNDLE_OPTIONS.sourcemap
        sourceMapMode: SourceMapMode.DEFAULT,
        banner: LAMBDA_BUNDLE_OPTIONS.banner.js,
        logLevel: LogLevel.WARNING,
        // The same artifact as the local runtime: the SDK is bundled, not taken from the runtime.
        externalModules: [],
        commandHooks: {
          beforeBundling: () => [],
          beforeInstall: () => [],
          // Files the bundle loads at run time (zstd.wasm for the consumer) go beside index.mjs.
          afterBundling: (inputDir: string, outputDir: string) =>
            assets.map((a) => `cp "${join(inputDir, 'node_modules', a.package, a.file)}" "${join(outputDir, a.file.split('/').pop()!)}"`),
        },
      },
    });
  }
}
