/** `clickstream serve`: the dashboard and query API in the foreground, until SIGTERM or Ctrl-C. */
import type { LocalConfig } from '../common/config.ts';
import { bundleDashboard } from '../common/bundle.ts';
import { QueryServer } from './query-server.ts';
import { dashboardUrl, mirrorDirectory } from './dashboard-service.ts';
import { localS3Client } from '../services/minio.ts';
import { untilStopSignal } from '../services/process.ts';

export async function runServer(config: LocalConfig): Promise<number> {
  const s3 = localS3Client(config);
  const server = await QueryServer.start({
    port: config.dashboardPort,
    s3,
    bucket: config.bucket,
    mirrorDirectory: mirrorDirectory(config),
    siteDirectory: await bundleDashboard(),
    log: (entry) => console.log(JSON.stringify({ time: new Date().toISOString(), ...entry })),
  });
  console.log(JSON.stringify({ time: new Date().toISOString(), level: 'INFO', message: 'dashboard serving', url: dashboardUrl(config) }));
  await untilStopSignal();
  await server.stop();
  s3.destroy();
  return 0;
}
