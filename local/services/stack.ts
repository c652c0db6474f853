/** The local services as one unit: start them, stop them, report on them (with what the supervisor restarted). */
import { HeadBucketCommand } from '@aws-sdk/client-s3';
import { ensureStateDir, type LocalConfig } from '../common/config.ts';
import { acceptsConnections, bootstrapServers, ensureTopic, kafkaProcess, startKafka, stopKafka } from './kafka.ts';
import { ensureBucket, httpStatus, localS3Client, minioProcess, minioReady, s3Endpoint, startMinio, stopMinio } from './minio.ts';
import { consumerProcess, readConsumerStatus, startConsumer, stopConsumer } from '../consume/consumer-service.ts';
import { dashboardProcess, dashboardReady, dashboardUrl, startDashboard, stopDashboard } from '../serve/dashboard-service.ts';
import { runningPid } from './process.ts';
import { readRestarts, restartSummary, startSupervisor, stopSupervisor, supervisorProcess, type RestartRecord } from './supervisor.ts';

export interface UpResult {
  /** Services this call started (the rest were already running and are reused). */
  readonly started: readonly string[];
}

export async function up(config: LocalConfig, log: (line: string) => void): Promise<UpResult> {
  ensureStateDir(config);
  const started: string[] = [];
  try {
    // MinIO first: its one-time build is the slow part, and failing early costs least.
    if (await startMinio(config, log)) started.push('minio');
    await ensureBucket(config);
    if (await startKafka(config, log)) started.push('kafka');
    await ensureTopic(config);
    if (await startConsumer(config)) started.push('consumer');
    if (await startDashboard(config)) started.push('dashboard');
    // Last: it restarts what dies, so it must not race the first starts above.
    if (await startSupervisor(config)) started.push('supervisor');
  } catch (error) {
    // Leave nothing half-started: stop what this call started, then report the cause.
    await down(config, started).catch(() => undefined);
    throw error;
  }
  return { started };
}

export async function down(config: LocalConfig, only?: readonly string[]): Promise<string[]> {
  const stopped: string[] = [];
  // The supervisor first, so nothing stopped below is taken for a crash and started again.
  if ((!only || only.includes('supervisor')) && (await stopSupervisor(config))) stopped.push('supervisor');
  if ((!only || only.includes('dashboard')) && (await stopDashboard(config))) stopped.push('dashboard');
  // The consumer first, so it can finish and commit its batch while Kafka and MinIO are still up.
  if ((!only || only.includes('consumer')) && (await stopConsumer(config))) stopped.push('consumer');
  if ((!only || only.includes('kafka')) && (await stopKafka(config))) stopped.push('kafka');
  if ((!only || only.includes('minio')) && (await stopMinio(config))) stopped.push('minio');
  return stopped;
}

export interface ServiceStatus {
  readonly name: string;
  readonly running: boolean;
  readonly healthy: boolean;
  readonly pid?: number;
  /** Given by the environment (CLICKSTREAM_KAFKA_BOOTSTRAP_SERVERS, CLICKSTREAM_S3_*), not started or stopped by us. */
  readonly external?: boolean;
  readonly endpoint: string;
  /** Times the supervisor restarted it after it died. */
  readonly restarts?: number;
  /** The supervisor's latest restart of it: when, and the new pid or why the start failed. */
  readonly lastRestart?: RestartRecord;
}

export async function status(config: LocalConfig): Promise<ServiceStatus[]> {
  const kafkaPid = runningPid(kafkaProcess(config));
  const minioPid = runningPid(minioProcess(config));
  const consumerPid = runningPid(consumerProcess(config));
  const dashboardPid = runningPid(dashboardProcess(config));
  const supervisorPid = runningPid(supervisorProcess(config));
  const restarts = readRestarts(config);
  const restarted = (name: string) => {
    const summary = restartSummary(restarts, name);
    return { ...(summary.restarts > 0 && { restarts: summary.restarts }), ...(summary.lastRestart && { lastRestart: summary.lastRestart }) };
  };
  // A broker or store given by the environment is someone else's process: reported by whether it answers.
  const kafkaUp = await acceptsConnections(bootstrapServers(config));
  const minioUp = config.externalS3 ? await s3Answers(config) : minioPid !== undefined && (await minioReady(config));
  return [
    {
      name: 'kafka',
      running: config.externalKafka ? kafkaUp : kafkaPid !== undefined,
      healthy: (config.externalKafka !== undefined || kafkaPid !== undefined) && kafkaUp,
      ...(kafkaPid !== undefined && !config.externalKafka && { pid: kafkaPid }),
      ...(config.externalKafka && { external: true }),
      endpoint: bootstrapServers(config),
      ...restarted('kafka'),
    },
    {
      name: 'minio',
      running: config.externalS3 ? minioUp : minioPid !== undefined,
      healthy: minioUp,
      ...(minioPid !== undefined && !config.externalS3 && { pid: minioPid }),
      ...(config.externalS3 && { external: true }),
      endpoint: s3Endpoint(config),
      ...restarted('minio'),
    },
    {
      name: 'consumer',
      running: consumerPid !== undefined,
      // Healthy while it keeps its status file fresh.
      healthy: consumerPid !== undefined && Date.now() - Date.parse(readConsumerStatus(config)?.updatedAt ?? '0') < 10_000,
      ...(consumerPid !== undefined && { pid: consumerPid }),
      endpoint: `${config.topic} -> s3://${config.bucket}/events/`,
      ...restarted('consumer'),
    },
    {
      name: 'dashboard',
      running: dashboardPid !== undefined,
      healthy: dashboardPid !== undefined && (await dashboardReady(config)),
      ...(dashboardPid !== undefined && { pid: dashboardPid }),
      endpoint: dashboardUrl(config),
      ...restarted('dashboard'),
    },
    {
      name: 'supervisor',
      running: supervisorPid !== undefined,
      healthy: supervisorPid !== undefined,
      ...(supervisorPid !== undefined && { pid: supervisorPid }),
      endpoint: 'restarts a service above that dies',
    },
  ];
}

/** Whether the store answers for our bucket (any S3, not only MinIO's health endpoint); a missing bucket still answers. */
async function s3Answers(config: LocalConfig): Promise<boolean> {
  const s3 = localS3Client(config);
  try {
    await s3.send(new HeadBucketCommand({ Bucket: config.bucket }));
    return true;
  } catch (error) {
    return httpStatus(error) === 404;
  } finally {
    s3.destroy();
  }
}
