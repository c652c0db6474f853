/**
 * The cloud stage: the real stack (bin/clickstream.ts, `-c ingest=kinesis
 * -c localstack=true`) deployed by cdklocal on a Docker-free LocalStack in host
 * mode, started here on its own port in a throw-away directory. Tests get the
 * endpoint and the stack's outputs through `inject('cloud')`. Teardown stops
 * LocalStack and every process it started, and deletes the directory.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, openSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestProject } from 'vitest/node';
import { installLocalStack } from '../localstack/install.ts';
import { startLocalStack, type LocalStackServer } from '../localstack/localstack-server.ts';
import { portFromEnv } from '../port.ts';

export interface CloudStack {
  readonly endpoint: string;
  readonly region: string;
  readonly stackName: string;
  /** CfnOutput values by key: LakeBucket, IngestEndpoint, IngestTopic. */
  readonly outputs: Readonly<Record<string, string>>;
}

declare module 'vitest' {
  export interface ProvidedContext {
    cloud: CloudStack;
  }
}

export const PORT_VARIABLE = 'CLICKSTREAM_TEST_LOCALSTACK_PORT';
const REPO = fileURLToPath(new URL('../..', import.meta.url));
const STACK = 'Clickstream';
const REGION = 'us-east-1';
const DEPLOY_TIMEOUT_MS = 600_000;

const log = (line: string) => console.log(`[cloud setup] ${line}`);
const seconds = (since: number) => `${((Date.now() - since) / 1000).toFixed(1)} s`;

/** Runs cdklocal in the repository, output to a log file; rejects with its tail on failure or timeout. */
function cdklocal(args: readonly string[], env: NodeJS.ProcessEnv, logFile: string): Promise<void> {
  return new Promise((resolve, reject) => {
    const out = openSync(logFile, 'a');
    const child = spawn(join(REPO, 'node_modules', '.bin', 'cdklocal'), args, { cwd: REPO, env, stdio: ['ignore', out, out] });
    const timer = setTimeout(() => child.kill('SIGKILL'), DEPLOY_TIMEOUT_MS);
    child.once('error', reject);
    child.once('exit', (code, signal) => {
      clearTimeout(timer);
      if (code === 0) return resolve();
      const tail = readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
      reject(new Error(`cdklocal ${args[0]} ${signal === 'SIGKILL' ? `took over ${DEPLOY_TIMEOUT_MS / 1000} s` : `exited ${code ?? signal}`}; the end of its log:\n${tail}`));
    });
  });
}

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const port = portFromEnv(PORT_VARIABLE, process.env[PORT_VARIABLE], 28566);
  const runDir = mkdtempSync(join(tmpdir(), 'clickstream-cloud-'));
  let server: LocalStackServer | undefined;
  let peakKb = 0;
  const sampler = setInterval(() => (peakKb = Math.max(peakKb, server?.residentKb() ?? 0)), 2_000);
  const teardown = async () => {
    clearInterval(sampler);
    if (server) {
      peakKb = Math.max(peakKb, server.residentKb());
      await server.stop();
      log(`LocalStack stopped; its peak resident memory (with kinesis-mock and the functions) was ${(peakKb / 1024).toFixed(0)} MB`);
    }
    rmSync(runDir, { recursive: true, force: true });
  };
  try {
    let started = Date.now();
    const install = installLocalStack(log);
    log(`LocalStack ${install.installed ? 'installed' : 'found in the cache'} in ${seconds(started)}`);

    started = Date.now();
    server = await startLocalStack(install, { port, runDir, portVariable: PORT_VARIABLE });
    log(`LocalStack ready at ${server.endpoint} in ${seconds(started)} (log: ${server.logFile})`);

    // Only LocalStack: the endpoint for every service, test credentials, and no profile or config from the user's machine.
    const env: NodeJS.ProcessEnv = {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      AWS_ENDPOINT_URL: server.endpoint,
      AWS_ENDPOINT_URL_S3: server.endpoint,
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_REGION: REGION,
      AWS_DEFAULT_REGION: REGION,
      AWS_CONFIG_FILE: join(runDir, 'aws-config'),
      AWS_SHARED_CREDENTIALS_FILE: join(runDir, 'aws-credentials'),
      CDK_DISABLE_VERSION_CHECK: '1',
      CDK_DISABLE_CLI_TELEMETRY: 'true',
    };
    const cdkLog = join(runDir, 'cdklocal.log');
    const outputsFile = join(runDir, 'outputs.json');
    started = Date.now();
    await cdklocal(['bootstrap', `aws://000000000000/${REGION}`, '--ci'], env, cdkLog);
    await cdklocal(
      ['deploy', STACK, '-c', 'ingest=kinesis', '-c', 'localstack=true', '--require-approval', 'never', '--ci', '--output', join(runDir, 'cdk.out'), '--outputs-file', outputsFile],
      env,
      cdkLog,
    );
    log(`cdklocal bootstrap + deploy took ${seconds(started)}`);
    const outputs = (JSON.parse(readFileSync(outputsFile, 'utf8')) as Record<string, Record<string, string>>)[STACK];
    if (!outputs?.LakeBucket) throw new Error(`cdklocal deploy wrote no LakeBucket output to ${outputsFile}`);
    project.provide('cloud', { endpoint: server.endpoint, region: REGION, stackName: STACK, outputs });
  } catch (error) {
    await teardown();
    throw error;
  }
  return teardown;
}
