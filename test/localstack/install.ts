/**
 * LocalStack in host mode (no Docker) from PyPI, pinned with every dependency
 * (constraints.txt), plus this project's Lambda runtime executor
 * (host_executor/) and kinesis-mock, installed once into
 * ~/.cache/clickstream/localstack-<version>-<hash>/ and reused by every run and
 * clone. The hash covers the constraints and the executor's files, so changing
 * either installs afresh. A failed install is removed, never taken for a good one.
 */
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { homedir, tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const HERE = fileURLToPath(new URL('.', import.meta.url));
const CONSTRAINTS = join(HERE, 'constraints.txt');
const EXECUTOR = join(HERE, 'host_executor');
const constraintsText = readFileSync(CONSTRAINTS, 'utf8');

/** The pinned LocalStack version, read from the constraints so it is written once. */
export const LOCALSTACK_VERSION = /^localstack-core==(\S+)$/m.exec(constraintsText)?.[1] ?? '';
if (!LOCALSTACK_VERSION) throw new Error(`${CONSTRAINTS} must pin localstack-core as localstack-core==<version>`);

/** LocalStack 4.14 needs Python 3.13 or newer (on 3.12 its package manager fails to import). */
export const MIN_PYTHON: readonly [number, number] = [3, 13];

export interface LocalStackInstall {
  /** The venv's python, which runs `-m localstack.runtime.main`. */
  readonly python: string;
  /** Binaries LocalStack would ship in its image (kinesis-mock), linked into each run's filesystem root. */
  readonly staticLibs: string;
  /** Whether this call installed it (false: found in the cache). */
  readonly installed: boolean;
}

function pythonVersion(command: string): [number, number] | undefined {
  const run = spawnSync(command, ['-c', 'import sys; print(sys.version_info[0], sys.version_info[1])'], { encoding: 'utf8' });
  const match = run.status === 0 ? /^(\d+) (\d+)$/.exec(run.stdout.trim()) : null;
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

const newEnough = ([major, minor]: [number, number]) => major > MIN_PYTHON[0] || (major === MIN_PYTHON[0] && minor >= MIN_PYTHON[1]);

/**
 * Candidate interpreters, best first: python3.13 / python3.14 / python3 on PATH, then
 * pyenv's versions (~/.pyenv or $PYENV_ROOT), which this machine kind ships.
 */
export function pythonCandidates(env: NodeJS.ProcessEnv = process.env): string[] {
  const onPath = (env.PATH ?? '').split(delimiter).filter((d) => d !== '');
  const names = ['python3.14', 'python3.13', 'python3'];
  const fromPath = names.flatMap((name) => onPath.map((dir) => join(dir, name))).filter((p) => existsSync(p));
  const pyenv = join(env.PYENV_ROOT ?? join(homedir(), '.pyenv'), 'versions');
  const fromPyenv = existsSync(pyenv)
    ? readdirSync(pyenv)
        .filter((v) => /^\d+\.\d+\.\d+$/.test(v))
        .sort((a, b) => b.localeCompare(a, undefined, { numeric: true }))
        .map((v) => join(pyenv, v, 'bin', 'python3'))
        .filter((p) => existsSync(p))
    : [];
  return [...fromPath, ...fromPyenv];
}

/** The first candidate that is Python 3.13 or newer with venv, or a one-sentence error. */
export function findPython(candidates: readonly string[] = pythonCandidates()): string {
  for (const candidate of candidates) {
    const version = pythonVersion(candidate);
    if (version && newEnough(version) && spawnSync(candidate, ['-c', 'import venv, ensurepip'], { stdio: 'ignore' }).status === 0) return candidate;
  }
  throw new Error(
    `LocalStack ${LOCALSTACK_VERSION} needs Python ${MIN_PYTHON.join('.')} or newer with venv, and none was found on PATH or in pyenv: install one (e.g. \`pyenv install 3.13\`) and rerun`,
  );
}

function mustRun(what: string, command: string, args: readonly string[], env?: NodeJS.ProcessEnv): void {
  const run = spawnSync(command, args, { encoding: 'utf8', env: env ?? process.env, maxBuffer: 64 * 1024 * 1024 });
  if (run.error || run.status !== 0) {
    const output = `${run.stderr ?? ''}${run.stdout ?? ''}`.trim().split('\n').slice(-15).join('\n');
    throw new Error(`installing LocalStack failed at ${what}: ${command} ${args.join(' ')} exited ${run.status ?? run.signal ?? 'without starting'}: ${output || run.error?.message}`);
  }
}

/** sha256 of the constraints and every file of the executor package, in a stable order. */
function installHash(): string {
  const hash = createHash('sha256').update(constraintsText);
  const walk = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.name === '__pycache__' || entry.name === 'build' || entry.name.endsWith('.egg-info')) continue;
      const path = join(dir, entry.name);
      if (entry.isDirectory()) walk(path);
      else hash.update(entry.name).update(readFileSync(path));
    }
  };
  walk(EXECUTOR);
  return hash.digest('hex').slice(0, 8);
}

export function installDir(env: NodeJS.ProcessEnv = process.env): string {
  return join(env.XDG_CACHE_HOME ?? join(homedir(), '.cache'), 'clickstream', `localstack-${LOCALSTACK_VERSION}-${installHash()}`);
}

/** Installs LocalStack, the executor and kinesis-mock unless the cache already holds them. */
export function installLocalStack(log: (line: string) => void = () => {}): LocalStackInstall {
  const dir = installDir();
  const venv = join(dir, 'venv');
  const python = join(venv, 'bin', 'python');
  const fsRoot = join(dir, 'fs');
  const staticLibs = join(fsRoot, 'usr', 'lib', 'localstack');
  const done = join(dir, 'installed');
  if (existsSync(done)) return { python, staticLibs, installed: false };

  const base = findPython();
  log(`installing LocalStack ${LOCALSTACK_VERSION} into ${dir} (once; a few minutes)`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The executor is built from a copy, so the build leaves nothing in the repository.
  const build = mkdtempSync(join(tmpdir(), 'clickstream-executor-build-'));
  try {
    mustRun('the venv', base, ['-m', 'venv', venv]);
    const pip = [join(venv, 'bin', 'pip'), '--disable-pip-version-check', '--quiet'] as const;
    mustRun('pip', pip[0], [...pip.slice(1), 'install', '--constraint', CONSTRAINTS, `localstack-core[runtime]==${LOCALSTACK_VERSION}`]);
    cpSync(EXECUTOR, join(build, 'host_executor'), { recursive: true });
    // No build isolation: setuptools comes from the venv, pinned by the constraints, not fetched anew.
    mustRun('the host executor', pip[0], [...pip.slice(1), 'install', '--no-deps', '--no-build-isolation', '--constraint', CONSTRAINTS, join(build, 'host_executor')]);
    // kinesis-mock (kinesis-local on npm, which pins its one dependency), where LocalStack's image keeps it.
    mustRun('kinesis-mock', python, ['-m', 'localstack.cli.lpm', 'install', 'kinesis-mock'], {
      ...process.env,
      OVERRIDE_IN_DOCKER: '0',
      FILESYSTEM_ROOT: fsRoot,
      DISABLE_EVENTS: '1',
    });
    if (!existsSync(staticLibs)) throw new Error(`installing LocalStack failed: kinesis-mock did not land in ${staticLibs}`);
    writeFileSync(done, `${new Date().toISOString()}\n`);
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  } finally {
    rmSync(build, { recursive: true, force: true });
  }
  return { python, staticLibs, installed: true };
}
