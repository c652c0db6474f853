/**
 * One Trino server (coordinator and worker in one JVM) for a test run: loopback
 * only, UTC, a modest heap, and a Hive catalog that reads the lake bucket in
 * MinIO through Trino's native S3 client, with a file metastore in the run's
 * temporary directory. stop() ends the process and deletes the directory.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { UserError } from '../../local/common/errors.ts';
import { assertPortFree, logTail, readyOrStopped, runningPid, startDetached, stopProcess, waitFor, type ManagedProcess } from '../../local/services/process.ts';
import { portFromEnv } from '../port.ts';
import { TrinoEngine, TrinoQueryError } from './engine.ts';
import { installTrino, trinoJavaHome, TRINO_VERSION } from './install.ts';

export const DEFAULT_TRINO_PORT = 28090;
/** The catalog name the tables are created in, and the engine's default. */
export const TRINO_CATALOG = 'hive';

/** The port for the tests' Trino: CLICKSTREAM_TEST_TRINO_PORT, or 28090. */
export function trinoPort(env: Readonly<Record<string, string | undefined>> = process.env): number {
  return portFromEnv('CLICKSTREAM_TEST_TRINO_PORT', env.CLICKSTREAM_TEST_TRINO_PORT, DEFAULT_TRINO_PORT);
}

