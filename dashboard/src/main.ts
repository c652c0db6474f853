/**
 * The dashboard: reads the controls, asks the query API for every panel in one
 * request (/api/dashboard), renders the answers, and does it again every few
 * seconds. One request at a time per page: a refresh is one query function
 * invocation however tight its concurrency. The time range is aligned to a step
 * (dashboard-config.ts), so refreshes and other viewers send the same URL and
 * share cached answers. The API's base URL, the refresh interval and the step come
 * from config.json, so the same bundle works behind CloudFront and on the local server.
 */
import { barList, emptyNote, table, timeChart, type Series } from './charts.ts';
import { alignedRange, DEFAULT_DASHBOARD_CONFIG, parseDashboardConfig, rangeStepMs, type DashboardConfig } from '../../lambdas/query/dashboard-config.ts';
import { timeBucket } from '../../lambdas/query/named-queries.ts';
import { formatAge, formatCount, formatMoney, formatRate, queryString } from './format.ts';

type Row = Record<string, unknown>;

const byId = (id: string) => document.getElementById(id)!;
const form = byId('controls') as HTMLFormElement;

let config: DashboardConfig = DEFAULT_DASHBOARD_CONFIG;
let timer: number | undefined;
let generation = 0;
let inFlight: Promise<unknown> = Promise.resolve();

async function fetchDashboard(qs: string): Promise<Record<string, Row[]>> {
  const response = await fetch(`${config.apiBaseUrl}/dashboard?${qs}`);
  const body = (await response.json().catch(() => ({}))) as { panels?: Record<string, { rows?: Row[] }>; error?: string };
  if (!response.ok) throw new Error(body.error ?? `the query API answered ${response.status}`);
  return Object.fromEntries(Object.entries(body.panels ?? {}).map(([name, panel]) => [name, panel.rows ?? []]));
}

function controls(): { rangeMs: number; filters: Record<string, string> } {
  const value = (name: string) => (form.elements.namedItem(name) as HTMLInputElement | HTMLSelectElement).value.trim();
  const country = value('country');
  return {
    rangeMs: Number(value('range')),
    filters: { device: value('device'), source: value('source'), country: /^[A-Za-z]{2}$/.test(country) ? country : '' },
  };
}

function setStatus(text: string | undefined, kind: 'info' | 'error' = 'info'): void {
  const status = byId('status');
  status.hidden = text === undefined;
  status.textContent = text ?? '';
  status.className = `status ${kind === 'error' ? 'error' : ''}`;
}

function put(id: string, node: Node): void {
  byId(id).replaceChildren(node);
}

function renderKpis(k: Row | undefined): void {
  const tiles: [string, string, string][] = [
    ['events', 'Events', formatCount(k?.events)],
    ['active_users', 'Active users', formatCount(k?.active_users)],
    ['sessions', 'Sessions', formatCount(k?.sessions)],
    ['orders', 'Orders', formatCount(k?.orders)],
    ['revenue', 'Revenue', formatMoney(k?.revenue)],
    ['average_order_value', 'Avg order value', formatMoney(k?.average_order_value)],
    ['conversion_rate', 'Conversion', formatRate(k?.conversion_rate)],
    ['cart_abandonment_rate', 'Cart abandonment', formatRate(k?.cart_abandonment_rate)],
  ];
  byId('kpis').replaceChildren(
    ...tiles.map(([key, label, value]) => {
      const tile = document.createElement('div');
      tile.className = 'tile';
      tile.dataset.kpi = key;
      const l = document.createElement('div');
      l.className = 'label';
      l.textContent = label;
      const v = document.createElement('div');
      v.className = 'value';
      v.textContent = value;
      tile.append(l, v);
      return tile;
    }),
  );
}

const BUCKET_MS = { minute: 60_000, hour: 3_600_000, day: 86_400_000 } as const;

