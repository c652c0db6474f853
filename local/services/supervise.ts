/**
 * `clickstream supervise`: the supervisor loop in the foreground, until SIGTERM.
 * `up` runs it in the background. Every 2 s it looks at each service of ours;
 * one that died (see diedUnexpectedly) is started again with the same start
 * function `up` uses, in `up`'s order, and the restart is recorded for `status`.
 * A start that fails is tried again with bounded backoff, for as long as it takes.
 */
import { setTimeout as sleep } from 'node:timers/promises';
import type { LocalConfig } from '../common/config.ts';
import { backoffMs } from '../common/backoff.ts';
import { consumerProcess, startConsumer } from '../consume/consumer-service.ts';
import { dashboardProcess, startDashboard } from '../serve/dashboard-service.ts';
import { kafkaProcess, startKafka } from './kafka.ts';
import { minioProcess, startMinio } from './minio.ts';
import { diedUnexpectedly, recordedPid, runningPid, type ManagedProcess } from './process.ts';
import { recordRestart } from './supervisor.ts';

const TICK_MS = 2_000;

interface Watched {
  readonly name: string;
  readonly proc: ManagedProcess;
  readonly start: () => Promise<unknown>;
}

/** The services this pipeline runs itself, in the order `up` starts them; ones given by the environment are not ours to restart. */
function watchedServices(config: LocalConfig, log: (line: string) => void): Watched[] {
  return [
    ...(config.externalS3 ? [] : [{ name: 'minio', proc: minioProcess(config), start: () => startMinio(config, log) }]),
    ...(config.externalKafka ? [] : [{ name: 'kafka', proc: kafkaProcess(config), start: () => startKafka(config, log) }]),
    { name: 'consumer', proc: consumerProcess(config), start: () => startConsumer(config) },
    { name: 'dashboard', proc: dashboardProcess(config), start: () => startDashboard(config) },
  ];
}

/** A service owed a restart: it died, and failed starts so far push the next try back. */
export interface Owed {
  readonly previousPid: number;
  readonly failures: number;
  readonly nextTryAt: number;
}

/** After a failed start, the next try: 2 s doubling, at most a minute apart. */
export function afterFailure(owed: Owed, nowMs: number): Owed {
  const failures = owed.failures + 1;
  return { ...owed, failures, nextTryAt: nowMs + backoffMs(failures, 2_000, 60_000) };
}

export async function runSupervisor(config: LocalConfig): Promise<number> {
  const log = (entry: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
  const services = watchedServices(config, (line) => log({ level: 'INFO', message: line }));
  // A failed start removes the pid file (readyOrStopped), so what is owed is remembered here, not read from disk.
  const owed = new Map<string, Owed>();
  const stop = new AbortController();
  process.once('SIGTERM', () => stop.abort());
  process.once('SIGINT', () => stop.abort());
  log({ level: 'INFO', message: 'supervising', services: services.map((s) => s.name) });

  while (!stop.signal.aborted) {
    for (const service of services) {
      if (stop.signal.aborted) break;
      if (!owed.has(service.name) && diedUnexpectedly(service.proc)) {
        const previousPid = recordedPid(service.proc) ?? 0;
        log({ level: 'WARN', message: `${service.name} exited on its own; restarting it`, previousPid });
        owed.set(service.name, { previousPid, failures: 0, nextTryAt: 0 });
      }
      const due = owed.get(service.name);
      if (!due || Date.now() < due.nextTryAt) continue;
      if (runningPid(service.proc) !== undefined) {
        owed.delete(service.name); // started meanwhile by someone else (a second `up`)
        continue;
      }
      try {
        await service.start();
        const pid = runningPid(service.proc);
        owed.delete(service.name);
        recordRestart(config, { service: service.name, at: new Date().toISOString(), previousPid: due.previousPid, ...(pid !== undefined && { pid }) });
        log({ level: 'INFO', message: `${service.name} restarted`, pid });
      } catch (error) {
        const reason = (error as Error).message.split('\n')[0] ?? '';
        const next = afterFailure(due, Date.now());
        owed.set(service.name, next);
        recordRestart(config, { service: service.name, at: new Date().toISOString(), previousPid: due.previousPid, error: reason });
        log({ level: 'ERROR', message: `${service.name} did not restart; trying again`, attempt: next.failures, inSeconds: (next.nextTryAt - Date.now()) / 1000, error: reason });
      }
    }
    await sleep(TICK_MS, undefined, { signal: stop.signal }).catch(() => undefined);
  }
  log({ level: 'INFO', message: 'supervisor stopped' });
  return 0;
}
