/**
 * cfn-lint from PyPI, pinned, installed on first use into a venv under
 * ~/.cache/clickstream/ so a fresh machine needs only python3 with venv.
 */
import { execFileSync } from 'node:child_process';
import { existsSync, mkdirSync } from 'node:fs';
import { homedir } from 'node:os';
import { join } from 'node:path';

export const CFN_LINT_VERSION = '1.58.0';

export function cfnLintBinary(): string {
  const venv = join(process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'clickstream', `cfn-lint-${CFN_LINT_VERSION}`);
  const bin = join(venv, 'bin', 'cfn-lint');
  if (!existsSync(bin)) {
    mkdirSync(venv, { recursive: true });
    execFileSync('python3', ['-m', 'venv', venv], { stdio: 'pipe' });
    execFileSync(join(venv, 'bin', 'pip'), ['install', '--quiet', `cfn-lint==${CFN_LINT_VERSION}`], { stdio: 'pipe' });
  }
  return bin;
}

/** Runs cfn-lint on templates; resolves to its findings (empty when clean). Only errors count: warnings are printed as advice. */
export function cfnLint(templates: readonly string[]): { errors: string[]; output: string } {
  try {
    const output = execFileSync(cfnLintBinary(), ['--format', 'parseable', '--', ...templates], { encoding: 'utf8' });
    return { errors: [], output };
  } catch (error) {
    const output = String((error as { stdout?: string }).stdout ?? '');
    // parseable: file:line:col:endline:endcol:RULE:message; E… rules are errors, W… warnings, I… informational.
    const errors = output.split('\n').filter((l) => /:E\d{4}:/.test(l));
    return { errors, output };
  }
}
