/**
 * Starts LocalStack in host mode on 127.0.0.1:<port>, everything it writes
 * (state, unzipped functions, logs) inside one run directory, Lambda functions
 * run as host Node processes by the project's executor. stop() ends LocalStack,
 * then its whole process group (kinesis-mock, function processes), so nothing it
 * started outlives it.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, openSync, readdirSync, readFileSync, rmSync, symlinkSync } from 'node:fs';
import { join } from 'node:path';
import { assertPortFree } from '../../local/services/process.ts';
import type { LocalStackInstall } from './install.ts';

/** The services the stack deployed with `-c localstack=true` uses, and Secrets Manager (the simulator's SCRAM secret, test/cloud/kafka-secret.test.ts). */
export const LOCALSTACK_SERVICES = 'cloudformation,iam,sts,ssm,lambda,logs,s3,kinesis,events,cloudwatch,kms,secretsmanager';

const LOOPBACK_ONLY = new URL('loopback-only.mjs', import.meta.url).href;
/**
 * The one place LocalStack writes outside the run directory: its S3 provider keeps a directory per
 * bucket under this fixed path (DEFAULT_S3_TMP_DIR in localstack/services/s3/provider.py; TMPDIR does
 * not move it), and leaves those of buckets it never deleted. stop() removes the ones this run made.
 */
const S3_STORAGE = '/tmp/localstack-s3-storage';
const s3StorageEntries = () => new Set(existsSync(S3_STORAGE) ? readdirSync(S3_STORAGE) : []);
const START_TIMEOUT_MS = 120_000;
const STOP_GRACE_MS = 30_000;

export interface LocalStackServer {
  readonly endpoint: string;
  readonly pid: number;
  /** LocalStack's own log (and kinesis-mock's); function logs are under <runDir>/tmp/lambda-host-executor/. */
  readonly logFile: string;
  /** Resident memory of LocalStack and every process it started, in kB (`ps`). */
  residentKb(): number;
  stop(): Promise<void>;
}

export async function startLocalStack(install: LocalStackInstall, options: { port: number; runDir: string; portVariable: string }): Promise<LocalStackServer> {
  const { port, runDir } = options;
  await assertPortFree(port, 'LocalStack', options.portVariable);
  const fsRoot = join(runDir, 'fs');
  const tmp = join(runDir, 'tmp');
  mkdirSync(join(fsRoot, 'usr', 'lib'), { recursive: true });
  mkdirSync(tmp, { recursive: true });
  // What LocalStack's image would ship (kinesis-mock), from the install, so no run downloads it.
  symlinkSync(install.staticLibs, join(fsRoot, 'usr', 'lib', 'localstack'));
  const logFile = join(runDir, 'localstack.log');
  const out = openSync(logFile, 'a');
  const s3StorageBefore = existsSync(S3_STORAGE) ? s3StorageEntries() : undefined;
  const child = spawn(install.python, ['-m', 'localstack.runtime.main'], {
    cwd: runDir,
    detached: true, // its own process group, so stop() reaches every process it starts
    stdio: ['ignore', out, out],
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      // This machine kind has a /.dockerenv; LocalStack must not think it runs in its own container.
      OVERRIDE_IN_DOCKER: '0',
      FILESYSTEM_ROOT: fsRoot,
      TMPDIR: tmp,
      GATEWAY_LISTEN: `127.0.0.1:${port}`,
      // The default server (twisted) ignores the host in GATEWAY_LISTEN and binds every interface.
      GATEWAY_SERVER: 'hypercorn',
      SERVICES: LOCALSTACK_SERVICES,
      EAGER_SERVICE_LOADING: '0',
      LAMBDA_RUNTIME_EXECUTOR: 'clickstream-host-node',
      CLICKSTREAM_HOST_EXECUTOR_NODE: process.execPath,
      // kinesis-mock binds every interface and has no setting for it.
      NODE_OPTIONS: `--import=${LOOPBACK_ONLY}`,
      // No DNS server (port 53), no certificate download, no analytics: nothing leaves the machine.
      DNS_ADDRESS: '0',
      SKIP_SSL_CERT_DOWNLOAD: '1',
      DISABLE_EVENTS: '1',
      // Metric filters and S3 auto-delete are not implemented in Community; deploy them as stubs, as 4.14 does today.
      CFN_IGNORE_UNSUPPORTED_RESOURCE_TYPES: '1',
    },
  });
  const server = handle(child, port, logFile, s3StorageBefore);
  try {
    await waitUntilReady(child, server.endpoint, logFile);
  } catch (error) {
    await server.stop();
    throw error;
  }
  return server;
}

/** `s3StorageBefore`: S3_STORAGE's entries before LocalStack started (undefined: it did not exist). */
function handle(child: ChildProcess, port: number, logFile: string, s3StorageBefore: ReadonlySet<string> | undefined): LocalStackServer {
  const pid = child.pid!;
  let exited = child.exitCode !== null;
  child.once('exit', () => (exited = true));
  const group = (signal: NodeJS.Signals) => {
    try {
      process.kill(-pid, signal);
    } catch {
      // the group is gone
    }
  };
  // `ps -A -o` with these columns reads the same on Linux and macOS (`ps -g` does not); zombies are
  // ignored, as they are gone for every purpose but their parent's bookkeeping.
  const members = () =>
    spawnSync('ps', ['-A', '-o', 'pgid=,rss=,stat='], { encoding: 'utf8' })
      .stdout.split('\n')
      .map((line) => line.trim().split(/\s+/))
      .filter(([pgid, , stat]) => Number(pgid) === pid && !stat?.startsWith('Z'));
  const groupAlive = () => members().length > 0;
  return {
    endpoint: `http://127.0.0.1:${port}`,
    pid,
    logFile,
    residentKb: () => members().reduce((sum, [, rss]) => sum + (Number(rss) || 0), 0),
    async stop() {
      // SIGTERM lets LocalStack stop its services and functions; whatever is left of the group gets SIGKILL.
      if (!exited) group('SIGTERM');
      const deadline = Date.now() + STOP_GRACE_MS;
      while ((!exited || groupAlive()) && Date.now() < deadline) await new Promise((r) => setTimeout(r, 250));
      group('SIGKILL');
      const killDeadline = Date.now() + STOP_GRACE_MS;
      while (groupAlive() && Date.now() < killDeadline) await new Promise((r) => setTimeout(r, 100));
      if (s3StorageBefore === undefined) rmSync(S3_STORAGE, { recursive: true, force: true });
      else for (const name of s3StorageEntries()) if (!s3StorageBefore.has(name)) rmSync(join(S3_STORAGE, name), { recursive: true, force: true });
    },
  };
}

async function waitUntilReady(child: ChildProcess, endpoint: string, logFile: string): Promise<void> {
  const deadline = Date.now() + START_TIMEOUT_MS;
  const tail = () => readFileSync(logFile, 'utf8').trim().split('\n').slice(-10).join('\n');
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) throw new Error(`LocalStack exited (${child.exitCode ?? child.signalCode}) while starting; the end of ${logFile}:\n${tail()}`);
    try {
      const response = await fetch(`${endpoint}/_localstack/init/ready`, { signal: AbortSignal.timeout(2_000) });
      if (response.ok && ((await response.json()) as { completed?: boolean }).completed === true) return;
    } catch {
      // not listening yet
    }
    await new Promise((r) => setTimeout(r, 500));
  }
  throw new Error(`LocalStack did not become ready within ${START_TIMEOUT_MS / 1000} s; the end of ${logFile}:\n${tail()}`);
}
