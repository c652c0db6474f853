/**
 * One phase of the consumer-core benchmark in a process of its own: `parse` (JSON.parse of
 * each record, the result dropped) or `core` (decode + validate + group + Parquet/zstd),
 * over the bench's batch, so that each phase is charged its own garbage and nobody else's.
 * Run in one process, alternating, a round of one collects part of what the other left
 * behind: the core keeps the batch's rows alive until they are written, so its young
 * generation is copied and promoted, while a round that drops what it parsed collects
 * almost nothing; interleaved, some of the core's cost lands on the baseline
 * (docs/benchmarks.md, "Consumer core"). The batch is built first and a full collection
 * run before the rounds, so the simulator's garbage is charged to neither phase.
 *
 * Usage: node --expose-gc --import tsx core-phase.ts <parse|core> <records> <rounds>
 * Prints one JSON line: the rounds' wall and CPU times in ms.
 */
import { fileURLToPath } from 'node:url';
import { encodeParquet } from '../../lambdas/consumer/parquet-encoder.ts';
import { planBatch } from '../../lambdas/consumer/plan-batch.ts';
import type { SourceRecord } from '../../lambdas/consumer/source-record.ts';
import { ShopperSimulator } from '../../lambdas/simulator/simulator.ts';

export type CorePhase = 'parse' | 'core';

export interface PhaseRounds {
  readonly wallMs: readonly number[];
  readonly cpuMs: readonly number[];
}

/** The bench's batch: simulator events (seed 1, a steady-state mix), one partition. */
export function benchBatch(records: number): SourceRecord[] {
  const sim = new ShopperSimulator({ seed: 1, startTimeMs: Date.now() - 600_000, eventsPerSecond: 1_000, dailyCurve: false, warmStart: true });
  return Array.from({ length: records }, (_, i) => ({ topic: 'clickstream.events', partition: 0, offset: String(i), value: sim.nextRecord().value }));
}

/** CPU time this process has used, in ms. */
export const cpuMs = () => {
  const { user, system } = process.cpuUsage();
  return (user + system) / 1000;
};

/** JSON.parse of each record, the result dropped: the baseline. */
export function parseRound(batch: readonly SourceRecord[]): void {
  for (const r of batch) JSON.parse(r.value!.toString('utf8'));
}

/** The consumer core over the batch; returns the Parquet bytes written. */
export async function coreRound(batch: readonly SourceRecord[]): Promise<number> {
  const plans = planBatch(batch, Date.now());
  const files = await Promise.all(plans.flatMap((p) => p.events.map((o) => encodeParquet(o.rows))));
  return files.reduce((n, f) => n + f.length, 0);
}

async function runPhase(phase: CorePhase, records: number, rounds: number): Promise<PhaseRounds> {
  const batch = benchBatch(records);
  (globalThis as { gc?: () => void }).gc?.();
  const wallMs: number[] = [];
  const cpu: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const t = performance.now();
    const c = cpuMs();
    if (phase === 'parse') parseRound(batch);
    else await coreRound(batch);
    wallMs.push(performance.now() - t);
    cpu.push(cpuMs() - c);
  }
  return { wallMs, cpuMs: cpu };
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const [phase, records, rounds] = process.argv.slice(2);
  if (phase !== 'parse' && phase !== 'core') throw new Error('usage: core-phase.ts <parse|core> <records> <rounds>');
  console.log(JSON.stringify(await runPhase(phase, Number(records), Number(rounds))));
}
