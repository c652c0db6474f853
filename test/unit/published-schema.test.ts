import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { SCHEMA_VERSION } from '../../lambdas/common/event-enums.ts';
import { publishedJsonSchema } from '../../lambdas/common/event-schema.ts';

describe('published JSON Schema', () => {
  it('matches the TypeScript definition (run `npm run schema` after changing the event)', () => {
    const file = new URL(`../../schema/clickstream-event.v${SCHEMA_VERSION}.schema.json`, import.meta.url);
    const published = JSON.parse(readFileSync(file, 'utf8')) as unknown;
    expect(published).toEqual(publishedJsonSchema());
  });
});
