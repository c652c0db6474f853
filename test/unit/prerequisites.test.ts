import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { requireCommand, requireGo, requireJava } from '../../local/services/prerequisites.ts';

const saved = { JAVA_HOME: process.env.JAVA_HOME, PATH: process.env.PATH };
const dir = mkdtempSync(join(tmpdir(), 'clickstream-prereq-'));

/** A stand-in executable that prints what an old or odd tool would, to test our reading of it. */
function fakeTool(path: string, script: string): void {
  writeFileSync(path, `#!/bin/sh\n${script}\n`);
  chmodSync(path, 0o755);
}

afterEach(() => {
  process.env.JAVA_HOME = saved.JAVA_HOME;
  if (saved.JAVA_HOME === undefined) delete process.env.JAVA_HOME;
  process.env.PATH = saved.PATH;
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('prerequisite checks', () => {
  it('names Java and how to get it when it is missing', async () => {
    process.env.JAVA_HOME = join(dir, 'no-such-jdk');
    await expect(requireJava(17)).rejects.toThrow(/^Java 17 or newer is needed to run the local Kafka broker: install a JDK/);
  });

  it('says an old Java is too old', async () => {
    const home = join(dir, 'jdk11');
    const bin = join(home, 'bin');
    await import('node:fs').then((fs) => fs.mkdirSync(bin, { recursive: true }));
    fakeTool(join(bin, 'java'), 'echo \'openjdk version "11.0.2" 2019-01-15\' >&2');
    process.env.JAVA_HOME = home;
    await expect(requireJava(17)).rejects.toThrow('Java 11 is too old for Kafka 4: install Java 17 or newer, or point JAVA_HOME at one');
  });

  it('accepts the Java on this machine', async () => {
    delete process.env.JAVA_HOME;
    await expect(requireJava(17)).resolves.toBeUndefined();
  });

  it('names Go when it is missing, and says an old Go is too old', async () => {
    process.env.PATH = join(dir, 'empty');
    await expect(requireGo([1, 24])).rejects.toThrow(/^Go 1.24 or newer is needed once, to build MinIO/);
    const bin = join(dir, 'oldgo');
    await import('node:fs').then((fs) => fs.mkdirSync(bin, { recursive: true }));
    fakeTool(join(bin, 'go'), 'echo "go version go1.20.1 linux/amd64"');
    process.env.PATH = bin;
    await expect(requireGo([1, 24])).rejects.toThrow('Go 1.20 is too old to build MinIO: install Go 1.24 or newer');
  });

  it('names Maven when it is missing', async () => {
    process.env.PATH = join(dir, 'empty');
    await expect(requireCommand('mvn', 'resolve the Kafka jars once', 'install Maven and run again')).rejects.toThrow(
      'mvn is needed to resolve the Kafka jars once: install Maven and run again',
    );
  });
});
