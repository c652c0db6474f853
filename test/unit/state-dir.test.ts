import { chmodSync, mkdirSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ensureStateDir, loadConfig } from '../../local/common/config.ts';

const mode = (path: string) => statSync(path).mode & 0o777;

describe('ensureStateDir', () => {
  let scratch: string;
  beforeEach(() => {
    scratch = mkdtempSync(join(tmpdir(), 'state-dir-'));
  });
  afterEach(() => rmSync(scratch, { recursive: true, force: true }));

  it('creates a missing state dir with mode 0700', () => {
    const stateDir = join(scratch, 'a', 'state');
    ensureStateDir(loadConfig({ CLICKSTREAM_STATE_DIR: stateDir }));
    expect(mode(stateDir)).toBe(0o700);
  });

  it.each(['755', '777', '750', '701'])('tightens an existing state dir made %s to 0700', (octal) => {
    const made = parseInt(octal, 8);
    const stateDir = join(scratch, 'state');
    mkdirSync(stateDir);
    chmodSync(stateDir, made);
    expect(mode(stateDir)).toBe(made);
    ensureStateDir(loadConfig({ CLICKSTREAM_STATE_DIR: stateDir }));
    expect(mode(stateDir)).toBe(0o700);
  });

  it('says what to do when the state dir is a file', () => {
    const stateDir = join(scratch, 'state');
    writeFileSync(stateDir, '');
    expect(() => ensureStateDir(loadConfig({ CLICKSTREAM_STATE_DIR: stateDir }))).toThrow(
      `the state directory ${stateDir} (CLICKSTREAM_STATE_DIR) is not a directory: point CLICKSTREAM_STATE_DIR at a directory you own`,
    );
  });

  it('says what to do when the state dir cannot be created under a file', () => {
    writeFileSync(join(scratch, 'file'), '');
    const stateDir = join(scratch, 'file', 'state');
    expect(() => ensureStateDir(loadConfig({ CLICKSTREAM_STATE_DIR: stateDir }))).toThrow(
      `the state directory ${stateDir} (CLICKSTREAM_STATE_DIR) could not be created (ENOTDIR): point CLICKSTREAM_STATE_DIR at a directory you own`,
    );
  });
});
