/** A TCP port from an environment variable, or the default; anything else is one sentence naming the variable. */
export function portFromEnv(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value.trim() === '') return fallback;
  const port = /^\d+$/.test(value.trim()) ? Number(value.trim()) : Number.NaN;
  if (!Number.isInteger(port) || port < 1024 || port > 65535) throw new Error(`${name} must be a port number from 1024 to 65535, got "${value}"`);
  return port;
}
