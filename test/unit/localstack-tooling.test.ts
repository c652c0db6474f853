import { spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { findPython, pythonCandidates } from '../localstack/install.ts';
import { portFromEnv } from '../port.ts';

describe('the cloud stage port (CLICKSTREAM_TEST_LOCALSTACK_PORT)', () => {
  it('defaults when unset or empty, and takes a valid port', () => {
    expect(portFromEnv('CLICKSTREAM_TEST_LOCALSTACK_PORT', undefined, 28566)).toBe(28566);
    expect(portFromEnv('CLICKSTREAM_TEST_LOCALSTACK_PORT', '', 28566)).toBe(28566);
    expect(portFromEnv('CLICKSTREAM_TEST_LOCALSTACK_PORT', '32566', 28566)).toBe(32566);
  });

  it.each(['4566x', '80', '70000', '-1', '3.5', 'localhost:4566'])('rejects %j in one sentence naming the variable', (value) => {
    expect(() => portFromEnv('CLICKSTREAM_TEST_LOCALSTACK_PORT', value, 28566)).toThrow(
      new RegExp(`^CLICKSTREAM_TEST_LOCALSTACK_PORT must be a port number from 1024 to 65535, got "${value.replace('.', '\\.')}"$`),
    );
  });
});

describe('npm run localstack (CLICKSTREAM_LOCALSTACK_PORT)', () => {
  it('stops with one line and exit code 1 on a bad port, before installing anything', () => {
    const run = spawnSync(process.execPath, ['--import', 'tsx', 'test/localstack/run.ts'], {
      cwd: new URL('../..', import.meta.url),
      env: { ...process.env, CLICKSTREAM_LOCALSTACK_PORT: 'localhost:4566' },
      encoding: 'utf8',
    });
    expect(run.status).toBe(1);
    expect(run.stderr.trim()).toBe('localstack: CLICKSTREAM_LOCALSTACK_PORT must be a port number from 1024 to 65535, got "localhost:4566"');
  });
});

describe('the Python that LocalStack is installed with', () => {
  it('says in one sentence what to install when no candidate is 3.13 or newer', () => {
    // GIVEN a "python3" that reports 3.12 and one that does not run at all
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-python-'));
    try {
      const old = join(dir, 'python3');
      writeFileSync(old, '#!/bin/sh\necho "3 12"\n');
      chmodSync(old, 0o755);
      // THEN neither is taken
      expect(() => findPython([old, join(dir, 'missing')])).toThrow(/^LocalStack \S+ needs Python 3\.13 or newer with venv, and none was found on PATH or in pyenv: install one \(e\.g\. `pyenv install 3\.13`\) and rerun$/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('looks on PATH first, then in pyenv from the newest version down', () => {
    const dir = mkdtempSync(join(tmpdir(), 'clickstream-pyenv-'));
    try {
      const make = (path: string) => {
        mkdirSync(join(path, '..'), { recursive: true });
        writeFileSync(path, '');
      };
      const onPath = join(dir, 'bin', 'python3.13');
      const [older, newer] = ['3.9.18', '3.13.0'].map((v) => join(dir, 'pyenv', 'versions', v, 'bin', 'python3'));
      [onPath, older!, newer!].forEach(make);
      expect(pythonCandidates({ PATH: join(dir, 'bin'), PYENV_ROOT: join(dir, 'pyenv') })).toEqual([onPath, newer, older]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
