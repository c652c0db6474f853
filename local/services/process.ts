/**
 * Background service processes: start detached with a pid file and a log file,
 * find them again from another CLI invocation, stop them without orphans.
 */
import { spawn, type SpawnOptions } from 'node:child_process';
import { mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { dirname } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { UserError } from '../common/errors.ts';
import { psProcessTable, type ProcessTable } from './process-table.ts';

export interface ManagedProcess {
  readonly name: string;
  readonly pidFile: string;
  readonly logFile: string;
  /** A string the process's command line contains, so a recycled pid is never mistaken for ours. */
  readonly marker: string;
}

/**
 * The pid of our running process, or undefined. The pid file's process is ours only
 * if its command line contains the marker: pids are recycled, and a stranger's
 * process must never be signalled. A pid file is written at start and removed only
 * by a deliberate stop, so one whose process is gone is kept: it is how the
 * supervisor tells a service that died from one that was stopped (see diedUnexpectedly).
 */
export function runningPid(proc: ManagedProcess, table: ProcessTable = psProcessTable): number | undefined {
  const pid = recordedPid(proc);
  if (pid === undefined) return undefined;
  const info = table.describe(pid);
  // The trailing space lets a marker that ends in a space match the last argument.
  return info && !info.zombie && `${info.command} `.includes(proc.marker) ? pid : undefined;
}

/** The pid written at start, if the file holds one (a damaged file is removed: it records nothing). */
export function recordedPid(proc: ManagedProcess): number | undefined {
  let text: string;
  try {
    text = readFileSync(proc.pidFile, 'utf8').trim();
  } catch {
    return undefined;
  }
  const pid = Number(text);
  if (/^\d+$/.test(text) && pid > 0) return pid;
  rmSync(proc.pidFile, { force: true });
  return undefined;
}

/** Started and never stopped, yet not running: the service exited on its own (a crash, a kill, out of memory). */
export function diedUnexpectedly(proc: ManagedProcess, table: ProcessTable = psProcessTable): boolean {
  return recordedPid(proc) !== undefined && runningPid(proc, table) === undefined;
}

export function startDetached(proc: ManagedProcess, command: string, args: string[], options: SpawnOptions = {}): number {
  mkdirSync(dirname(proc.logFile), { recursive: true });
  mkdirSync(dirname(proc.pidFile), { recursive: true });
  const log = openSync(proc.logFile, 'a');
  try {
    // Its own process group, so `stop` can signal the service and anything it forks.
    const child = spawn(command, args, { ...options, detached: true, stdio: ['ignore', log, log] });
    // A failed spawn also emits 'error' later; without a listener that would crash the CLI.
    child.once('error', () => undefined);
    if (child.pid === undefined) throw new UserError(`could not start ${proc.name}: ${command} was not found`);
    child.unref();
    writeFileSync(proc.pidFile, `${child.pid}\n`, { mode: 0o600 });
    return child.pid;
  } finally {
    closeSync(log);
  }
}

/**
 * Waits for a process just started to become ready; if it does not (it exited, or
 * the wait timed out), stops it before passing the error on, so a failed start
 * leaves nothing running that a later start would mistake for a healthy service.
 */
export async function readyOrStopped(proc: ManagedProcess, ready: Promise<void>): Promise<void> {
  try {
    await ready;
  } catch (error) {
    await stopProcess(proc, 10_000);
    throw error;
  }
}

/**
 * SIGTERM, then SIGKILL after the grace period. Returns true if something was stopped.
 * The pid file goes first, in the same tick as the signal: from then on the stop is
 * deliberate, and the supervisor does not take the exit for a crash and restart it.
 */
export async function stopProcess(proc: ManagedProcess, graceMs: number): Promise<boolean> {
  const pid = runningPid(proc);
  rmSync(proc.pidFile, { force: true });
  if (pid === undefined) return false;
  signalGroup(pid, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (Date.now() < deadline && isRunning(pid)) await sleep(100);
  if (isRunning(pid)) signalGroup(pid, 'SIGKILL');
  while (isRunning(pid)) await sleep(50);
  return true;
}

function signalGroup(pid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/** A zombie (exited, not yet reaped by its parent) is not running. */
export function isRunning(pid: number, table: ProcessTable = psProcessTable): boolean {
  const info = table.describe(pid);
  return info !== undefined && !info.zombie;
}

export async function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = createServer();
    server.once('error', () => resolve(false));
    server.listen({ host: '127.0.0.1', port, exclusive: true }, () => server.close(() => resolve(true)));
  });
}

export async function assertPortFree(port: number, what: string, envVar: string): Promise<void> {
  if (!(await isPortFree(port))) {
    throw new UserError(`port ${port} for ${what} is already in use by another program: stop it, or set ${envVar} to a free port`);
  }
}

/** Resolves on the first SIGTERM or SIGINT: how a foreground service learns to stop. */
export function untilStopSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGTERM', () => resolve());
    process.once('SIGINT', () => resolve());
  });
}

/** Polls `check` until it returns true; fails with `message` after the timeout. */
export async function waitFor(check: () => Promise<boolean> | boolean, timeoutMs: number, message: () => string): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check()) return;
    await sleep(200);
  }
  throw new UserError(message());
}

/** The last lines of a log, to quote when a service fails to start. */
export function logTail(logFile: string, lines = 5): string {
  try {
    return readFileSync(logFile, 'utf8').trimEnd().split('\n').slice(-lines).join(' | ');
  } catch {
    return '(no log)';
  }
}

export interface CommandResult {
  readonly code: number;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs a command to completion, capturing its output; a missing command gives code 127. */
export async function runCommand(command: string, args: string[], options: SpawnOptions = {}): Promise<CommandResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { ...options, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout?.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr?.on('data', (d: Buffer) => (stderr += d.toString()));
    child.once('error', () => resolve({ code: 127, stdout, stderr }));
    child.once('close', (code) => resolve({ code: code ?? 1, stdout, stderr }));
  });
}
