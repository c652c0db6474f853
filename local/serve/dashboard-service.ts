/** The dashboard server as a local service: `up` runs `clickstream serve` in the background. */
import { join } from 'node:path';
import type { LocalConfig } from '../common/config.ts';
import { cliServiceProcess, startCliService } from '../services/cli-service.ts';
import { assertPortFree, runningPid, stopProcess, type ManagedProcess } from '../services/process.ts';

export function dashboardProcess(config: LocalConfig): ManagedProcess {
  return cliServiceProcess(config, 'dashboard', 'serve');
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

/** Starts the dashboard server unless ours is running (the server builds the site itself); returns whether it started one. */
export async function startDashboard(config: LocalConfig): Promise<boolean> {
  const proc = dashboardProcess(config);
  if (runningPid(proc) !== undefined) return false;
  await assertPortFree(config.dashboardPort, 'the dashboard', 'CLICKSTREAM_DASHBOARD_PORT');
  // The mirror keeps its copy and an index of it across restarts: only what changed is fetched.
  await startCliService(config, proc, 'serve', () => dashboardReady(config));
  return true;
}

export async function stopDashboard(config: LocalConfig): Promise<boolean> {
  return stopProcess(dashboardProcess(config), 10_000);
}
