/**
 * The compactor in the local runtime: the bundled compactor Lambda, invoked on a
 * timer by the consumer process, each run in a Node process of its own, as
 * EventBridge invokes it in the cloud. Runs never overlap; a failed run is logged
 * and the next one starts from the manifest, as in the cloud.
 */
import { spawn } from 'node:child_process';
import { pathToFileURL } from 'node:url';
import type { CompactionResult } from '../../lambdas/compactor/compact-lake.ts';

/** What the run's process does: the handler once, its result or its error's message back over IPC. */
const RUN_ONCE = `
const { handler } = await import(process.argv[1]);
let reply;
try { reply = { result: await handler() }; } catch (error) { reply = { error: String(error?.message ?? error).split('\\n')[0] }; }
process.send(reply, () => process.disconnect());
`;

/**
 * A compaction run of the bundle (its index.mjs) in a process of its own: its log lines go where this
 * process's go. Run in the consumer's process, a compaction's work on the main thread (writing the hour's
 * files) stopped the consumer: with a settled hour of a million events, no batch was written for about
 * 15 s, and the dashboard's freshness went from about 2 s to 19 (measured). Aborting kills the run: the
 * compactor's protocol leaves the lake readable whenever a run dies. The run's settings come from env, as
 * the function's come from its environment.
 */
export function compactInOwnProcess(bundle: string, env: NodeJS.ProcessEnv = process.env): (signal: AbortSignal) => Promise<CompactionResult> {
  return (signal) =>
    new Promise((resolve, reject) => {
      const child = spawn(process.execPath, ['--input-type=module', '-e', RUN_ONCE, pathToFileURL(bundle).href], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      let reply: { result?: CompactionResult; error?: string } = {};
      child.on('message', (message) => (reply = message as typeof reply));
      const kill = () => child.kill('SIGTERM');
      signal.addEventListener('abort', kill, { once: true });
      child.on('error', reject);
      child.on('exit', (code, killedBy) => {
        signal.removeEventListener('abort', kill);
        if (reply.result) resolve(reply.result);
        else reject(new Error(reply.error ?? `the compactor's process ${killedBy ? `was stopped by ${killedBy}` : `exited with code ${code}`} before it finished`));
      });
    });
}

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
  /** Stops the timer and the run in progress (its process is killed), and waits for it to end. */
  stop(): Promise<void>;
}

export function startCompactionLoop(run: (signal: AbortSignal) => Promise<CompactionResult>, intervalMs: number, log: (entry: Record<string, unknown>) => void): CompactionLoop {
  let status: CompactionStatus = { runs: 0, failedRuns: 0, hoursCompacted: 0, lateFilesFolded: 0, filesDeleted: 0 };
  let running: Promise<void> = Promise.resolve();
  const stopping = new AbortController();
  let timer: NodeJS.Timeout | undefined;
  const once = async () => {
    const at = new Date().toISOString();
    try {
      const r = await run(stopping.signal);
      status = {
        runs: status.runs + 1,
        failedRuns: status.failedRuns,
        hoursCompacted: status.hoursCompacted + r.hoursCompacted,
        lateFilesFolded: status.lateFilesFolded + r.lateFilesFolded,
        filesDeleted: status.filesDeleted + r.filesDeleted,
        lastRunAt: at,
      };
    } catch (error) {
      if (stopping.signal.aborted) return; // stopped midway: not a failure
      const message = (error as Error).message.split('\n')[0]!;
      status = { ...status, runs: status.runs + 1, failedRuns: status.failedRuns + 1, lastRunAt: at, lastError: message };
      log({ level: 'WARN', message: 'compaction run failed; the next run starts again from the manifest', error: message });
    }
  };
  const schedule = () => {
    if (stopping.signal.aborted) return;
    timer = setTimeout(() => {
      running = once().then(schedule);
    }, intervalMs);
    timer.unref();
  };
  schedule();
  return {
    status: () => status,
    async stop() {
      stopping.abort();
      clearTimeout(timer);
      await running;
    },
  };
}
