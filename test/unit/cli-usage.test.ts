import { describe, expect, it } from 'vitest';
import { COMMAND_OPTIONS, USAGE } from '../../local/cli/cli-options.ts';

/** USAGE split into each command's lines: its own line and the indented ones after it. */
function usageOf(command: string): string {
  const lines = USAGE.split('\n');
  const start = lines.findIndex((line) => line.startsWith(`  ${command} `));
  if (start < 0) return '';
  const rest = lines.slice(start + 1);
  const end = rest.findIndex((line) => !line.startsWith('             '));
  return [lines[start], ...rest.slice(0, end < 0 ? rest.length : end)].join('\n');
}

// Passed by `up` to the services it starts, so their command lines name the state dir; not for people.
const INTERNAL = new Set(['instance']);

describe('usage text', () => {
  it.each(Object.entries(COMMAND_OPTIONS))('lists %s and every option its parser accepts', (command, options) => {
    const usage = usageOf(command);
    expect(usage, `${command} is missing from the usage text`).not.toBe('');
    for (const option of Object.keys(options).filter((o) => !INTERNAL.has(o))) {
      expect(usage, `--${option} is missing from the usage of ${command}`).toMatch(new RegExp(`\\[--${option}[ \\]]`));
    }
  });

  it('lists no command or option that the parser does not accept', () => {
    const commands = [...USAGE.matchAll(/^ {2}([a-z]+) {2,}/gm)].map((m) => m[1]);
    expect(commands.sort()).toEqual(Object.keys(COMMAND_OPTIONS).sort());
    for (const [command, options] of Object.entries(COMMAND_OPTIONS)) {
      const listed = [...usageOf(command).matchAll(/\[--([a-z-]+)/g)].map((m) => m[1]);
      expect(listed.filter((o) => !(o! in options)), `options listed for ${command} that it rejects`).toEqual([]);
    }
  });
});
