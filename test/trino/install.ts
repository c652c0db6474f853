/**
 * Trino for the tests, installed from Maven Central by test/trino/pom.xml into
 * the cache (never the repo), and the Java it needs: Trino 476 refuses anything
 * older than Java 24, while the rest of the project runs on Java 17, so the JDK
 * is looked up here and given to Trino's process alone.
 */
import { existsSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { UserError } from '../../local/common/errors.ts';
import { javaMajorVersion, requireCommand } from '../../local/services/prerequisites.ts';
import { runCommand } from '../../local/services/process.ts';

const POM = fileURLToPath(new URL('./pom.xml', import.meta.url));

/** The pinned Trino version: the pom is the one place it is written. */
export const TRINO_VERSION = /<trino\.version>([^<]+)<\/trino\.version>/.exec(readFileSync(POM, 'utf8'))![1]!;

/** Trino 476 checks for 24.0.1 at start. */
export const TRINO_MIN_JAVA = 24;

export interface TrinoInstall {
  /** The server's classpath directory. */
  readonly lib: string;
  /** The plugin directory: the Hive connector and nothing else, so the server starts sooner. */
  readonly plugins: string;
}

function layout(dir: string): TrinoInstall {
  return { lib: join(dir, `trino-server-core-${TRINO_VERSION}`, 'lib'), plugins: join(dir, 'plugins') };
}

/** Unpacks the server and the Hive plugin once (about 470 MB); later runs find them in the cache. */
export async function installTrino(cacheDir: string, log: (line: string) => void): Promise<TrinoInstall> {
  const dir = join(cacheDir, `trino-${TRINO_VERSION}`);
  if (existsSync(join(dir, '.complete'))) return layout(dir);
  await requireCommand('mvn', 'fetch Trino for the tests once', 'install Maven (for example the Debian package maven) and run again');
  // Unpacked aside and renamed into place, so an interrupted or concurrent install never leaves half a server.
  const staging = `${dir}.part-${process.pid}`;
  rmSync(staging, { recursive: true, force: true });
  log(`fetching Trino ${TRINO_VERSION} (server and Hive plugin) with Maven into ${dir} (first run only, about 470 MB)`);
  try {
    const result = await runCommand('mvn', [
      '-q',
      '-B',
      '-f',
      POM,
      'dependency:unpack@trino',
      `-Dmaven.repo.local=${join(staging, 'm2')}`,
      `-Dtrino.install.dir=${join(staging, 'trino')}`,
    ]);
    if (result.code !== 0) {
      throw new UserError(`Maven could not fetch Trino ${TRINO_VERSION} (exit ${result.code}): ${lastLine(result.stdout + result.stderr)}`);
    }
    writeFileSync(join(staging, 'trino', '.complete'), `${new Date().toISOString()}\n`);
    if (!existsSync(join(dir, '.complete'))) {
      rmSync(dir, { recursive: true, force: true });
      renameSync(join(staging, 'trino'), dir);
    }
  } finally {
    rmSync(staging, { recursive: true, force: true });
  }
  return layout(dir);
}

/** Where JDKs usually live: Debian's and Temurin's packages, and macOS. */
function jdkDirectories(): string[] {
  const roots: [string, string][] = [
    ['/usr/lib/jvm', ''],
    ['/Library/Java/JavaVirtualMachines', 'Contents/Home'],
  ];
  return roots.flatMap(([root, suffix]) => (existsSync(root) ? readdirSync(root).map((name) => join(root, name, suffix)) : []));
}

/**
 * A Java home for Trino: CLICKSTREAM_TEST_TRINO_JAVA_HOME if set (it must be Java 24+), else the
 * newest Java 24+ among JAVA_HOME and the usual JDK directories.
 */
export async function trinoJavaHome(env: Readonly<Record<string, string | undefined>> = process.env): Promise<string> {
  const override = env.CLICKSTREAM_TEST_TRINO_JAVA_HOME;
  if (override) {
    const version = await javaMajorVersion(join(override, 'bin', 'java'));
    if (version === undefined || version < TRINO_MIN_JAVA) {
      throw new UserError(
        `CLICKSTREAM_TEST_TRINO_JAVA_HOME=${override} is ${version === undefined ? 'not a Java home' : `Java ${version}`}, but Trino ${TRINO_VERSION} needs Java ${TRINO_MIN_JAVA} or newer: point it at such a JDK, for example Temurin 25`,
      );
    }
    return override;
  }
  let best: { home: string; version: number } | undefined;
  for (const home of new Set([...(env.JAVA_HOME ? [env.JAVA_HOME] : []), ...jdkDirectories()])) {
    if (!existsSync(join(home, 'bin', 'java'))) continue;
    const version = await javaMajorVersion(join(home, 'bin', 'java'));
    if (version !== undefined && version >= TRINO_MIN_JAVA && version > (best?.version ?? 0)) best = { home, version };
  }
  if (!best) {
    throw new UserError(
      `Trino ${TRINO_VERSION} needs Java ${TRINO_MIN_JAVA} or newer and none was found in JAVA_HOME, /usr/lib/jvm or /Library/Java/JavaVirtualMachines: install a JDK ${TRINO_MIN_JAVA}+ (for example the temurin-25-jdk package) or set CLICKSTREAM_TEST_TRINO_JAVA_HOME to one`,
    );
  }
  return best.home;
}

function lastLine(text: string): string {
  const lines = text.replace(/\x1b\[[0-9;]*m/g, '').trim().split('\n');
  return lines[lines.length - 1] ?? '';
}
