/** Checks for the tools the local services are built and run with, with one-line fixes. */
import { UserError } from '../common/errors.ts';
import { runCommand } from './process.ts';

/** The installed Java's major version, or undefined if `java` is missing. */
export async function javaMajorVersion(java = javaCommand()): Promise<number | undefined> {
  const { code, stderr, stdout } = await runCommand(java, ['-version']);
  if (code === 127) return undefined;
  const match = /version "(\d+)(?:\.(\d+))?/.exec(stderr + stdout);
  if (!match) return undefined;
  // Java 8 and older report "1.8.0_…".
  return match[1] === '1' ? Number(match[2]) : Number(match[1]);
}

export function javaCommand(): string {
  return process.env.JAVA_HOME ? `${process.env.JAVA_HOME}/bin/java` : 'java';
}

export async function requireJava(minimum: number): Promise<void> {
  const version = await javaMajorVersion();
  if (version === undefined) {
    throw new UserError(`Java ${minimum} or newer is needed to run the local Kafka broker: install a JDK (for example the Debian package openjdk-${minimum}-jre-headless) or set JAVA_HOME`);
  }
  if (version < minimum) {
    throw new UserError(`Java ${version} is too old for Kafka 4: install Java ${minimum} or newer, or point JAVA_HOME at one`);
  }
}

export async function requireCommand(command: string, purpose: string, install: string): Promise<void> {
  const { code } = await runCommand(command, ['--version']);
  if (code === 127) throw new UserError(`${command} is needed to ${purpose}: ${install}`);
}

/** The Go toolchain's version as [major, minor], or undefined if `go` is missing. */
export async function goVersion(): Promise<[number, number] | undefined> {
  const { code, stdout } = await runCommand('go', ['version']);
  if (code === 127) return undefined;
  const match = /go(\d+)\.(\d+)/.exec(stdout);
  return match ? [Number(match[1]), Number(match[2])] : undefined;
}

export async function requireGo(minimum: [number, number]): Promise<void> {
  const version = await goVersion();
  const wanted = `${minimum[0]}.${minimum[1]}`;
  if (version === undefined) {
    throw new UserError(`Go ${wanted} or newer is needed once, to build MinIO from its Go module: install Go (for example the Debian package golang) and run again`);
  }
  if (version[0] < minimum[0] || (version[0] === minimum[0] && version[1] < minimum[1])) {
    throw new UserError(`Go ${version.join('.')} is too old to build MinIO: install Go ${wanted} or newer`);
  }
}
