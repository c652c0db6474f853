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
import { writeGeneratedCode } from '../lambdas/generate-code.ts';
import { LAMBDA_ASSETS, LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRY_POINTS, type LambdaName } from '../lambdas/bundle-options.ts';
import { acknowledge } from './nag.ts';
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
  /** Concurrency reserved for (and capping) the function. @default - none: the account's unreserved pool */
  readonly reservedConcurrentExecutions?: number;
}

export class ClickstreamFunction extends Construct {
  readonly function: NodejsFunction;
  readonly logGroup: LogGroup;

  constructor(scope: Construct, id: string, props: ClickstreamFunctionProps) {
    super(scope, id);
    if (props.vpcSubnets && !props.vpc) throw new Error(`${id}: vpcSubnets must be set only together with vpc`);
    this.logGroup = new LogGroup(this, 'Logs', { retention: props.logRetention ?? RetentionDays.ONE_MONTH, removalPolicy: RemovalPolicy.DESTROY });
    const assets = LAMBDA_ASSETS[props.handler];
    // The build step NodejsFunction's esbuild cannot run itself (its CLI takes no plugins):
    // the generated code (lambdas/generate-code.ts) must exist before the bundle that imports it is built.
    writeGeneratedCode();
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
      ...(props.reservedConcurrentExecutions !== undefined && { reservedConcurrentExecutions: props.reservedConcurrentExecutions }),
      loggingFormat: LoggingFormat.JSON,
      logGroup: this.logGroup,
      // Every bundle ships a linked source map; without this flag Node ignores it and stack traces point into minified code.
      environment: { NODE_OPTIONS: '--enable-source-maps', ...props.environment },
      ...(props.vpc && { vpc: props.vpc, vpcSubnets: props.vpcSubnets, securityGroups: props.securityGroups ? [...props.securityGroups] : undefined }),
      bundling: {
        forceDockerBundling: false,
        format: OutputFormat.ESM,
        target: LAMBDA_BUNDLE_OPTIONS.target,
        minify: LAMBDA_BUNDLE_OPTIONS.minify,
        mainFields: [...LAMBDA_BUNDLE_OPTIONS.mainFields],
        sourceMap: true, // linked, as LAMBDA_BUNDLE_OPTIONS.sourcemap
        sourceMapMode: SourceMapMode.DEFAULT,
        banner: LAMBDA_BUNDLE_OPTIONS.banner.js,
        logLevel: LogLevel.WARNING,
        esbuildArgs: Object.fromEntries(Object.entries(LAMBDA_BUNDLE_OPTIONS.alias).map(([from, to]) => [`--alias:${from}`, to])),
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
