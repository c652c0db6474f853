#!/usr/bin/env node
// The `clickstream` command: runs the TypeScript CLI through tsx, so there is no build step to forget.
import { register } from 'tsx/esm/api';

// The SDK is pinned, so its notice about future Node versions is noise on every command.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';
register();
// The generated code (a build step, not committed) must exist before any lambda module loads.
const { writeGeneratedCode } = await import('../../lambdas/generate-code.ts');
writeGeneratedCode();
await import('../cli.ts');
