/**
 * The project's S3 adapter against the real LocalStack, on a bucket of its own, with
 * the settings a deployed function builds from its environment there (LocalStack's
 * AWS_ENDPOINT_URL, an IP address, so path-style without being told). LocalStack takes
 * any credentials, so the wrong-secret case is tested on MinIO only.
 */
import { s3SettingsFromEnv } from '../../lambdas/common/s3-transport.ts';
import { objectStoreContract } from '../object-store-contract.ts';
import { cloud, s3 } from './aws.ts';

const bucket = `object-store-${Math.random().toString(36).slice(2, 8)}`;
const settings = { ...s3SettingsFromEnv({ AWS_REGION: cloud.region, AWS_ENDPOINT_URL: cloud.endpoint }), credentials: { accessKeyId: 'test', secretAccessKey: 'test' } };

objectStoreContract(() => ({ name: 'LocalStack', settings, bucket, s3 }));
