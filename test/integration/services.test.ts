import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, inject, it } from 'vitest';
import { loadConfig } from '../../local/common/config.ts';
import { minioCredentials, minioCredentialsFile, minioProcess, startMinio, stopMinio } from '../../local/services/minio.ts';
import { isPortFree, isRunning, runningPid } from '../../local/services/process.ts';
import { status, up } from '../../local/services/stack.ts';

const config = inject('config');
const quiet = () => undefined;

/** Local addresses listening on a TCP port, read from the kernel's tables. */
function listeningAddresses(port: number): string[] {
  const hexPort = port.toString(16).toUpperCase().padStart(4, '0');
  const addresses: string[] = [];
  for (const table of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(table, 'utf8').split('\n').slice(1)) {
      const [, local, , state] = line.trim().split(/\s+/);
      if (state === '0A' && local?.endsWith(`:${hexPort}`)) addresses.push(local.split(':')[0]!);
    }
  }
  return addresses;
}
const LOOPBACK = new Set(['0100007F', '00000000000000000000000001000000', '0000000000000000FFFF00000100007F']);

describe('local services', () => {
  const scratch = mkdtempSync(join(tmpdir(), 'clickstream-svc-'));
  const blockers: Server[] = [];
  afterAll(() => {
    for (const b of blockers) b.close();
    rmSync(scratch, { recursive: true, force: true });
  });

  it('reports every service healthy', async () => {
    const services = await status(config);
    expect(services.map((s) => [s.name, s.healthy])).toEqual([
      ['kafka', true],
      ['minio', true],
      ['consumer', true],
      ['dashboard', true],
      ['supervisor', true],
    ]);
  });

  it('reuses running services on a second start instead of starting new ones', async () => {
    const pids = (await status(config)).map((s) => s.pid);
    const { started } = await up(config, quiet);
    expect(started).toEqual([]);
    expect((await status(config)).map((s) => s.pid)).toEqual(pids);
  });

  it('listens on loopback only', () => {
    for (const port of [config.kafkaPort, config.kafkaControllerPort, config.minioPort, config.dashboardPort]) {
      const addresses = listeningAddresses(port);
      expect(addresses.length, `port ${port}`).toBeGreaterThan(0);
      for (const address of addresses) expect(LOOPBACK.has(address), `port ${port} on ${address}`).toBe(true);
    }
  });

  it('keeps generated S3 credentials in a file only the user can read', () => {
    const credentials = minioCredentials(config);
    expect(credentials.accessKeyId).not.toBe('minioadmin');
    expect(credentials.secretAccessKey.length).toBeGreaterThanOrEqual(32);
    expect(statSync(minioCredentialsFile(config)).mode & 0o777).toBe(0o600);
  });

  it('says which port is taken and how to fix it, and starts nothing', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    blockers.push(blocker);
    const port = (blocker.address() as { port: number }).port;
    const other = loadConfig({ CLICKSTREAM_STATE_DIR: join(scratch, 'taken'), CLICKSTREAM_MINIO_PORT: String(port) });
    await expect(startMinio(other, quiet)).rejects.toThrow(
      `port ${port} for MinIO is already in use by another program: stop it, or set CLICKSTREAM_MINIO_PORT to a free port`,
    );
    expect(runningPid(minioProcess(other))).toBeUndefined();
  });

  it('stops a service without leaving its process behind', async () => {
    const blocker = createServer();
    await new Promise<void>((resolve) => blocker.listen(0, '127.0.0.1', resolve));
    const port = (blocker.address() as { port: number }).port;
    await new Promise<void>((resolve) => blocker.close(() => resolve()));
    const other = loadConfig({ CLICKSTREAM_STATE_DIR: join(scratch, 'second'), CLICKSTREAM_MINIO_PORT: String(port) });

    expect(await startMinio(other, quiet)).toBe(true);
    const pid = runningPid(minioProcess(other))!;
    expect(isRunning(pid)).toBe(true);

    expect(await stopMinio(other)).toBe(true);
    expect(isRunning(pid)).toBe(false);
    expect(await isPortFree(port)).toBe(true);
    expect(await stopMinio(other)).toBe(false);
  });
});