/** `stepMs`: the step the range is aligned to, how old its answer may be by design. */
function render(results: Record<string, Row[]>, range: { fromMs: number; toMs: number }, stepMs: number, nowMs: number): void {
  const kpis = results.kpis?.[0];
  renderKpis(kpis);

  const byType = new Map<string, Series['points'][number][]>();
  for (const r of results.events_per_minute ?? []) {
    const list = byType.get(String(r.event_type)) ?? [];
    list.push({ x: Number(r.minute), y: Number(r.events) });
    byType.set(String(r.event_type), list);
  }
  put('events-chart', timeChart([...byType].map(([name, points]) => ({ name, points })), 'line', formatCount, 60_000));
  const bucket = BUCKET_MS[timeBucket(range)];
  put('revenue-chart', timeChart([{ name: 'revenue', points: (results.revenue_over_time ?? []).map((r) => ({ x: Number(r.bucket), y: Number(r.revenue) })) }], 'bar', formatMoney, bucket));

  const f = results.funnel?.[0];
  put(
    'funnel',
    f && Number(f.sessions) > 0
      ? barList([
          { label: 'Sessions', value: Number(f.sessions), text: formatCount(f.sessions) },
          { label: 'Viewed a product', value: Number(f.viewed), text: `${formatCount(f.viewed)} · ${formatRate(f.view_rate)}` },
          { label: 'Added to cart', value: Number(f.carted), text: `${formatCount(f.carted)} · ${formatRate(f.cart_rate)}` },
          { label: 'Checked out', value: Number(f.checked_out), text: `${formatCount(f.checked_out)} · ${formatRate(f.checkout_rate)}` },
          { label: 'Purchased', value: Number(f.purchased), text: `${formatCount(f.purchased)} · ${formatRate(f.purchase_rate)}` },
        ])
      : emptyNote(),
  );
  const breakdown = (rows: Row[] = []) =>
    barList(rows.map((r) => ({ label: String(r.value), value: Number(r.sessions), text: `${formatCount(r.sessions)} sessions · ${formatRate(r.conversion_rate)} conv.` })));
  put('sources', breakdown(results.traffic_sources));
  put('devices', breakdown(results.devices));

  const demo = results.demographics ?? [];
  const section = document.createElement('div');
  for (const [dimension, title] of [['age_group', 'Age'], ['gender', 'Gender'], ['country', 'Country (top 8)']] as const) {
    const rows = demo.filter((r) => r.dimension === dimension).slice(0, 8);
    const h = document.createElement('h3');
    h.textContent = title;
    h.className = 'legend';
    section.append(h, barList(rows.map((r) => ({ label: String(r.value), value: Number(r.users), text: `${formatCount(r.users)} users` }))));
  }
  put('demographics', demo.length ? section : emptyNote());

  put('products', table(['Product', 'Views', 'Units', 'Revenue'], (results.top_products ?? []).map((r) => [`${String(r.product_id)} · ${String(r.product_brand)}`, formatCount(r.views), formatCount(r.units), formatMoney(r.revenue)])));
  put('categories', table(['Category', 'Views', 'Units', 'Revenue'], (results.top_categories ?? []).map((r) => [String(r.product_category), formatCount(r.views), formatCount(r.units), formatMoney(r.revenue)])));
  put('quarantine', table(['Why', 'Records', 'For example'], (results.quarantine ?? []).map((r) => [String(r.code), formatCount(r.records), String(r.example)])));

  const fresh = results.freshness?.[0];
  const freshness = byId('freshness');
  if (fresh && Number(fresh.events) > 0) {
    const age = nowMs - Number(fresh.newest_ingest_time);
    freshness.textContent = `newest event ${formatAge(nowMs - Number(fresh.newest_event_time))}, written ${formatAge(age)}`;
    // Stale: more than a minute older than the range's step lets an answer be.
    freshness.classList.toggle('stale', age > 60_000 + stepMs);
  } else {
    freshness.textContent = 'no events in this range';
    freshness.classList.add('stale');
  }
  setStatus(kpis && Number(kpis.events) > 0 ? undefined : 'No events in this range yet. Start the simulator (npx clickstream run) and they appear within seconds.');
}

async function refresh(): Promise<void> {
  window.clearTimeout(timer);
  // A page no one can see asks nothing (each answer is a query Athena bills): a tab left in the
  // background costs nothing, and refreshes as soon as it is seen again (visibilitychange, below).
  if (document.hidden) return;
  const mine = ++generation;
  // Never two requests at once from one page: a control changed mid-refresh waits for the answer in flight (and drops it).
  await inFlight;
  if (mine !== generation || document.hidden) return; // a newer refresh (a changed control) is waiting too, or no one sees the page now
  const { rangeMs, filters } = controls();
  const stepMs = rangeStepMs(rangeMs, config.rangeStepMs, config.stepsPerRange);
  const range = alignedRange(Date.now(), rangeMs, stepMs);
  const request = fetchDashboard(queryString(range, filters));
  inFlight = request.catch(() => undefined);
  try {
    const answers = await request;
    if (mine !== generation) return;
    render(answers, range, stepMs, Date.now());
    document.body.dataset.loaded = String(mine);
  } catch (error) {
    if (mine !== generation) return;
    setStatus(`Cannot reach the query API or the lake: ${(error as Error).message}. Retrying every ${config.refreshMs / 1000} s.`, 'error');
    byId('freshness').classList.add('stale');
  } finally {
    if (mine === generation && !document.hidden) timer = window.setTimeout(() => void refresh(), config.refreshMs);
  }
}

async function start(): Promise<void> {
  let response: Response | undefined;
  try {
    response = await fetch('config.json');
  } catch {
    // unreachable: keep the defaults, the API beside the page
  }
  if (response?.ok) {
    try {
      config = parseDashboardConfig(await response.json());
    } catch (error) {
      // A config the page cannot use is the operator's to fix: say so and stop rather than guess.
      setStatus(error instanceof SyntaxError ? 'config.json is not valid JSON: fix or redeploy it.' : (error as Error).message, 'error');
      return;
    }
  }
  form.addEventListener('change', () => void refresh());
  form.addEventListener('submit', (event) => event.preventDefault());
  document.addEventListener('visibilitychange', () => {
    if (!document.hidden) void refresh();
  });
  void refresh();
}

void start();