export interface TrinoS3 {
  readonly endpoint: string;
  readonly region: string;
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export interface TrinoServerOptions {
  /** Where Trino is installed (its versioned folder is created inside). */
  readonly cacheDir: string;
  readonly port: number;
  /** The S3-compatible store the Hive catalog reads. */
  readonly s3: TrinoS3;
  readonly log: (line: string) => void;
  /** @default 180000 (a cold start takes 11-28 s; a shared two-core machine can be much slower) */
  readonly startTimeoutMs?: number;
}

export interface TrinoServer {
  readonly url: string;
  /** Seconds from spawning the JVM to the server accepting queries. */
  readonly startSeconds: number;
  readonly pid: number;
  stop(): Promise<void>;
}

// A modest heap: the test data is small, and the machine is shared with Kafka, MinIO and DuckDB.
const JVM_OPTIONS = [
  '-Xmx1g',
  '-XX:+UseG1GC',
  '-XX:+ExitOnOutOfMemoryError',
  '-XX:ReservedCodeCacheSize=256M',
  '-Djdk.attach.allowAttachSelf=true',
  '-XX:+EnableDynamicAgentLoading',
  // Trino's libraries still use these; allowing them keeps the log free of warnings on Java 24+.
  '--enable-native-access=ALL-UNNAMED',
  '--sun-misc-unsafe-memory-access=allow',
  // Athena runs in UTC; the SQL must not depend on it, which the tests check with another session zone.
  '-Duser.timezone=UTC',
  '-Dfile.encoding=UTF-8',
];

function properties(entries: Record<string, string | number>): string {
  return Object.entries(entries)
    .map(([k, v]) => `${k}=${v}`)
    .join('\n')
    .concat('\n');
}

export async function startTrino(options: TrinoServerOptions): Promise<TrinoServer> {
  const javaHome = await trinoJavaHome();
  const install = await installTrino(options.cacheDir, options.log);
  await assertPortFree(options.port, 'Trino', 'CLICKSTREAM_TEST_TRINO_PORT');

  const dir = mkdtempSync(join(tmpdir(), 'clickstream-trino-'));
  const config = join(dir, 'config.properties');
  const catalogs = join(dir, 'catalog');
  const metastore = join(dir, 'metastore');
  mkdirSync(catalogs, { mode: 0o700 });
  mkdirSync(metastore, { mode: 0o700 });
  const url = `http://127.0.0.1:${options.port}`;
  writeFileSync(
    config,
    properties({
      coordinator: 'true',
      'node-scheduler.include-coordinator': 'true',
      'node.environment': 'clickstream_test',
      // Listen on loopback only, and announce that address to itself.
      'node.bind-ip': '127.0.0.1',
      'node.internal-address': '127.0.0.1',
      'http-server.http.port': options.port,
      'discovery.uri': url,
      'web-ui.enabled': 'false',
      'plugin.dir': install.plugins,
      'catalog.config-dir': catalogs,
      'query.max-memory': '512MB',
      'query.max-memory-per-node': '512MB',
    }),
  );
  writeFileSync(
    join(catalogs, `${TRINO_CATALOG}.properties`),
    properties({
      'connector.name': 'hive',
      // Table definitions in a local directory: no Hive metastore service, no Glue.
      'hive.metastore': 'file',
      'hive.metastore.catalog.dir': 'local:///',
      'fs.native-local.enabled': 'true',
      'local.location': metastore,
      // The lake, in MinIO, through Trino's own S3 client (as Athena reads S3).
      'fs.native-s3.enabled': 'true',
      's3.endpoint': options.s3.endpoint,
      's3.region': options.s3.region,
      's3.path-style-access': 'true',
      's3.aws-access-key': options.s3.accessKeyId,
      's3.aws-secret-key': options.s3.secretAccessKey,
      'hive.parquet.time-zone': 'UTC',
      // Only the column chunks a query names, as from files of a real lake's size: Trino reads a file below 3 MB
      // whole, and chunks less than 1 MB apart in one read, so on the tests' small files the bytes it reports
      // read (trino-queries.test.ts) would be whole files, not what a query selects.
      'parquet.small-file-threshold': '0B',
      'parquet.max-merge-distance': '0B',
    }),
    { mode: 0o600 },
  );

  // The temporary directory is in the command line (-Dconfig), so the pid is never mistaken for another process.
  const proc: ManagedProcess = { name: 'Trino', pidFile: join(dir, 'trino.pid'), logFile: join(dir, 'trino.log'), marker: config };
  const started = performance.now();
  const pid = startDetached(proc, join(javaHome, 'bin', 'java'), [...JVM_OPTIONS, `-Dconfig=${config}`, '-cp', `${install.lib}/*`, 'io.trino.server.TrinoServer'], {
    cwd: dir,
    env: { ...process.env, JAVA_HOME: javaHome },
  });
  const stop = async () => {
    await stopProcess(proc, 20_000);
    rmSync(dir, { recursive: true, force: true });
  };
  const timeoutMs = options.startTimeoutMs ?? 180_000;
  try {
    await readyOrStopped(
      proc,
      waitFor(
        async () => {
          if (runningPid(proc) === undefined) throw new UserError(`Trino ${TRINO_VERSION} exited during startup: ${logTail(proc.logFile, 3)}`);
          return serverReady(url);
        },
        timeoutMs,
        () => `Trino ${TRINO_VERSION} did not accept queries on ${url} within ${timeoutMs / 1000}s: ${logTail(proc.logFile, 3)}`,
      ),
    );
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  const startSeconds = Math.round((performance.now() - started) / 100) / 10;
  options.log(`Trino ${TRINO_VERSION} (Java at ${javaHome}) accepts queries on ${url} after ${startSeconds}s`);
  return { url, startSeconds, pid, stop };
}

/**
 * Trino answers /v1/info while it starts, and `starting` turns false before the
 * node has announced itself to the scheduler: ready is when a query runs.
 */
async function serverReady(url: string): Promise<boolean> {
  try {
    const response = await fetch(`${url}/v1/info`, { signal: AbortSignal.timeout(2_000) });
    if (!response.ok || ((await response.json()) as { starting?: boolean }).starting !== false) return false;
    await new TrinoEngine({ url, catalog: 'system', schema: 'runtime' }).run('SELECT 1');
    return true;
  } catch (error) {
    if (error instanceof TrinoQueryError && error.errorName !== 'NO_NODES_AVAILABLE') throw error;
    return false;
  }
}
