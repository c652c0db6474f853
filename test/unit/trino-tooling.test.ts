import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { trinoJavaHome } from '../trino/install.ts';
import { DEFAULT_TRINO_PORT, trinoPort } from '../trino/server.ts';

const dir = mkdtempSync(join(tmpdir(), 'clickstream-trino-tooling-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/** A Java home whose `java -version` reports this version, as a JDK prints it. */
function fakeJavaHome(name: string, version: string): string {
  const home = join(dir, name);
  mkdirSync(join(home, 'bin'), { recursive: true });
  writeFileSync(join(home, 'bin', 'java'), `#!/bin/sh\necho 'openjdk version "${version}" 2026-01-20' >&2\n`);
  chmodSync(join(home, 'bin', 'java'), 0o755);
  return home;
}

describe("the tests' Trino settings", () => {
  it.each([
    [undefined, DEFAULT_TRINO_PORT],
    ['', DEFAULT_TRINO_PORT],
    ['31090', 31090],
  ])('reads CLICKSTREAM_TEST_TRINO_PORT=%j as %i', (value, port) => {
    expect(trinoPort({ CLICKSTREAM_TEST_TRINO_PORT: value })).toBe(port);
  });

  it.each(['abc', '80', '70000', '28090 '])('refuses CLICKSTREAM_TEST_TRINO_PORT=%j with one sentence', (value) => {
    expect(() => trinoPort({ CLICKSTREAM_TEST_TRINO_PORT: value })).toThrow(/^CLICKSTREAM_TEST_TRINO_PORT must be a port number from 1024 to 65535, got "/);
  });

  it('takes the Java home CLICKSTREAM_TEST_TRINO_JAVA_HOME names when it is Java 24 or newer', async () => {
    const home = fakeJavaHome('jdk25', '25.0.3');
    await expect(trinoJavaHome({ CLICKSTREAM_TEST_TRINO_JAVA_HOME: home })).resolves.toBe(home);
  });

  it('says what to do when CLICKSTREAM_TEST_TRINO_JAVA_HOME is too old or not a Java', async () => {
    const old = fakeJavaHome('jdk17', '17.0.15');
    await expect(trinoJavaHome({ CLICKSTREAM_TEST_TRINO_JAVA_HOME: old })).rejects.toThrow(
      /^CLICKSTREAM_TEST_TRINO_JAVA_HOME=.*jdk17 is Java 17, but Trino 476 needs Java 24 or newer: point it at such a JDK/,
    );
    await expect(trinoJavaHome({ CLICKSTREAM_TEST_TRINO_JAVA_HOME: join(dir, 'nothing') })).rejects.toThrow(/is not a Java home, but Trino 476 needs Java 24/);
  });

  it('finds a new enough JAVA_HOME without being told', async () => {
    const home = fakeJavaHome('jdk99', '99.0.1');
    await expect(trinoJavaHome({ JAVA_HOME: home })).resolves.toBe(home);
  });
});
