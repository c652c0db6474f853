/**
 * The compactor in the local runtime: the bundled compactor Lambda, invoked on a
 * timer inside the consumer process, as EventBridge invokes it in the cloud.
 * Runs never overlap; a failed run is logged and the next one starts from the
 * manifest, as in the cloud.
 */
import type { CompactionResult } from '../../lambdas/compactor/compact-lake.ts';

export interface CompactionStatus {
  readonly runs: number;
  readonly failedRuns: number;
  readonly hoursCompacted: number;
  readonly lateFilesFolded: number;
  readonly filesDeleted: number;
  readonly lastRunAt?: string;
  readonly lastError?: string;
}

export interface CompactionLoop {
  readonly status: () => CompactionStatus;
  /** Stops the timer and waits for a run in progress. */
  stop(): Promise<void>;
}

export function startCompactionLoop(run: () => Promise<CompactionResult>, intervalMs: number, log: (entry: Record<string, unknown>) => void): CompactionLoop {
  let status: CompactionStatus = { runs: 0, failedRuns: 0, hoursCompacted: 0, lateFilesFolded: 0, filesDeleted: 0 };
  let running: Promise<void> = Promise.resolve();
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  const once = async () => {
    const at = new Date().toISOString();
    try {
      const r = await run();
      status = {
        runs: status.runs + 1,
        failedRuns: status.failedRuns,
        hoursCompacted: status.hoursCompacted + r.hoursCompacted,
        lateFilesFolded: status.lateFilesFolded + r.lateFilesFolded,
        filesDeleted: status.filesDeleted + r.filesDeleted,
        lastRunAt: at,
      };
    } catch (error) {
      const message = (error as Error).message.split('\n')[0]!;
      status = { ...status, runs: status.runs + 1, failedRuns: status.failedRuns + 1, lastRunAt: at, lastError: message };
      log({ level: 'WARN', message: 'compaction run failed; the next run starts again from the manifest', error: message });
    }
  };
  const schedule = () => {
    if (stopped) return;
    timer = setTimeout(() => {
      running = once().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    status: () => status,
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await running;
    },
  };
}
