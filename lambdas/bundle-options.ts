/**
 * How every function in lambdas/ is bundled: one set of esbuild options, used by
 * the local runtime (local/common/bundle.ts) and by the CDK functions, so the laptop runs
 * the same artifact the cloud does.
 */
import { COUNTRY_DB_ASSET } from './common/country-db.ts';

export { COUNTRY_DB_ASSET };

export const LAMBDA_ENTRY_POINTS = {
  collector: 'lambdas/collector/handler.ts',
  compactor: 'lambdas/compactor/handler.ts',
  consumer: 'lambdas/consumer/handler.ts',
  'query-api': 'lambdas/query-api/handler.ts',
  simulator: 'lambdas/simulator/handler.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRY_POINTS;

/** Files a bundle loads at run time, by package and path inside it; copied next to index.mjs. */
export const LAMBDA_ASSETS: Readonly<Record<LambdaName, readonly { package: string; file: string }[]>> = {
  // The enrichment's IP-to-country database (lambdas/collector/enrich-client.ts).
  collector: [COUNTRY_DB_ASSET],
  compactor: [{ package: '@bokuweb/zstd-wasm', file: 'dist/common/zstd.wasm' }],
  consumer: [{ package: '@bokuweb/zstd-wasm', file: 'dist/common/zstd.wasm' }],
  'query-api': [],
  simulator: [],
};

export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Runs on the machine's Node 20 and on the Lambda Node 22 runtime.
  target: 'node20',
  minify: true,
  // The ES module build of a package before its CommonJS one (esbuild's default on the node
  // platform is the reverse): the AWS SDK ships both, and only the ES modules can be
  // tree-shaken, which takes a third off the query API bundle (479 to 311 KiB) and a fifth
  // off the consumer's. Packages with an `exports` map are resolved by it either way.
  mainFields: ['module', 'main'] as string[],
  // Code reached only through `import()` goes to chunks beside index.mjs, loaded when (if
  // ever) that path runs: the SDK's credential chain imports its SSO, STS, web-identity and
  // container providers that way (about 127 KiB with their nested clients and bowser), and
  // Lambda never reaches them because its credentials are in the environment. The simulator
  // loads each ingest's client the same way. Splitting needs an output directory, so a
  // function is built by lambdaBuildOptions below, never with an outfile.
  splitting: true,
  chunkNames: 'chunks/[name]-[hash]',
  entryNames: '[name]',
  outExtension: { '.js': '.mjs' },
  sourcemap: 'linked',
  // CommonJS dependencies call require() and read __dirname (zstd-wasm loads zstd.wasm
  // from beside itself); give the ESM output both. Files in LAMBDA_ASSETS go beside it.
  banner: {
    js: [
      "import { createRequire as __createRequire } from 'node:module';",
      "import { dirname as __pathDirname } from 'node:path';",
      "import { fileURLToPath as __fileURLToPath } from 'node:url';",
      'const require = __createRequire(import.meta.url);',
      'const __filename = __fileURLToPath(import.meta.url);',
      'const __dirname = __pathDirname(__filename);',
    ].join(' '),
  },
  // @platformatic/kafka's helper reads ../dist/native.wasm beside its own file when it
  // loads, which is not there once bundled (in Lambda: ENOENT /var/dist/native.wasm);
  // its `bundled` entry carries the same wasm inline.
  // avsc: see lambdas/ingest/avsc-not-bundled.ts (a path, so esbuild runs from the repository root).
  alias: { '@platformatic/wasm-utils': '@platformatic/wasm-utils/bundled', avsc: './lambdas/ingest/avsc-not-bundled.ts' },
  logLevel: 'warning',
} as const;

/**
 * The full esbuild options for one function, written into `outdir` as index.mjs (what
 * Lambda loads: handler `index.handler`) plus its chunks. `root` is the repository root.
 */
export function lambdaBuildOptions(name: LambdaName, root: string, outdir: string) {
  return { ...LAMBDA_BUNDLE_OPTIONS, absWorkingDir: root, entryPoints: { index: LAMBDA_ENTRY_POINTS[name] }, outdir };
}

/**
 * The dashboard: one static bundle, the same files CloudFront serves and the local
 * server serves. Paths are relative to the repository root.
 */
export const DASHBOARD_BUNDLE = {
  entryPoint: 'dashboard/src/main.ts',
  outfileName: 'app.js',
  /** Copied unchanged beside the bundle. */
  staticFiles: ['dashboard/index.html', 'dashboard/styles.css'],
  options: {
    bundle: true,
    format: 'esm',
    platform: 'browser',
    target: 'es2020',
    minify: true,
    sourcemap: 'linked',
    logLevel: 'warning',
  },
} as const;
