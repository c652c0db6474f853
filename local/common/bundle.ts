/**
 * Bundles the Lambda handlers with esbuild into dist/, the artifact the local
 * runner invokes, and the dashboard. Every file is written aside and renamed
 * into place, so a process importing a bundle while another pipeline rebuilds it
 * (two starts at once share dist/) never reads half a file.
 */
import { mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build, type BuildOptions } from 'esbuild';
import { writeGeneratedCode } from '../../lambdas/generate-code.ts';
import { DASHBOARD_BUNDLE, LAMBDA_ASSETS, lambdaBuildOptions, type LambdaName } from '../../lambdas/bundle-options.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export function bundlePath(name: LambdaName): string {
  return join(ROOT, 'dist', 'lambdas', name, 'index.mjs');
}

function writeInPlace(path: string, contents: Uint8Array): void {
  mkdirSync(dirname(path), { recursive: true });
  const aside = `${path}.${process.pid}.part`;
  writeFileSync(aside, contents);
  renameSync(aside, path);
}

/** Chunks first and the entry (index.mjs) last, so whoever imports the entry finds the chunks it names. */
async function buildInPlace(options: BuildOptions): Promise<void> {
  const result = await build({ ...options, write: false });
  const isEntry = (path: string) => (/\/index\.mjs(\.map)?$/.test(path) ? 1 : 0);
  for (const file of [...(result.outputFiles ?? [])].sort((a, b) => isEntry(a.path) - isEntry(b.path))) writeInPlace(file.path, file.contents);
}

export async function bundleLambda(name: LambdaName): Promise<string> {
  const outfile = bundlePath(name);
  writeGeneratedCode();
  for (const asset of LAMBDA_ASSETS[name]) {
    writeInPlace(join(dirname(outfile), asset.file.split('/').pop()!), readFileSync(join(ROOT, 'node_modules', asset.package, asset.file)));
  }
  await buildInPlace(lambdaBuildOptions(name, ROOT, dirname(outfile)));
  return outfile;
}

/** The dashboard: one static bundle, the same files CloudFront serves and the local server serves. */
export function dashboardDirectory(): string {
  return join(ROOT, 'dist', 'dashboard');
}

export async function bundleDashboard(): Promise<string> {
  const out = dashboardDirectory();
  await buildInPlace({ ...DASHBOARD_BUNDLE.options, entryPoints: [join(ROOT, DASHBOARD_BUNDLE.entryPoint)], outfile: join(out, DASHBOARD_BUNDLE.outfileName) });
  for (const file of DASHBOARD_BUNDLE.staticFiles) writeInPlace(join(out, basename(file)), readFileSync(join(ROOT, file)));
  return out;
}
