import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const CLI = fileURLToPath(new URL('../../local/cli/clickstream.mjs', import.meta.url));

function run(args: string[], env: Record<string, string> = {}) {
  const result = spawnSync(process.execPath, [CLI, ...args], { encoding: 'utf8', env: { ...process.env, ...env }, timeout: 60_000 });
  return { code: result.status, stdout: result.stdout, stderr: result.stderr };
}

// Each test starts the CLI in a new Node process (a second or two, far more on a loaded machine).
describe('clickstream CLI', { timeout: 60_000 }, () => {
  it.each([
    [['produce', '--rate', 'fast'], 'clickstream: --rate must be events per second (a number above 0, at most 10000000) or "max", got "fast"'],
    [['produce', '--speed', '5'], "clickstream: Unknown option '--speed'; run `npx clickstream help` for the options"],
    [['launch'], 'clickstream: unknown command "launch": run `npx clickstream help` for the list'],
    [['run', '--count', 'many'], 'clickstream: --count must be a whole number of at least 1, got "many"'],
    [['bench', '--lake-events', 'lots'], 'clickstream: --lake-events must be a whole number of at least 1, got "lots"'],
    [['bench', '--step-seconds', '0'], 'clickstream: --step-seconds must be a whole number of at least 1, got "0"'],
    [
      ['bench', '--only', 'everything'],
      'clickstream: --only must be api (the query API under load and the dashboard\'s Athena cost), collector (the collector under load and through a broker restart), compaction (the compactor and what it saves), dashboard (the local refresh over --lake-events events) or handler (the consumer core, cold start and bundle sizes), got "everything"',
    ],
    [['bench', '--compaction-events', 'lots'], 'clickstream: --compaction-events must be a whole number of at least 1, got "lots"'],
    [['bench', '--api-events', '0'], 'clickstream: --api-events must be a whole number of at least 1, got "0"'],
    [['bench', '--only', 'collector', '--collector-requests', 'half'], 'clickstream: --collector-requests must be a whole number of at least 1, got "half"'],
    [['status', '--verbose'], "clickstream: Unknown option '--verbose'; run `npx clickstream help` for the options"],
  ])('answers %j with one line and exit code 1', (args, message) => {
    const { code, stderr } = run(args);
    expect(code).toBe(1);
    expect(stderr.trim()).toBe(message);
  });

  it('rejects a bad environment variable before doing anything', () => {
    const { code, stderr } = run(['status'], { CLICKSTREAM_KAFKA_PORT: 'ninety' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('clickstream: CLICKSTREAM_KAFKA_PORT must be a whole number from 1024 to 65535, got "ninety"');
  });

  it('says how to start Kafka when producing without a broker', () => {
    const { code, stderr } = run(['produce', '--count', '10'], { CLICKSTREAM_KAFKA_PORT: '1999', CLICKSTREAM_STATE_DIR: '/nonexistent/state' });
    expect(code).toBe(1);
    expect(stderr.trim()).toBe('clickstream: no Kafka broker answers on 127.0.0.1:1999: start one with `npx clickstream up`');
  });

  it('reports an unexpected failure in one line and says how to see more', () => {
    // A state directory that is a file: creating anything in it fails with ENOTDIR.
    const scratch = mkdtempSync(join(tmpdir(), 'clickstream-cli-'));
    const state = join(scratch, 'not-a-directory');
    writeFileSync(state, '');
    try {
      const { code, stderr } = run(['consume'], { CLICKSTREAM_STATE_DIR: state });
      expect(code).toBe(1);
      const lines = stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(/^clickstream: .+ \(set CLICKSTREAM_DEBUG=1 for details/);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  });

  it('says a damaged credentials file is damaged and how to recover', () => {
    const state = mkdtempSync(join(tmpdir(), 'clickstream-cli-'));
    try {
      mkdirSync(join(state, 'minio'));
      writeFileSync(join(state, 'minio', 'credentials.json'), '{"accessKeyId":');
      const { code, stderr } = run(['consume'], { CLICKSTREAM_KAFKA_PORT: '1999', CLICKSTREAM_STATE_DIR: state });
      expect(code).toBe(1);
      expect(stderr.trim()).toBe(
        `clickstream: ${join(state, 'minio', 'credentials.json')} is damaged: stop MinIO (npx clickstream down), delete the file, and start again to generate new credentials`,
      );
    } finally {
      rmSync(state, { recursive: true, force: true });
    }
  });

  it('prints usage for help', () => {
    const { code, stdout } = run(['help']);
    expect(code).toBe(0);
    expect(stdout).toMatch(/^usage: npx clickstream <command>/);
  });
});
