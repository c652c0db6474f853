/**
 * `clickstream consume`: the event-source-mapping runner in the foreground,
 * invoking the bundled consumer handler, and the bundled compactor on a timer,
 * until SIGTERM or Ctrl-C. `up` runs it in the background.
 */
import { pathToFileURL } from 'node:url';
import { PutObjectCommand } from '@aws-sdk/client-s3';
import type { LocalConfig } from '../common/config.ts';
import { bundleLambda } from '../common/bundle.ts';
import { compactInOwnProcess, startCompactionLoop, type CompactionLoop } from './compaction-loop.ts';
import { EventSourceRunner, type Handler } from './event-source-runner.ts';
import { bootstrapServers, requireBroker } from '../services/kafka.ts';
import { localS3Client } from '../services/minio.ts';
import { handlerEnv, writeConsumerStatus } from './consumer-service.ts';
import { untilStopSignal } from '../services/process.ts';

export async function runConsumer(config: LocalConfig): Promise<number> {
  const env = handlerEnv(config);
  // Only the first join needs the broker; after that the runner rides out outages of any length.
  await requireBroker(config);
  // The handler reads its settings from the environment, as it does in Lambda. Any other
  // AWS settings of the user's shell (a session token, a profile) must not reach MinIO.
  for (const key of Object.keys(process.env)) if (key.startsWith('AWS_') && !key.startsWith('AWS_SDK_JS_')) delete process.env[key];
  Object.assign(process.env, env);
  // Built here, once per start of this process: `up` does not build it beforehand.
  const bundle = await bundleLambda('consumer');
  const { handler } = (await import(pathToFileURL(bundle).href)) as { handler: Handler };
  const s3 = localS3Client(config);
  const log = (entry: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
  let compaction: CompactionLoop | undefined;
  if (config.compactionIntervalSeconds > 0) {
    compaction = startCompactionLoop(compactInOwnProcess(await bundleLambda('compactor')), config.compactionIntervalSeconds * 1000, log);
  }
  const runner = new EventSourceRunner({
    bootstrapServers: [bootstrapServers(config)],
    topic: config.topic,
    groupId: config.consumerGroup,
    batchSize: config.batchSize,
    batchingWindowSeconds: config.batchingWindowSeconds,
    ...(config.maxAttempts !== undefined && { maxAttempts: config.maxAttempts }),
    handler,
    onFailure: {
      write: async (key, body) => {
        await s3.send(new PutObjectCommand({ Bucket: config.bucket, Key: key, Body: body, ContentType: 'application/json' }));
      },
    },
    log,
  });

  const startedAt = new Date().toISOString();
  let lastAssignment = '';
  const report = () => {
    const assignment = runner.assignment;
    const memberId = runner.memberId;
    // A change of partitions is logged: fewer than the topic has means another client joined the group.
    if (assignment && assignment.join(',') !== lastAssignment) {
      lastAssignment = assignment.join(',');
      const level = assignment.length < config.partitions ? 'WARN' : 'INFO';
      console.log(JSON.stringify({ time: new Date().toISOString(), level, message: 'partitions assigned', partitions: assignment, of: config.partitions }));
    }
    writeConsumerStatus(config, { pid: process.pid, startedAt, updatedAt: new Date().toISOString(), ...runner.stats, ...(assignment && { assignedPartitions: assignment }), ...(memberId && { memberId }), ...(compaction && { compaction: compaction.status() }) });
  };
  await runner.start();
  report();
  const timer = setInterval(report, 1000);
  console.log(JSON.stringify({ time: startedAt, level: 'INFO', message: 'runner started', topic: config.topic, bundle }));

  await untilStopSignal();
  clearInterval(timer);
  await Promise.all([runner.stop(), compaction?.stop()]);
  report();
  s3.destroy();
  return 0;
}
