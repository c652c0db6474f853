/**
 * Builds the dashboard at synth time with the local esbuild and the same
 * options as the local runtime (DASHBOARD_BUNDLE), into a directory that
 * becomes the BucketDeployment's asset. The caller gives a stable directory
 * inside the cloud assembly (cdk.out), emptied first, so nothing is left behind
 * in the system temp directory and a rebuild never mixes in stale files.
 * Synchronous because constructs are.
 */
import { copyFileSync, mkdirSync, rmSync } from 'node:fs';
import { basename, join } from 'node:path';
import { buildSync } from 'esbuild';
import { DASHBOARD_BUNDLE } from '../lambdas/bundle-options.ts';
import { REPO_ROOT } from './paths.ts';

export function buildDashboard(out: string): string {
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  buildSync({ ...DASHBOARD_BUNDLE.options, entryPoints: [join(REPO_ROOT, DASHBOARD_BUNDLE.entryPoint)], outfile: join(out, DASHBOARD_BUNDLE.outfileName) });
  for (const file of DASHBOARD_BUNDLE.staticFiles) copyFileSync(join(REPO_ROOT, file), join(out, basename(file)));
  return out;
}
