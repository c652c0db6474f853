/**
 * Log lines that CloudWatch metric filters count (lib/operations.ts). With the JSON log format,
 * Lambda's Node.js runtime turns `console.log(x)` into `{"timestamp","level","requestId","message": x}`:
 * an object x stays an object, so a filter reads its fields under `$.message`; a string x stays a
 * string (a filter could not read inside it). Locally the same line is one JSON string.
 */

/** Where a logged object's own `message` field sits once Lambda has wrapped it. */
export const LAMBDA_JSON_MESSAGE_PATH = '$.message.message';

/** Logs the line as an object under Lambda's JSON log format, as a JSON string otherwise. */
export function logLine(line: object, env: Readonly<Record<string, string | undefined>> = process.env, log: (line: unknown) => void = console.log): void {
  log(env.AWS_LAMBDA_LOG_FORMAT === 'JSON' ? line : JSON.stringify(line));
}
