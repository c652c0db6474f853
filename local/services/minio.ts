/**
 * The local S3: a real MinIO server built once from its Go module, on
 * 127.0.0.1, with credentials generated on first start and kept in a file only
 * the user can read.
 */
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { CreateBucketCommand, HeadBucketCommand, S3Client } from '@aws-sdk/client-s3';
import { S3ObjectStore } from '../../lambdas/consumer/object-store.ts';
import type { LocalConfig } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { requireGo } from './prerequisites.ts';
import { assertPortFree, logTail, readyOrStopped, runCommand, runningPid, startDetached, stopProcess, waitFor, type ManagedProcess } from './process.ts';

/** MinIO publishes no semver tags, so its Go module is pinned by pseudo-version (the 2026-02-12 commit). */
export const MINIO_MODULE = 'github.com/minio/minio';
export const MINIO_VERSION = 'v0.0.0-20260212201848-7aac2a2c5b7c';

export interface S3Credentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
}

export function minioBinary(config: LocalConfig): string {
  return join(config.cacheDir, `minio-${MINIO_VERSION}`, 'minio');
}

export function minioProcess(config: LocalConfig): ManagedProcess {
  const dir = join(config.stateDir, 'minio');
  return { name: 'MinIO', pidFile: join(dir, 'minio.pid'), logFile: join(dir, 'minio.log'), marker: join(dir, 'data') };
}

/** The S3 endpoint: one given by CLICKSTREAM_S3_ENDPOINT, or our MinIO on loopback. */
export function s3Endpoint(config: LocalConfig): string {
  return config.externalS3?.endpoint ?? `http://127.0.0.1:${config.minioPort}`;
}

/** Builds MinIO with `go install` once (a few minutes); later runs use the cached binary. */
export async function installMinio(config: LocalConfig, log: (line: string) => void): Promise<string> {
  const binary = minioBinary(config);
  if (existsSync(binary)) return binary;
  await requireGo([1, 24]);
  log(`building MinIO ${MINIO_VERSION} from its Go module into ${binary} (first run only, a few minutes)`);
  const result = await runCommand('go', ['install', `${MINIO_MODULE}@${MINIO_VERSION}`], {
    env: { ...process.env, GOBIN: join(config.cacheDir, `minio-${MINIO_VERSION}`), GOFLAGS: '-buildvcs=false', CGO_ENABLED: '0' },
  });
  if (result.code !== 0 || !existsSync(binary)) {
    throw new UserError(`building MinIO with go install failed (exit ${result.code}): ${result.stderr.trim().split('\n').pop() ?? ''}`);
  }
  return binary;
}

export function minioCredentialsFile(config: LocalConfig): string {
  return join(config.stateDir, 'minio', 'credentials.json');
}

/** The store's credentials: given with CLICKSTREAM_S3_*, or our MinIO's generated root ones, created on first use with mode 0600. */
export function minioCredentials(config: LocalConfig): S3Credentials {
  if (config.externalS3) return { accessKeyId: config.externalS3.accessKeyId, secretAccessKey: config.externalS3.secretAccessKey };
  const file = minioCredentialsFile(config);
  if (existsSync(file)) {
    try {
      const stored = JSON.parse(readFileSync(file, 'utf8')) as Partial<S3Credentials>;
      if (typeof stored.accessKeyId === 'string' && typeof stored.secretAccessKey === 'string') return stored as S3Credentials;
    } catch {
      // reported below
    }
    throw new UserError(`${file} is damaged: stop MinIO (npx clickstream down), delete the file, and start again to generate new credentials`);
  }
  mkdirSync(join(config.stateDir, 'minio'), { recursive: true, mode: 0o700 });
  const credentials: S3Credentials = {
    accessKeyId: `ck${randomBytes(9).toString('hex')}`,
    secretAccessKey: randomBytes(30).toString('base64url'),
  };
  writeFileSync(file, JSON.stringify(credentials, null, 2) + '\n', { mode: 0o600 });
  chmodSync(file, 0o600);
  return credentials;
}

