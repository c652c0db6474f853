/** A TCP port for a test service from an environment variable, or the default; anything else is one sentence naming the variable. */
export function portFromEnv(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === '') return fallback;
  const port = /^\d{1,5}$/.test(value) ? Number(value) : Number.NaN;
  if (!(port >= 1024 && port <= 65535)) throw new Error(`${name} must be a port number from 1024 to 65535, got "${value.slice(0, 40)}"`);
  return port;
}
