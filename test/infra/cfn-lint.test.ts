import { chmodSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { cfnLintBinary, interpretCfnLint } from './cfn-lint.ts';

const E = 't.json:1:1:1:2:E3012:Property Resources/X/Properties/Y should be of type String';
const W = 't.json:3:1:3:2:W3005:Obsolete DependsOn on resource (Z)';
const I = 't.json:5:1:5:2:I3011:The default retention policy is Delete';

describe('cfn-lint exit codes, read by their documented bit flags', () => {
  it.each<[number, string[], { errors: number; warnings: number; informational: number }]>([
    [0, [], { errors: 0, warnings: 0, informational: 0 }],
    [2, [E], { errors: 1, warnings: 0, informational: 0 }],
    [4, [W], { errors: 0, warnings: 1, informational: 0 }],
    [8, [I], { errors: 0, warnings: 0, informational: 1 }],
    [14, [E, W, I], { errors: 1, warnings: 1, informational: 1 }],
  ])('exit %i', (status, lines, counts) => {
    const found = interpretCfnLint(status, lines.join('\n') + '\n', '');
    expect({ errors: found.errors.length, warnings: found.warnings.length, informational: found.informational.length }).toEqual(counts);
  });

  it.each<[string, number | null, string]>([
    ['exit 1 (cfn-lint itself failed)', 1, ''],
    ['an unknown bit', 16, ''],
    ['killed by a signal', null, ''],
    ['an error bit with no error line', 2, W],
    ['error lines with exit 0', 0, E],
    ['output that is not in the parseable format', 2, `${E}\nTraceback (most recent call last):`],
  ])('fails on %s', (_, status, stdout) => {
    expect(() => interpretCfnLint(status, stdout, 'stderr text')).toThrow(/^cfn-lint /);
  });
});

describe('cfn-lint install', () => {
  const saved = { PATH: process.env.PATH, XDG_CACHE_HOME: process.env.XDG_CACHE_HOME };
  afterEach(() => {
    process.env.PATH = saved.PATH;
    if (saved.XDG_CACHE_HOME === undefined) delete process.env.XDG_CACHE_HOME;
    else process.env.XDG_CACHE_HOME = saved.XDG_CACHE_HOME;
  });

  it("fails with pip's stderr when pip cannot install, and leaves no half-built venv", () => {
    const dir = mkdtempSync(join(tmpdir(), 'cfn-lint-install-'));
    // A python3 whose venv has a pip that always fails, as pip does offline or on an unknown version.
    const bin = join(dir, 'bin');
    mkdirSync(bin);
    const fakePython = join(bin, 'python3');
    writeFileSync(
      fakePython,
      '#!/bin/sh\nmkdir -p "$3/bin"\nprintf \'#!/bin/sh\\necho "ERROR: No matching distribution found for cfn-lint" >&2\\nexit 1\\n\' > "$3/bin/pip"\nchmod +x "$3/bin/pip"\n',
    );
    chmodSync(fakePython, 0o755);
    process.env.PATH = `${bin}:${saved.PATH}`;
    process.env.XDG_CACHE_HOME = join(dir, 'cache');
    try {
      expect(() => cfnLintBinary()).toThrow(/installing cfn-lint failed: .*pip install .*ERROR: No matching distribution found for cfn-lint/);
      expect(readdirSync(join(dir, 'cache', 'clickstream'))).toEqual([]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
