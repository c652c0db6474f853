/**
 * Bytes of each Lambda's index.mjs as CDK and the local runtime build it (the house
 * esbuild options, minified), and the largest packages in it from esbuild's metafile,
 * so a size goal can be checked and a regression traced to the package that grew.
 */
import { fileURLToPath } from 'node:url';
import { build } from 'esbuild';
import { LAMBDA_BUNDLE_OPTIONS, LAMBDA_ENTRY_POINTS, type LambdaName } from '../../lambdas/bundle-options.ts';
import { writeGeneratedCode } from '../../lambdas/generate-code.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BundleSize {
  readonly name: LambdaName;
  /** index.mjs, the code Lambda loads at cold start (chunks it imports later are counted apart). */
  readonly bytes: number;
  /** JavaScript files beside it loaded only on some paths (dynamic imports). */
  readonly lazyBytes: number;
  /** The largest contributors, by package (or `lambdas/` for our own code), bytes in the output. */
  readonly topPackages: readonly { readonly name: string; readonly bytes: number }[];
}

const packageOf = (input: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? m[1]! : input.split('/')[0]!;
};

export async function lambdaBundleSize(name: LambdaName): Promise<BundleSize> {
  writeGeneratedCode();
  const result = await build({
    ...LAMBDA_BUNDLE_OPTIONS,
    absWorkingDir: ROOT,
    entryPoints: [LAMBDA_ENTRY_POINTS[name]],
    outdir: `dist/bench-bundles/${name}`,
    write: false,
    metafile: true,
  });
  let bytes = 0;
  let lazyBytes = 0;
  const byPackage = new Map<string, number>();
  for (const [path, output] of Object.entries(result.metafile.outputs)) {
    if (!path.endsWith('.mjs') && !path.endsWith('.js')) continue;
    if (output.entryPoint) bytes += output.bytes;
    else lazyBytes += output.bytes;
    for (const [input, { bytesInOutput }] of Object.entries(output.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  const topPackages = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, b]) => ({ name: n, bytes: b }));
  return { name, bytes, lazyBytes, topPackages };
}

export async function lambdaBundleSizes(): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const name of Object.keys(LAMBDA_ENTRY_POINTS) as LambdaName[]) sizes.push(await lambdaBundleSize(name));
  return sizes;
}
