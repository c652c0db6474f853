/**
 * Build step: the source of `quickCheck`, a check generated from the published JSON Schema
 * that answers true only for an event the schema certainly accepts, and false otherwise
 * ("not sure": the caller then asks Ajv's validator, which decides and gives the reason).
 *
 * Why beside Ajv's code: Ajv's standalone output handles any schema, and for ours it builds
 * an error object and an array for every `if` that does not apply and tracks evaluated
 * properties with an object per record, even when the event is valid: about 2.6 µs a record,
 * a sixth of the consumer core (docs/benchmarks.md). This check only needs to say yes
 * quickly: it allocates nothing and reads each field once. Every rejection still comes
 * from Ajv, so the codes and reasons cannot drift; the one thing this code must get right
 * is never to say yes where Ajv says no (test/unit/event-quick-check.test.ts holds it to
 * that over mutated events). It knows only the keywords the schema uses today, and the
 * build fails on any other rather than guessing.
 */

type Schema = Readonly<Record<string, unknown>>;

const IGNORED = new Set(['$schema', '$id', 'title', 'description']);
const ROOT_KEYWORDS = new Set([...IGNORED, 'type', 'required', 'properties', 'additionalProperties', 'allOf']);
const PROPERTY_KEYWORDS = new Set([...IGNORED, 'type', 'enum', 'const', 'pattern', 'minLength', 'maxLength', 'minimum', 'maximum']);

function unknownKeyword(where: string, schema: Schema, known: ReadonlySet<string>): void {
  const extra = Object.keys(schema).filter((k) => !known.has(k));
  if (extra.length > 0) throw new Error(`quickCheck cannot read ${where}'s ${extra.join(', ')}: teach lambdas/event-quick-check.ts that keyword (never saying yes where Ajv says no)`);
}

const literal = (value: unknown): string => {
  if (value !== null && typeof value === 'object') throw new Error(`quickCheck compares primitives only, not ${JSON.stringify(value)}`);
  return JSON.stringify(value);
};

/** `v` is one of the values (strict equality, as Ajv's code does for primitives). */
const oneOf = (v: string, values: readonly unknown[]) => `(${values.map((x) => `${v} === ${literal(x)}`).join(' || ')})`;

/**
 * Hand-written tests for the schema's fixed formats, keyed by the pattern they stand for:
 * a table lookup per character, without a branch that depends on the character, is about
 * three times faster than V8's regular expressions on these short random strings (the
 * patterns were two thirds of this check's time). Each must answer exactly as
 * `new RegExp(pattern, 'u').test` does, which test/unit/event-quick-check.test.ts checks;
 * any other pattern keeps its regular expression. `CHARS(...)` is a table of the ASCII
 * characters allowed; a code unit past it reads undefined, which `&` counts as 0.
 */
export const PATTERN_TESTS: Readonly<Record<string, string>> = {
  // A lower-case UUID: hex digits, dashes at 8, 13, 18 and 23.
  '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$': `((hex) => (s) => {
    if (s.length !== 36 || s.charCodeAt(8) !== 45 || s.charCodeAt(13) !== 45 || s.charCodeAt(18) !== 45 || s.charCodeAt(23) !== 45) return false;
    let ok = 1;
    for (let i = 0; i < 36; i++) if (i !== 8 && i !== 13 && i !== 18 && i !== 23) ok &= hex[s.charCodeAt(i)];
    return ok === 1;
  })(CHARS('0123456789abcdef'))`,
  // 1 to 64 of A-Z, a-z, 0-9, _ and -.
  '^[A-Za-z0-9_-]{1,64}$': `((id) => (s) => {
    const n = s.length;
    if (n < 1 || n > 64) return false;
    let ok = 1;
    for (let i = 0; i < n; i++) ok &= id[s.charCodeAt(i)];
    return ok === 1;
  })(CHARS('ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-'))`,
  '^https?://': `(s) => s.startsWith('http://') || s.startsWith('https://')`,
  '^[A-Z]{2}$': `(s) => {
    if (s.length !== 2) return false;
    const a = s.charCodeAt(0);
    const b = s.charCodeAt(1);
    return a >= 65 && a <= 90 && b >= 65 && b <= 90;
  }`,
};

/** The `CHARS` helper the pattern tests use: a 128-entry table, 1 for each character given. */
const CHARS_SOURCE = `function CHARS(allowed) {
  const table = new Uint8Array(128);
  for (let i = 0; i < allowed.length; i++) table[allowed.charCodeAt(i)] = 1;
  return table;
}`;

