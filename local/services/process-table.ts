/**
 * Reads the operating system's process table through `ps`, so supervision works
 * the same on Linux and macOS (neither has to have `/proc`). Only POSIX/BSD `ps`
 * options are used: `-o` with empty headers, `-p`, and `-ww`.
 */
import { spawnSync } from 'node:child_process';
import { UserError } from '../common/errors.ts';

/** What supervision needs to know about one process. */
export interface ProcessInfo {
  /** The command line, arguments joined by spaces. */
  readonly command: string;
  /** Exited but not yet reaped by its parent: present in the table, not running. */
  readonly zombie: boolean;
}

export interface ProcessTable {
  /** The process with this pid, or undefined if there is none. */
  describe(pid: number): ProcessInfo | undefined;
}

/**
 * Parses the output of `ps -o stat=,command= -p <pid>`: one line, the state
 * column (`Ss`, `R+`, `Z`, ...) then the command. Empty output means no such process.
 */
export function parsePsLine(output: string): ProcessInfo | undefined {
  const line = output.split('\n').find((l) => l.trim() !== '');
  if (line === undefined) return undefined;
  // The state is a letter then flags; anything else means ps printed something we did not ask for.
  const match = /^\s*([A-Za-z][A-Za-z<>+|]*)(?:\s+(.*))?$/.exec(line);
  if (!match) throw new Error(`unexpected ps output: "${line}"`);
  return { command: (match[2] ?? '').trim(), zombie: match[1]!.startsWith('Z') };
}

/** The real process table. */
export const psProcessTable: ProcessTable = {
  describe(pid) {
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    // -ww: never cut the command line to the terminal width (COLUMNS), or the marker could be cut off.
    const result = spawnSync('ps', ['-ww', '-o', 'stat=,command=', '-p', String(pid)], { encoding: 'utf8' });
    if (result.error) throw new UserError(`could not run ps to check the services' processes (${result.error.message}): install ps (the procps package on Linux)`);
    // ps exits 1 with no output when the pid does not exist (Linux and macOS alike).
    return result.status === 0 ? parsePsLine(result.stdout) : undefined;
  },
};
