import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, describe, expect, it } from 'vitest';
import type { CompactionResult } from '../../lambdas/compactor/compact-lake.ts';
import { compactInOwnProcess, startCompactionLoop } from '../../local/consume/compaction-loop.ts';

const result: CompactionResult = { hoursCompacted: 2, lateFilesFolded: 1, filesWritten: 2, rowsWritten: 10, duplicatesDropped: 0, filesDeleted: 3, slices: 1, peakSliceRows: 10, peakSpillBytes: 100, threads: 1, hoursSkipped: [], hoursLeft: 0, lateFilesLeft: 0, lateFilesPassed: 0, lostRace: false };

describe('startCompactionLoop', () => {
  it('runs one at a time on its interval, adds up the runs, and logs a failed one without stopping', async () => {
    let active = 0;
    let most = 0;
    let calls = 0;
    const logged: Record<string, unknown>[] = [];
    const loop = startCompactionLoop(
      async () => {
        calls++;
        most = Math.max(most, ++active);
        await sleep(15);
        active--;
        if (calls === 2) throw new Error('MinIO is down\nstack');
        return result;
      },
      5,
      (entry) => logged.push(entry),
    );
    while (calls < 4) await sleep(5);
    await loop.stop();
    const callsAtStop = calls;
    await sleep(30);
    expect(calls).toBe(callsAtStop);
    expect(most).toBe(1);
    const status = loop.status();
    expect(status).toMatchObject({ runs: calls, failedRuns: 1, hoursCompacted: 2 * (calls - 1), lateFilesFolded: calls - 1, filesDeleted: 3 * (calls - 1) });
    // A later run succeeded: the error is no longer the state of things.
    expect(status.lastError).toBeUndefined();
    expect(logged).toEqual([{ level: 'WARN', message: 'compaction run failed; the next run starts again from the manifest', error: 'MinIO is down' }]);
  });
});

describe('compactInOwnProcess', () => {
  const dir = mkdtempSync(join(tmpdir(), 'clickstream-compactor-process-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  /** A stand-in for the compactor's bundle: a module whose handler runs `body`. */
  const bundle = (name: string, body: string) => {
    const file = join(dir, `${name}.mjs`);
    writeFileSync(file, `export async function handler() { ${body} }\n`);
    return file;
  };
  const run = (file: string, signal = new AbortController().signal) => compactInOwnProcess(file)(signal);

  it("runs the handler in a process of its own and returns its result", async () => {
    const file = bundle('ok', `return { ...${JSON.stringify(result)}, pid: process.pid };`);
    const got = (await run(file)) as CompactionResult & { pid: number };
    expect(got).toMatchObject(result);
    expect(got.pid).not.toBe(process.pid);
  });

  it("rejects with the handler's error in one line, or says how the process ended without a result", async () => {
    await expect(run(bundle('throws', `throw new Error('MinIO is down\\nat stack');`))).rejects.toThrow(/^MinIO is down$/);
    await expect(run(bundle('exits', 'process.exit(3);'))).rejects.toThrow("the compactor's process exited with code 3 before it finished");
  });

  it('kills a run in progress when stopped', async () => {
    const started = join(dir, 'started');
    const stop = new AbortController();
    const running = run(bundle('hangs', `(await import('node:fs')).writeFileSync(${JSON.stringify(started)}, String(process.pid)); await new Promise(() => setInterval(() => undefined, 1000));`), stop.signal);
    while (!existsSync(started)) await sleep(20);
    stop.abort();
    await expect(running).rejects.toThrow("the compactor's process was stopped by SIGTERM before it finished");
    expect(() => process.kill(Number(readFileSync(started, 'utf8')), 0)).toThrow();
  });
});
