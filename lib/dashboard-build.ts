/**
 * Builds the dashboard at synth time with the local esbuild and the same
 * options as the local runtime (DASHBOARD_BUNDLE), into a fresh directory that
 * becomes the BucketDeployment's asset. Synchronous because constructs are.
 */
import { copyFileSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { buildSync } from 'esbuild';
import { DASHBOARD_BUNDLE } from '../lambdas/bundle-options.ts';
import { REPO_ROOT } from './paths.ts';

export function buildDashboard(): string {
  const out = mkdtempSync(join(tmpdir(), 'clickstream-dashboard-'));
  buildSync({ ...DASHBOARD_BUNDLE.options, entryPoints: [join(REPO_ROOT, DASHBOARD_BUNDLE.entryPoint)], outfile: join(out, DASHBOARD_BUNDLE.outfileName) });
  for (const file of DASHBOARD_BUNDLE.staticFiles) copyFileSync(join(REPO_ROOT, file), join(out, basename(file)));
  return out;
}
