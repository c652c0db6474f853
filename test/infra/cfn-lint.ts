/**
 * cfn-lint from PyPI, pinned with all its dependencies (cfn-lint-constraints.txt),
 * installed on first use into a venv under ~/.cache/clickstream/ so a fresh
 * machine needs only python3 with venv. The venv's name carries a hash of the
 * constraints, so changing a pin installs afresh. A failed install, or a
 * cfn-lint run whose exit code or output cannot be read, throws: the test fails
 * rather than passing on a linter that never ran.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const CONSTRAINTS = fileURLToPath(new URL('cfn-lint-constraints.txt', import.meta.url));
const constraintsText = readFileSync(CONSTRAINTS, 'utf8');

/** The pinned cfn-lint version, read from the constraints file so it is written once. */
export const CFN_LINT_VERSION = /^cfn-lint==(\S+)$/m.exec(constraintsText)?.[1] ?? '';
if (!CFN_LINT_VERSION) throw new Error(`${CONSTRAINTS} must pin cfn-lint as cfn-lint==<version>`);

/** cfn-lint's documented exit-code bits; a code with any other bit set (1, 16, …) means cfn-lint itself failed. */
export const EXIT_BITS = { error: 2, warning: 4, informational: 8 } as const;
const KNOWN_BITS = EXIT_BITS.error | EXIT_BITS.warning | EXIT_BITS.informational;

/** Runs a command and throws with its stderr when it cannot start or exits non-zero. */
function mustRun(command: string, args: readonly string[]): void {
  const run = spawnSync(command, args, { encoding: 'utf8' });
  if (run.error || run.status !== 0) {
    throw new Error(`installing cfn-lint failed: ${command} ${args.join(' ')} exited ${run.status ?? run.signal ?? 'without starting'}: ${(run.stderr || run.error?.message || '').trim()}`);
  }
}

export function cfnLintBinary(): string {
  const hash = createHash('sha256').update(constraintsText).digest('hex').slice(0, 8);
  const venv = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'clickstream', `cfn-lint-${CFN_LINT_VERSION}-${hash}`);
  const bin = join(venv, 'bin', 'cfn-lint');
  if (existsSync(bin)) return bin;
  mkdirSync(venv, { recursive: true });
  try {
    mustRun('python3', ['-m', 'venv', venv]);
    mustRun(join(venv, 'bin', 'pip'), ['install', '--quiet', '--disable-pip-version-check', '--constraint', CONSTRAINTS, `cfn-lint==${CFN_LINT_VERSION}`]);
  } catch (error) {
    // A half-built venv would be taken for a good one next time.
    rmSync(venv, { recursive: true, force: true });
    throw error;
  }
  return bin;
}

export interface CfnLintFindings {
  readonly errors: readonly string[];
  readonly warnings: readonly string[];
  readonly informational: readonly string[];
  readonly output: string;
}

/** parseable format: file:line:col:endline:endcol:RULE:message, the rule's letter giving its level. */
const PARSEABLE = /^.+:\d+:\d+:\d+:\d+:([EWI])\d{4}:.*$/;

/**
 * Reads a cfn-lint run by its exit code's bit flags (2 error, 4 warning, 8 informational)
 * and checks the parseable output agrees with them; throws on anything else.
 */
export function interpretCfnLint(status: number | null, stdout: string, stderr: string): CfnLintFindings {
  const fail = (why: string) => new Error(`cfn-lint ${why} (exit ${status}): ${(stderr || stdout).trim().slice(0, 2000)}`);
  if (status === null || !Number.isInteger(status) || status < 0 || (status & ~KNOWN_BITS) !== 0) throw fail('failed to run');
  const found = { E: [] as string[], W: [] as string[], I: [] as string[] };
  for (const line of stdout.split('\n').filter((l) => l.trim() !== '')) {
    const level = PARSEABLE.exec(line)?.[1] as keyof typeof found | undefined;
    if (!level) throw fail(`printed a line that is not in the parseable format: "${line}"`);
    found[level].push(line);
  }
  const agrees = (bit: number, lines: readonly string[]) => ((status & bit) !== 0) === lines.length > 0;
  if (!agrees(EXIT_BITS.error, found.E) || !agrees(EXIT_BITS.warning, found.W) || !agrees(EXIT_BITS.informational, found.I)) {
    throw fail('exit code does not match its findings');
  }
  return { errors: found.E, warnings: found.W, informational: found.I, output: stdout };
}

/** Runs cfn-lint on templates. Only errors should fail a caller; warnings and informational findings are advice. */
export function cfnLint(templates: readonly string[]): CfnLintFindings {
  const bin = cfnLintBinary();
  const run = spawnSync(bin, ['--format', 'parseable', '--', ...templates], { encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  if (run.error) throw new Error(`cfn-lint could not start (${bin}): ${run.error.message}`);
  return interpretCfnLint(run.status, run.stdout, run.stderr);
}
