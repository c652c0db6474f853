/** `clickstream serve`: the dashboard, the query API and the collector in the foreground, until SIGTERM or Ctrl-C. */
import { Collector } from '../../lambdas/collector/collect-request.ts';
import { loadClientEnricher } from '../../lambdas/collector/enrich-client.ts';
import { serialBatches } from '../../lambdas/collector/serial-batches.ts';
import { EventProducer } from '../../lambdas/common/event-producer.ts';
import type { LocalConfig } from '../common/config.ts';
import { bundleDashboard } from '../common/bundle.ts';
import { COLLECT_PREFIX } from './collect-http.ts';
import { QueryServer } from './query-server.ts';
import { dashboardUrl, mirrorDirectory } from './dashboard-service.ts';
import { localS3Client } from '../services/minio.ts';
import { untilStopSignal } from '../services/process.ts';

export async function runServer(config: LocalConfig): Promise<number> {
  const s3 = localS3Client(config);
  const log = (entry: Record<string, unknown>) => console.log(JSON.stringify({ time: new Date().toISOString(), ...entry }));
  // The collector writes to the local broker the way the simulator does; the producer connects on the first event.
  const producer = new EventProducer({ bootstrapServers: [`127.0.0.1:${config.kafkaPort}`], topic: config.topic, clientId: 'clickstream-collector' });
  const collector = new Collector({ send: serialBatches((records) => producer.send(records)), enricher: await loadClientEnricher(), log });
  const server = await QueryServer.start({
    port: config.dashboardPort,
    s3,
    bucket: config.bucket,
    mirrorDirectory: mirrorDirectory(config),
    siteDirectory: await bundleDashboard(),
    log,
    collector,
  });
  log({ level: 'INFO', message: 'dashboard serving', url: dashboardUrl(config), collector: `${dashboardUrl(config).slice(0, -1)}${COLLECT_PREFIX}` });
  await untilStopSignal();
  await server.stop();
  await producer.close();
  s3.destroy();
  return 0;
}
