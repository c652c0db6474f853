/** The dashboard server as a local service: `up` runs `clickstream serve` in the background. */
import { rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configEnv, type LocalConfig } from '../config.ts';
import { UserError } from '../errors.ts';
import { bundleDashboard } from '../bundle.ts';
import { assertPortFree, logTail, runningPid, startDetached, stopProcess, waitFor, type ManagedProcess } from './process.ts';

const CLI = fileURLToPath(new URL('../bin/clickstream.mjs', import.meta.url));

export function dashboardProcess(config: LocalConfig): ManagedProcess {
  const dir = join(config.stateDir, 'dashboard');
  return { name: 'dashboard', pidFile: join(dir, 'dashboard.pid'), logFile: join(dir, 'dashboard.log'), marker: `serve --instance ${config.stateDir} ` };
}

export function dashboardUrl(config: LocalConfig): string {
  return `http://127.0.0.1:${config.dashboardPort}/`;
}

export function mirrorDirectory(config: LocalConfig): string {
  return join(config.stateDir, 'dashboard', 'lake-mirror');
}

export async function dashboardReady(config: LocalConfig): Promise<boolean> {
  try {
    return (await fetch(`${dashboardUrl(config)}api/health`, { signal: AbortSignal.timeout(2_000) })).ok;
  } catch {
    return false;
  }
}

/** Builds the dashboard and starts its server unless ours is running; returns whether it started one. */
export async function startDashboard(config: LocalConfig): Promise<boolean> {
  const proc = dashboardProcess(config);
  if (runningPid(proc) !== undefined) return false;
  await assertPortFree(config.dashboardPort, 'the dashboard', 'CLICKSTREAM_DASHBOARD_PORT');
  await bundleDashboard();
  // The mirror's index of what it holds lives in the server's memory: start it from an empty copy.
  rmSync(mirrorDirectory(config), { recursive: true, force: true });
  startDetached(proc, process.execPath, [CLI, 'serve', '--instance', config.stateDir], { env: { ...process.env, ...configEnv(config) } });
  await waitFor(
    async () => {
      if (runningPid(proc) === undefined) throw new UserError(`the dashboard server exited during startup; see ${proc.logFile}: ${logTail(proc.logFile)}`);
      return dashboardReady(config);
    },
    60_000,
    () => `the dashboard server did not answer within 60s; see ${proc.logFile}`,
  );
  return true;
}

export async function stopDashboard(config: LocalConfig): Promise<boolean> {
  return stopProcess(dashboardProcess(config), 10_000);
}
