/**
 * How every function in lambdas/ is bundled: one set of esbuild options, used by
 * the local runtime (local/bundle.ts) and by the CDK functions, so the laptop runs
 * the same artifact the cloud does.
 */
export const LAMBDA_ENTRY_POINTS = {
  consumer: 'lambdas/consumer/handler.ts',
} as const;

export type LambdaName = keyof typeof LAMBDA_ENTRY_POINTS;

export const LAMBDA_BUNDLE_OPTIONS = {
  bundle: true,
  platform: 'node',
  format: 'esm',
  // Runs on the machine's Node 20 and on the Lambda Node 22 runtime.
  target: 'node20',
  minify: true,
  sourcemap: 'linked',
  // Some CommonJS dependencies call require(); give ESM output one.
  banner: { js: "import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);" },
  logLevel: 'warning',
} as const;
