/** Bundles the Lambda handlers with esbuild into dist/, the artifact the local runner invokes. */
import { copyFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_ASSETS, LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRY_POINTS, type LambdaName } from '../lambdas/bundle-options.ts';

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