/** Conditions on one present, non-undefined property value `v` (false where the schema would not accept it). */
function valueCheck(name: string, schema: Schema, v: string, patterns: Map<string, string>): string {
  unknownKeyword(`property ${name}`, schema, PROPERTY_KEYWORDS);
  const types = new Set(([] as unknown[]).concat(schema.type ?? ['string', 'number', 'integer', 'null']) as string[]);
  const lines: string[] = [];
  if (schema.enum !== undefined) lines.push(`if (!${oneOf(v, schema.enum as unknown[])}) return false;`);
  if (schema.const !== undefined) lines.push(`if (${v} !== ${literal(schema.const)}) return false;`);
  const string: string[] = [];
  if (typeof schema.pattern === 'string') {
    const regex = `new RegExp(${JSON.stringify(schema.pattern)}, 'u')`;
    if (!patterns.has(schema.pattern)) patterns.set(schema.pattern, PATTERN_TESTS[schema.pattern] ?? `RegExp.prototype.test.bind(${regex})`);
    string.push(`if (!quickPattern${[...patterns.keys()].indexOf(schema.pattern)}(${v})) return false;`);
  }
  // Ajv counts code points, which are at most the UTF-16 length and at least half of it: the
  // quick answer is yes only where the length alone settles it.
  if (typeof schema.maxLength === 'number') string.push(`if (${v}.length > ${schema.maxLength}) return false;`);
  if (typeof schema.minLength === 'number') string.push(`if (${v}.length < ${2 * schema.minLength}) return false;`);
  const number: string[] = [];
  if (typeof schema.minimum === 'number') number.push(`if (!(${v} >= ${schema.minimum})) return false;`);
  if (typeof schema.maximum === 'number') number.push(`if (!(${v} <= ${schema.maximum})) return false;`);
  const numberType = types.has('integer') && !types.has('number') ? `Number.isInteger(${v})` : `Number.isFinite(${v})`;
  const branches = [
    `if (${v} === null) { ${types.has('null') ? '' : 'return false;'} }`,
    `else if (typeof ${v} === 'string') { ${types.has('string') ? string.join(' ') : 'return false;'} }`,
    `else if (typeof ${v} === 'number') { ${types.has('number') || types.has('integer') ? `if (!${numberType}) return false; ${number.join(' ')}` : 'return false;'} }`,
    'else return false;',
  ];
  return [...lines, ...branches].join('\n    ');
}

/** An `if` of the schema's allOf as one condition: its required fields present and its listed ones matching. */
function ifCondition(schema: Schema, local: (name: string) => string): string {
  unknownKeyword('an if', schema, new Set(['required', 'properties']));
  const terms = ((schema.required as string[] | undefined) ?? []).map((name) => `${local(name)} !== undefined`);
  for (const [name, property] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
    unknownKeyword(`the if's ${name}`, property, new Set(['enum', 'const']));
    const values = (property.enum as unknown[] | undefined) ?? [property.const];
    terms.push(`(${local(name)} === undefined || ${oneOf(local(name), values)})`);
  }
  return terms.join(' && ') || 'true';
}

/** A `then` of the schema's allOf: its required fields present, its `not: { type: 'null' }` ones not null. */
function thenChecks(schema: Schema, local: (name: string) => string): string[] {
  unknownKeyword('a then', schema, new Set(['required', 'properties']));
  const checks = ((schema.required as string[] | undefined) ?? []).map((name) => `if (${local(name)} === undefined) return false;`);
  for (const [name, property] of Object.entries((schema.properties as Record<string, Schema> | undefined) ?? {})) {
    if (JSON.stringify(property) !== '{"not":{"type":"null"}}') throw new Error(`quickCheck reads only { not: { type: 'null' } } in a then, not ${name}'s ${JSON.stringify(property)}`);
    checks.push(`if (${local(name)} === null) return false;`);
  }
  return checks;
}

/** The module text: `export function quickCheck(data)` and `quickPatterns`, its pattern tests built once at load. */
export function quickCheckSource(schema: Schema): string {
  unknownKeyword('the event schema', schema, ROOT_KEYWORDS);
  if (schema.type !== 'object' || schema.additionalProperties !== false) throw new Error('quickCheck expects an object schema with additionalProperties: false');
  const properties = schema.properties as Record<string, Schema>;
  const names = Object.keys(properties);
  // Each field is read once, into v<i>; the if/then rules read only declared fields.
  const local = (name: string) => {
    if (!names.includes(name)) throw new Error(`quickCheck: an if/then names ${name}, which is not a property of the schema`);
    return `v${names.indexOf(name)}`;
  };
  const required = new Set(schema.required as string[]);
  const patterns = new Map<string, string>();
  const body: string[] = [];
  Object.entries(properties).forEach(([name, property], i) => {
    const v = `v${i}`;
    body.push(`  const ${v} = data[${JSON.stringify(name)}];`);
    const check = valueCheck(name, property, v, patterns);
    body.push(required.has(name) ? `  if (${v} === undefined) return false;\n  {\n    ${check}\n  }` : `  if (${v} !== undefined) {\n    ${check}\n  }`);
  });
  for (const rule of (schema.allOf as { if: Schema; then: Schema; [k: string]: unknown }[] | undefined) ?? []) {
    if (Object.keys(rule).some((k) => k !== 'if' && k !== 'then')) throw new Error('quickCheck reads only if/then rules in allOf');
    body.push(`  if (${ifCondition(rule.if, local)}) {\n    ${thenChecks(rule.then, local).join('\n    ')}\n  }`);
  }
  return [
    // Names that Ajv's code beside this one does not use.
    CHARS_SOURCE,
    ...[...patterns.values()].map((test, i) => `const quickPattern${i} = ${test};`),
    '/** Each pattern\'s test, by the pattern, for test/unit/event-quick-check.test.ts. */',
    `export const quickPatterns = { ${[...patterns.keys()].map((pattern, i) => `${JSON.stringify(pattern)}: quickPattern${i}`).join(', ')} };`,
    '/** True only for an event the schema accepts; false means "ask the full validator". */',
    'export function quickCheck(data) {',
    '  if (data === null || typeof data !== "object" || Array.isArray(data)) return false;',
    // additionalProperties: false. A switch on the (internalized) key is about twice as fast as a Set.
    `  for (const key in data) switch (key) { ${names.map((n) => `case ${JSON.stringify(n)}:`).join(' ')} break; default: return false; }`,
    ...body,
    '  return true;',
    '}',
    '',
  ].join('\n');
}
