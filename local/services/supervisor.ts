/**
 * The supervisor as a local service: `up` runs `clickstream supervise` in the
 * background, last, and `down` stops it first. It restarts a service of ours that
 * died (its pid file is still there, its process is gone) and records each restart
 * in supervisor/restarts.json, which `status` reads.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import type { LocalConfig } from '../common/config.ts';
import { cliServiceProcess, startCliService } from './cli-service.ts';
import { runningPid, stopProcess, type ManagedProcess } from './process.ts';

export function supervisorProcess(config: LocalConfig): ManagedProcess {
  return cliServiceProcess(config, 'supervisor', 'supervise');
}

/** One restart: when, what it replaced, and the new pid or why the start failed. */
export interface RestartRecord {
  readonly service: string;
  readonly at: string;
  readonly previousPid: number;
  readonly pid?: number;
  readonly error?: string;
}

/** The record keeps the latest restarts only, so a service that keeps dying cannot grow it without bound. */
export const MAX_RESTART_RECORDS = 200;

export function restartsFile(config: LocalConfig): string {
  return join(config.stateDir, 'supervisor', 'restarts.json');
}

export function readRestarts(config: LocalConfig): RestartRecord[] {
  try {
    const records = JSON.parse(readFileSync(restartsFile(config), 'utf8')) as unknown;
    return Array.isArray(records) ? (records as RestartRecord[]) : [];
  } catch {
    return [];
  }
}

export function appendRestart(records: readonly RestartRecord[], record: RestartRecord, max = MAX_RESTART_RECORDS): RestartRecord[] {
  return [...records, record].slice(-max);
}

export function recordRestart(config: LocalConfig, record: RestartRecord): void {
  const file = restartsFile(config);
  mkdirSync(dirname(file), { recursive: true, mode: 0o700 });
  writeFileSync(`${file}.part`, JSON.stringify(appendRestart(readRestarts(config), record)));
  renameSync(`${file}.part`, file);
}

/** What `status` says about one service's restarts: how many succeeded, and the latest attempt. */
export interface RestartSummary {
  readonly restarts: number;
  readonly lastRestart?: RestartRecord;
}

export function restartSummary(records: readonly RestartRecord[], service: string): RestartSummary {
  const mine = records.filter((r) => r.service === service);
  const last = mine.at(-1);
  return { restarts: mine.filter((r) => r.pid !== undefined).length, ...(last && { lastRestart: last }) };
}

/** Starts the supervisor unless ours is running; returns whether it started one. */
export async function startSupervisor(config: LocalConfig): Promise<boolean> {
  const proc = supervisorProcess(config);
  if (runningPid(proc) !== undefined) return false;
  // Nothing to wait for: it watches from its first tick, about a second after it starts.
  await startCliService(config, proc, 'supervise', (pid) => runningPid(proc) === pid);
  return true;
}

export async function stopSupervisor(config: LocalConfig): Promise<boolean> {
  return stopProcess(supervisorProcess(config), 10_000);
}
