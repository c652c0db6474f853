/**
 * Services that are this CLI run in the background (`clickstream consume`,
 * `clickstream serve`): one way to name, start and wait for them.
 */
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { configEnv, type LocalConfig } from '../common/config.ts';
import { UserError } from '../common/errors.ts';
import { logTail, readyOrStopped, runningPid, startDetached, waitFor, type ManagedProcess } from './process.ts';

const CLI = fileURLToPath(new URL('../cli/clickstream.mjs', import.meta.url));

/** `<command> --instance <state dir>` in the command line is how a pid is recognised as this pipeline's service. */
export function cliServiceProcess(config: LocalConfig, name: string, command: string): ManagedProcess {
  const dir = join(config.stateDir, name);
  return { name, pidFile: join(dir, `${name}.pid`), logFile: join(dir, `${name}.log`), marker: `${command} --instance ${config.stateDir} ` };
}

/** Starts `clickstream <command>` detached with this configuration and waits until `ready(pid)`. */
export async function startCliService(
  config: LocalConfig,
  proc: ManagedProcess,
  command: string,
  ready: (pid: number) => boolean | Promise<boolean>,
  nodeFlags: readonly string[] = [],
): Promise<void> {
  const pid = startDetached(proc, process.execPath, [...nodeFlags, CLI, command, '--instance', config.stateDir], { env: { ...process.env, ...configEnv(config) } });
  await readyOrStopped(
    proc,
    waitFor(
      async () => {
        if (runningPid(proc) === undefined) throw new UserError(`the ${proc.name} exited during startup; see ${proc.logFile}: ${logTail(proc.logFile)}`);
        return ready(pid);
      },
      60_000,
      () => `the ${proc.name} did not start within 60s; see ${proc.logFile}`,
    ),
  );
}
