/** Pure formatting for the dashboard: numbers, money, rates and ages of data. */
const integer = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0 });
const money = new Intl.NumberFormat('en-US', { style: 'currency', currency: 'USD', maximumFractionDigits: 2 });

export function formatCount(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? integer.format(value) : '–';
}

export function formatMoney(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? money.format(value) : '–';
}

export function formatRate(value: unknown): string {
  return typeof value === 'number' && Number.isFinite(value) ? `${(value * 100).toFixed(1)}%` : '–';
}

/** "12 s ago", "3 min ago", "2 h ago". */
export function formatAge(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 120) return `${seconds} s ago`;
  if (seconds < 7200) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

/** The query string for the API from the dashboard's (aligned) range and controls; empty filters are left out, so equal choices give equal URLs. */
export function queryString(range: { readonly fromMs: number; readonly toMs: number }, filters: Readonly<Record<string, string>>): string {
  const params = new URLSearchParams({ from: String(range.fromMs), to: String(range.toMs) });
  for (const [key, value] of Object.entries(filters)) if (value) params.set(key, key === 'country' ? value.toUpperCase() : value);
  return params.toString();
}
