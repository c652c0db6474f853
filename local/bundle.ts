/** Bundles the Lambda handlers with esbuild into dist/, the artifact the local runner invokes. */
import { copyFileSync, mkdirSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { DASHBOARD_BUNDLE, LAMBDA_ASSETS, LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRY_POINTS, type LambdaName } from '../lambdas/bundle-options.ts';

const ROOT = fileURLToPath(new URL('..', import.meta.url));

export function bundlePath(name: LambdaName): string {
  return join(ROOT, 'dist', 'lambdas', name, 'index.mjs');
}

export async function bundleLambda(name: LambdaName): Promise<string> {
  const outfile = bundlePath(name);
  await build({ ...LAMBDA_BUNDLE_OPTIONS, entryPoints: [join(ROOT, LAMBDA_ENTRY_POINTS[name])], outfile });
  for (const asset of LAMBDA_ASSETS[name]) {
    const source = join(ROOT, 'node_modules', asset.package, asset.file);
    copyFileSync(source, join(dirname(outfile), asset.file.split('/').pop()!));
  }
  return outfile;
}

/** The dashboard: one static bundle, the same files CloudFront serves and the local server serves. */
export function dashboardDirectory(): string {
  return join(ROOT, 'dist', 'dashboard');
}

export async function bundleDashboard(): Promise<string> {
  const out = dashboardDirectory();
  mkdirSync(out, { recursive: true });
  await build({ ...DASHBOARD_BUNDLE.options, entryPoints: [join(ROOT, DASHBOARD_BUNDLE.entryPoint)], outfile: join(out, DASHBOARD_BUNDLE.outfileName) });
  for (const file of DASHBOARD_BUNDLE.staticFiles) copyFileSync(join(ROOT, file), join(out, basename(file)));
  return out;
}
