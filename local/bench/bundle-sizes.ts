/**
 * Bytes of each Lambda's code as CDK and the local runtime build it (the house esbuild
 * options, minified), and the largest packages in it from esbuild's metafile, so a size
 * goal can be checked and a regression traced to the package that grew. A bundle is
 * index.mjs plus chunks: what a cold start loads is index.mjs and the chunks it imports
 * statically; chunks behind `import()` load only when their path runs.
 */
import { fileURLToPath } from 'node:url';
import { build, type Metafile } from 'esbuild';
import { LAMBDA_ENTRY_POINTS, lambdaBuildOptions, type LambdaName } from '../../lambdas/bundle-options.ts';
import { writeGeneratedCode } from '../../lambdas/generate-code.ts';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));

export interface BundleSize {
  readonly name: LambdaName;
  /** What a cold start loads: index.mjs and the chunks it imports statically. */
  readonly bytes: number;
  /** JavaScript loaded only on some paths (behind dynamic imports), all of it. */
  readonly lazyBytes: number;
  /** For each module our handler imports lazily (e.g. the simulator's Kafka sender): what that path loads in all, cold start included. */
  readonly paths: readonly { readonly module: string; readonly bytes: number }[];
  /** The largest contributors to `bytes`, by package (or `lambdas/` for our own code), bytes in the output. */
  readonly topPackages: readonly { readonly name: string; readonly bytes: number }[];
}

const packageOf = (input: string) => {
  const m = /node_modules\/((?:@[^/]+\/)?[^/]+)/.exec(input);
  return m ? m[1]! : input.split('/')[0]!;
};

/** An output file and every output it imports statically, transitively. */
function loadedWith(outputs: Metafile['outputs'], start: string): Set<string> {
  const seen = new Set<string>();
  const queue = [start];
  for (let path = queue.pop(); path !== undefined; path = queue.pop()) {
    const output = outputs[path];
    if (seen.has(path) || !output) continue;
    seen.add(path);
    for (const i of output.imports) if (i.kind === 'import-statement') queue.push(i.path);
  }
  return seen;
}

export async function lambdaBundleSize(name: LambdaName): Promise<BundleSize> {
  writeGeneratedCode();
  const result = await build({ ...lambdaBuildOptions(name, ROOT, `dist/bench-bundles/${name}`), write: false, metafile: true });
  const outputs = result.metafile.outputs;
  const js = Object.keys(outputs).filter((p) => p.endsWith('.mjs'));
  const entry = js.find((p) => p.endsWith('/index.mjs'))!;
  const coldStart = loadedWith(outputs, entry);
  const sum = (files: Iterable<string>) => [...files].reduce((n, p) => n + outputs[p]!.bytes, 0);
  const bytes = sum(coldStart);
  // Our own lazy imports, and theirs (the simulator's Kafka sender imports the MSK IAM token lazily): each path's total.
  const paths: { module: string; bytes: number }[] = [];
  const follow = (from: string, loaded: Set<string>, via: string) => {
    for (const i of outputs[from]!.imports) {
      const module = outputs[i.path]?.entryPoint;
      if (i.kind !== 'dynamic-import' || !module?.startsWith('lambdas/')) continue;
      const withIt = new Set([...loaded, ...loadedWith(outputs, i.path)]);
      paths.push({ module: via + module, bytes: sum(withIt) });
      follow(i.path, withIt, `${via}${module} > `);
    }
  };
  follow(entry, coldStart, '');
  const byPackage = new Map<string, number>();
  for (const path of coldStart) {
    for (const [input, { bytesInOutput }] of Object.entries(outputs[path]!.inputs)) byPackage.set(packageOf(input), (byPackage.get(packageOf(input)) ?? 0) + bytesInOutput);
  }
  const topPackages = [...byPackage.entries()].sort((a, b) => b[1] - a[1]).slice(0, 6).map(([n, b]) => ({ name: n, bytes: b }));
  return { name, bytes, lazyBytes: sum(js) - bytes, paths, topPackages };
}

export async function lambdaBundleSizes(): Promise<BundleSize[]> {
  const sizes: BundleSize[] = [];
  for (const name of Object.keys(LAMBDA_ENTRY_POINTS) as LambdaName[]) sizes.push(await lambdaBundleSize(name));
  return sizes;
}
