/** Writes the published JSON Schema from the one TypeScript definition (`npm run schema`). */
import { writeFileSync } from 'node:fs';
import { SCHEMA_VERSION } from '../../lambdas/common/event-enums.ts';
import { publishedJsonSchema } from '../../lambdas/common/event-schema.ts';

const file = new URL(`../../schema/clickstream-event.v${SCHEMA_VERSION}.schema.json`, import.meta.url);
writeFileSync(file, JSON.stringify(publishedJsonSchema(), null, 2) + '\n');
console.log(`wrote ${file.pathname}`);
