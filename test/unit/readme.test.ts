import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';

const read = (path: string) => readFileSync(new URL(`../../${path}`, import.meta.url), 'utf8');

describe('README Quick start', () => {
  const section = /## Quick start\n+```sh\n([\s\S]*?)```/.exec(read('README.md'))?.[1] ?? '';
  const lines = section.split('\n').filter((l) => l.trim() !== '');

  it('holds exactly two command lines: run locally, then test', () => {
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/npx clickstream run/);
    expect(lines[1]).toMatch(/npm test/);
  });

  it('is the command CI runs', () => {
    const ciCommands = read('.ci/run').split('\n').filter((l) => l.trim() !== '' && !l.trim().startsWith('#'));
    expect(ciCommands.at(-1)).toBe(lines[1]);
  });
});
