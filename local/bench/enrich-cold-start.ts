/**
 * What the collector's enrichment (lambdas/collector/enrich-client.ts) adds to a cold start,
 * measured as handler-bench.ts measures a handler's: fresh `node` processes, in alternating
 * rounds, each reporting its own CPU time; medians against a bare Node start in the same run.
 * Two builds with the project's esbuild options: the database read from beside the bundle
 * (what the collector ships) and, for comparison, embedded with esbuild's binary loader.
 *
 *   npx tsx local/bench/enrich-cold-start.ts [rounds]     (default 15; a minute or so)
 */
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { COUNTRY_DB_ASSET, LAMBDA_BUNDLE_OPTIONS } from '../../lambdas/bundle-options.ts';
import { median } from './stats.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const DB = join(ROOT, 'node_modules', COUNTRY_DB_ASSET.package, COUNTRY_DB_ASSET.file);
const rounds = Number(process.argv[2] ?? 15);
const out = mkdtempSync(join(tmpdir(), 'enrich-cold-start-'));

async function bundle(name: string, entry: string, extra: object = {}): Promise<string> {
  await build({ ...LAMBDA_BUNDLE_OPTIONS, ...extra, absWorkingDir: ROOT, entryPoints: { index: entry }, outdir: join(out, name) });
  return join(out, name, 'index.mjs');
}

try {
  const read = await bundle('read', 'lambdas/collector/enrich-client.ts');
  copyFileSync(DB, join(out, 'read', COUNTRY_DB_ASSET.file));
  const embeddedEntry = join(out, 'embedded-entry.ts');
  writeFileSync(
    embeddedEntry,
    `import db from ${JSON.stringify(DB)};\nimport { createClientEnricher } from ${JSON.stringify(join(ROOT, 'lambdas/collector/enrich-client.ts'))};\n` +
      `export const loadClientEnricher = () => createClientEnricher(Buffer.from(db.buffer, db.byteOffset, db.byteLength));\n`,
  );
  const embedded = await bundle('embedded', embeddedEntry, { loader: { '.mmdb': 'binary' } });

  const reportCpu = 'const u = process.cpuUsage(); console.log((u.user + u.system) / 1000);';
  const timeNode = (script: string): [number, number] => {
    const started = process.hrtime.bigint();
    const result = spawnSync(process.execPath, ['--input-type=module', '-e', `${script}\n${reportCpu}`], { encoding: 'utf8', cwd: out });
    const wall = Number(process.hrtime.bigint() - started) / 1e6;
    if (result.status !== 0) throw new Error(`node failed: ${result.stderr}`);
    return [wall, Number(result.stdout.trim().split('\n').pop())];
  };
  const scripts: Record<string, string> = {
    'bare node': '',
    'import (libraries only)': `await import(${JSON.stringify(read)});`,
    'import + load, database read beside the bundle': `(await (await import(${JSON.stringify(read)})).loadClientEnricher()).facts({ ip: '80.128.0.1' });`,
    'import + load, database embedded': `(await import(${JSON.stringify(embedded)})).loadClientEnricher().facts({ ip: '80.128.0.1' });`,
  };
  const wall: Record<string, number[]> = {};
  const cpu: Record<string, number[]> = {};
  for (let i = 0; i < rounds; i++) {
    for (const [label, script] of Object.entries(scripts)) {
      const [w, c] = timeNode(script);
      (wall[label] ??= []).push(w);
      (cpu[label] ??= []).push(c);
    }
  }
  const bare = { wall: median(wall['bare node']!), cpu: median(cpu['bare node']!) };
  console.log(`${rounds} rounds, node ${process.version}`);
  for (const label of Object.keys(scripts)) {
    const w = median(wall[label]!);
    const c = median(cpu[label]!);
    const over = label === 'bare node' ? '' : `  (+${(w - bare.wall).toFixed(0)} ms wall, +${(c - bare.cpu).toFixed(0)} ms CPU over bare)`;
    console.log(`${label.padEnd(48)} wall ${w.toFixed(0)} ms, CPU ${c.toFixed(0)} ms${over}`);
  }
  console.log(`bundle, read: index.mjs ${statSync(read).size} B + ${COUNTRY_DB_ASSET.file} ${statSync(DB).size} B`);
  console.log(`bundle, embedded: index.mjs ${statSync(embedded).size} B`);
} finally {
  rmSync(out, { recursive: true, force: true });
}
