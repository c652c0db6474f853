import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { parsePsLine, psProcessTable, type ProcessInfo, type ProcessTable } from '../../../local/services/process-table.ts';
import { diedUnexpectedly, isRunning, runningPid, type ManagedProcess } from '../../../local/services/process.ts';

describe('parsePsLine', () => {
  it.each([
    // procps on Linux pads the state column; BSD ps on macOS does too, with a different width.
    ['Ss   /usr/bin/java -cp x kafka.Kafka /s/kafka/server.properties\n', { command: '/usr/bin/java -cp x kafka.Kafka /s/kafka/server.properties', zombie: false }],
    ['S      /opt/minio server --quiet /s/minio/data\n', { command: '/opt/minio server --quiet /s/minio/data', zombie: false }],
    ['R+   node clickstream.mjs consume --instance /s\n', { command: 'node clickstream.mjs consume --instance /s', zombie: false }],
    ['Z    [node] <defunct>\n', { command: '[node] <defunct>', zombie: true }],
    ['Zs   (node)\n', { command: '(node)', zombie: true }],
    ['Z\n', { command: '', zombie: true }],
  ])('reads %j', (output, expected: ProcessInfo) => {
    expect(parsePsLine(output)).toEqual(expected);
  });

  it('reads empty output as no such process', () => {
    expect(parsePsLine('')).toBeUndefined();
    expect(parsePsLine('\n')).toBeUndefined();
  });

  it('rejects output that does not start with a process state', () => {
    expect(() => parsePsLine('ps: illegal option -- w\n')).toThrow('unexpected ps output: "ps: illegal option -- w"');
    expect(() => parsePsLine('1234 /usr/bin/java\n')).toThrow(/unexpected ps output/);
  });
});

describe('runningPid and isRunning, with a fake process table', () => {
  let dir: string;
  let proc: ManagedProcess;
  const table = (processes: Record<number, ProcessInfo>): ProcessTable => ({ describe: (pid) => processes[pid] });

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'process-table-'));
    proc = { name: 'consumer', pidFile: join(dir, 'consumer.pid'), logFile: join(dir, 'consumer.log'), marker: 'consume --instance /state ' };
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('finds our process by its marker, even when the marker ends the command line', () => {
    writeFileSync(proc.pidFile, '4242\n');
    expect(runningPid(proc, table({ 4242: { command: 'node clickstream.mjs consume --instance /state', zombie: false } }))).toBe(4242);
    expect(existsSync(proc.pidFile)).toBe(true);
  });

  it.each([
    ['the pid is gone', {}],
    ['the pid was recycled by another program', { 4242: { command: 'vim notes.txt', zombie: false } }],
    ['the pid is another state dir', { 4242: { command: 'node clickstream.mjs consume --instance /state-2', zombie: false } }],
    ['the process is a zombie', { 4242: { command: 'node clickstream.mjs consume --instance /state', zombie: true } }],
  ])('answers undefined, keeps the pid file and reports a death when %s', (_, processes: Record<number, ProcessInfo>) => {
    writeFileSync(proc.pidFile, '4242\n');
    expect(runningPid(proc, table(processes))).toBeUndefined();
    // Kept: a pid file is removed only by a deliberate stop, so the supervisor can tell a crash from a stop.
    expect(existsSync(proc.pidFile)).toBe(true);
    expect(diedUnexpectedly(proc, table(processes))).toBe(true);
  });

  it('reports no death for a running service or one stopped on purpose (no pid file)', () => {
    writeFileSync(proc.pidFile, '4242\n');
    expect(diedUnexpectedly(proc, table({ 4242: { command: 'node clickstream.mjs consume --instance /state', zombie: false } }))).toBe(false);
    rmSync(proc.pidFile);
    expect(diedUnexpectedly(proc, table({}))).toBe(false);
  });

  it.each(['', 'abc', '-5', '0', '12.5'])('removes a pid file holding %j without asking the table', (content) => {
    writeFileSync(proc.pidFile, content);
    const asked: number[] = [];
    expect(runningPid(proc, { describe: (pid) => (asked.push(pid), undefined) })).toBeUndefined();
    expect(asked).toEqual([]);
    expect(existsSync(proc.pidFile)).toBe(false);
  });

  it('answers undefined without a pid file', () => {
    expect(runningPid(proc, table({}))).toBeUndefined();
  });

  it('counts a zombie or a missing process as not running', () => {
    const processes = table({ 1: { command: 'init', zombie: false }, 2: { command: '[node] <defunct>', zombie: true } });
    expect(isRunning(1, processes)).toBe(true);
    expect(isRunning(2, processes)).toBe(false);
    expect(isRunning(3, processes)).toBe(false);
  });
});

// The real reader: this very process is running and its command line names node.
describe('psProcessTable', () => {
  it('describes this process and no process for an unused pid', () => {
    const self = psProcessTable.describe(process.pid);
    expect(self?.zombie).toBe(false);
    expect(self?.command).toContain(process.argv[1] ?? 'node');
    expect(psProcessTable.describe(2 ** 22 + 1)).toBeUndefined();
    expect(psProcessTable.describe(-1)).toBeUndefined();
  });
});
