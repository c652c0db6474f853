import { setTimeout as sleep } from 'node:timers/promises';
import { describe, expect, it } from 'vitest';
import type { CompactionResult } from '../../lambdas/compactor/compact-lake.ts';
import { startCompactionLoop } from '../../local/consume/compaction-loop.ts';

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
