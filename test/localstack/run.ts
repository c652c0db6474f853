/**
 * `npm run localstack`: the tests' Docker-free LocalStack in the foreground, for
 * `npx cdklocal` by hand. Installs it on first use (cached), listens on
 * 127.0.0.1:4566 (CLICKSTREAM_LOCALSTACK_PORT), keeps its state in a temporary
 * directory, and stops with everything it started on Ctrl-C.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { installLocalStack } from './install.ts';
import { startLocalStack } from './localstack-server.ts';
import { portFromEnv } from '../port.ts';

const PORT_VARIABLE = 'CLICKSTREAM_LOCALSTACK_PORT';
const say = (line: string) => console.log(`localstack: ${line}`);

async function main(): Promise<void> {
  const port = portFromEnv(PORT_VARIABLE, process.env[PORT_VARIABLE], 4566);
  const install = installLocalStack(say);
  const runDir = mkdtempSync(join(tmpdir(), 'clickstream-localstack-'));
  const server = await startLocalStack(install, { port, runDir, portVariable: PORT_VARIABLE }).catch((error: unknown) => {
    rmSync(runDir, { recursive: true, force: true });
    throw error;
  });
  say(`ready at ${server.endpoint} (log: ${server.logFile}); state is thrown away on Ctrl-C`);
  say(`in another shell: export AWS_ENDPOINT_URL=${server.endpoint} AWS_ENDPOINT_URL_S3=${server.endpoint} AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test AWS_REGION=us-east-1`);
  let stopping = false;
  const stop = () => {
    if (stopping) return;
    stopping = true;
    say('stopping');
    void server.stop().then(() => {
      rmSync(runDir, { recursive: true, force: true });
      process.exit(0);
    });
  };
  process.on('SIGINT', stop);
  process.on('SIGTERM', stop);
}

main().catch((error: unknown) => {
  console.error(`localstack: ${error instanceof Error ? error.message : String(error)}`);
  process.exit(1);
});
