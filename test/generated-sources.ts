/**
 * Global setup of every test project: the build step that generates the event
 * validator (lambdas/event-validator-build.ts), so tests import the same generated
 * module the bundles carry, made from the schema as it is now.
 */
import { writeEventValidator } from '../lambdas/event-validator-build.ts';

export default function setup(): void {
  writeEventValidator();
}
