/**
 * Global setup of every test project: the build step that generates code from the
 * event definition (lambdas/generate-code.ts), so tests import the same generated
 * modules the bundles carry, made from the schema as it is now.
 */
import { writeGeneratedCode } from '../lambdas/generate-code.ts';

export default function setup(): void {
  writeGeneratedCode();
}
