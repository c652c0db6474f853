/**
 * The consumer's Node flags: a larger young generation. A batch's rows stay alive until its
 * Parquet is written, so with the semi-space V8 sizes by default each scavenge during the batch
 * copies them and promotes them; with 32 MiB semi-spaces most batches finish between scavenges.
 * Measured (docs/benchmarks.md, "Consumer core"): about a fifth less CPU for the core. It costs
 * at most 64 MiB more of the function's memory (two semi-spaces). The function (lib/consumer.ts),
 * the local runner and the benchmark's phases all run with it, so the bench measures what runs.
 */
export const CONSUMER_NODE_FLAGS: readonly string[] = ['--max-semi-space-size=32'];