export function localS3Client(config: LocalConfig): S3Client {
  return new S3Client({
    endpoint: s3Endpoint(config),
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: minioCredentials(config),
  });
}

/** The project's S3 adapter on the local store (MinIO, or the external one): what the Lambdas' handlers build from handlerEnv. */
export function localObjectStore(config: LocalConfig, bucket = config.bucket): S3ObjectStore {
  return new S3ObjectStore({ endpoint: s3Endpoint(config), region: 'us-east-1', forcePathStyle: true, credentials: minioCredentials(config) }, bucket);
}

/** Starts MinIO unless ours is already running; returns whether it started one. */
export async function startMinio(config: LocalConfig, log: (line: string) => void): Promise<boolean> {
  if (config.externalS3) return false; // ensureBucket reports a store that does not answer
  const proc = minioProcess(config);
  if (runningPid(proc) !== undefined) {
    await waitForMinio(config, proc, 30_000);
    return false;
  }
  const binary = await installMinio(config, log);
  await assertPortFree(config.minioPort, 'MinIO', 'CLICKSTREAM_MINIO_PORT');
  const credentials = minioCredentials(config);
  mkdirSync(proc.marker, { recursive: true, mode: 0o700 });
  startDetached(proc, binary, ['server', '--quiet', '--address', `127.0.0.1:${config.minioPort}`, proc.marker], {
    env: {
      PATH: process.env.PATH,
      HOME: process.env.HOME,
      MINIO_ROOT_USER: credentials.accessKeyId,
      MINIO_ROOT_PASSWORD: credentials.secretAccessKey,
      // No web console and no update checks: an API on loopback is all the pipeline needs.
      MINIO_BROWSER: 'off',
      MINIO_UPDATE: 'off',
    },
  });
  await readyOrStopped(proc, waitForMinio(config, proc, 60_000));
  return true;
}

async function waitForMinio(config: LocalConfig, proc: ManagedProcess, timeoutMs: number): Promise<void> {
  await waitFor(
    async () => {
      if (runningPid(proc) === undefined) throw new UserError(`MinIO exited during startup; see ${proc.logFile}: ${logTail(proc.logFile)}`);
      return minioReady(config);
    },
    timeoutMs,
    () => `MinIO did not become ready on ${s3Endpoint(config)} within ${timeoutMs / 1000}s; see ${proc.logFile}`,
  );
}

export async function minioReady(config: LocalConfig): Promise<boolean> {
  try {
    const response = await fetch(`${s3Endpoint(config)}/minio/health/ready`, { signal: AbortSignal.timeout(2_000) });
    return response.ok;
  } catch {
    return false;
  }
}

export async function stopMinio(config: LocalConfig): Promise<boolean> {
  // A store given by the environment is not ours to stop.
  return config.externalS3 ? false : stopProcess(minioProcess(config), 15_000);
}

/** The HTTP status of a failed S3 call, if it got that far. */
export function httpStatus(error: unknown): number | undefined {
  return (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode;
}

/** Creates the lake bucket if it is missing (private: MinIO buckets have no anonymous access by default). */
export async function ensureBucket(config: LocalConfig): Promise<void> {
  const s3 = localS3Client(config);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: config.bucket }));
  } catch (error) {
    const status = httpStatus(error);
    if (status === 404) {
      await s3.send(new CreateBucketCommand({ Bucket: config.bucket }));
    } else if (config.externalS3) {
      const reason = status === 403 ? 'the credentials were refused' : (error as Error).message.split('\n')[0];
      throw new UserError(`the S3 store at ${config.externalS3.endpoint} (CLICKSTREAM_S3_ENDPOINT) cannot be used: ${reason}; check it is running and the CLICKSTREAM_S3_* settings`);
    } else {
      throw error;
    }
  } finally {
    s3.destroy();
  }
}
