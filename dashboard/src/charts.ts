/** Small SVG charts and bar lists, built as DOM nodes (never from HTML strings). */
const SVG = 'http://www.w3.org/2000/svg';
export const PALETTE = ['#2f6fed', '#1a8f4c', '#e08a00', '#c2372b', '#7a4cc2', '#0f8a9c'];

function svg<K extends keyof SVGElementTagNameMap>(tag: K, attributes: Record<string, string | number>): SVGElementTagNameMap[K] {
  const node = document.createElementNS(SVG, tag);
  for (const [k, v] of Object.entries(attributes)) node.setAttribute(k, String(v));
  return node;
}

function el<K extends keyof HTMLElementTagNameMap>(tag: K, text?: string, className?: string): HTMLElementTagNameMap[K] {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  if (className) node.className = className;
  return node;
}

export function emptyNote(text = 'No data in this range yet.'): HTMLElement {
  return el('p', text, 'empty');
}

export interface Series {
  readonly name: string;
  readonly points: readonly { x: number; y: number }[];
}

/** Every bucket from the first to the last, zero where a series has no point: gaps are quiet times, not lines across them. */
export function fillGaps(points: Series['points'], fromX: number, toX: number, stepMs: number): Series['points'] {
  const byX = new Map(points.map((p) => [p.x, p.y]));
  const filled: { x: number; y: number }[] = [];
  for (let x = fromX; x <= toX; x += stepMs) filled.push({ x, y: byX.get(x) ?? 0 });
  return filled;
}

/** Lines (or bars, for a single series) over time buckets of stepMs, with a shared y axis from zero. */
export function timeChart(raw: readonly Series[], kind: 'line' | 'bar', formatY: (v: number) => string, stepMs: number): HTMLElement {
  const wrapper = el('div');
  const all = raw.flatMap((s) => s.points);
  if (all.length === 0) return emptyNote();
  const [w, h, left, bottom] = [800, 220, 64, 20];
  const minX = Math.min(...all.map((p) => p.x));
  const maxX = Math.max(...all.map((p) => p.x));
  const series = raw.map((s) => ({ name: s.name, points: fillGaps(s.points, minX, maxX, stepMs) }));
  const points = series.flatMap((s) => s.points);
  const span = maxX - minX + stepMs;
  const maxY = Math.max(...points.map((p) => p.y), 1);
  const x = (v: number) => left + ((v - minX + stepMs / 2) / span) * (w - left - 8);
  const y = (v: number) => h - bottom - (v / maxY) * (h - bottom - 8);
  const chart = svg('svg', { viewBox: `0 0 ${w} ${h}`, role: 'img', 'aria-label': series.map((s) => s.name).join(', ') });
  for (const fraction of [0, 0.5, 1]) {
    chart.append(svg('line', { x1: left, x2: w - 8, y1: y(maxY * fraction), y2: y(maxY * fraction), stroke: '#e3e7ee' }));
    const label = svg('text', { x: left - 6, y: y(maxY * fraction) + 4, 'text-anchor': 'end', 'font-size': 11, fill: '#5b6678' });
    label.textContent = formatY(maxY * fraction);
    chart.append(label);
  }
  for (const [edge, value] of [['start', minX], ['end', maxX]] as const) {
    const label = svg('text', { x: x(value), y: h - 4, 'text-anchor': edge, 'font-size': 11, fill: '#5b6678' });
    label.textContent = new Date(value).toLocaleTimeString([], { hour: '2-digit', minute: '2-digit' });
    chart.append(label);
  }
  series.forEach((s, i) => {
    const color = PALETTE[i % PALETTE.length]!;
    if (kind === 'bar') {
      const width = Math.max(1, ((w - left - 8) * stepMs * 0.8) / span);
      for (const p of s.points) chart.append(svg('rect', { x: x(p.x) - width / 2, y: y(p.y), width, height: h - bottom - y(p.y), fill: color }));
    } else {
      const d = [...s.points].sort((a, b) => a.x - b.x).map((p, j) => `${j ? 'L' : 'M'}${x(p.x).toFixed(1)},${y(p.y).toFixed(1)}`).join('');
      chart.append(svg('path', { d, fill: 'none', stroke: color, 'stroke-width': 2 }));
    }
  });
  wrapper.append(chart);
  if (series.length > 1) {
    const legend = el('div', undefined, 'legend');
    series.forEach((s, i) => {
      const item = el('span', s.name);
      const swatch = el('i');
      swatch.style.background = PALETTE[i % PALETTE.length]!;
      item.prepend(swatch);
      legend.append(item);
    });
    wrapper.append(legend);
  }
  return wrapper;
}

/** Horizontal bars: a label, a bar scaled to the largest value, and a formatted figure. */
export function barList(rows: readonly { label: string; value: number; text: string }[]): HTMLElement {
  if (rows.length === 0) return emptyNote();
  const max = Math.max(...rows.map((r) => r.value), 1);
  const list = el('div', undefined, 'bars');
  for (const r of rows) {
    const row = el('div', undefined, 'bar');
    const track = el('div', undefined, 'track');
    const fill = el('div', undefined, 'fill');
    fill.style.width = `${(r.value / max) * 100}%`;
    track.append(fill);
    row.append(el('span', r.label), track, el('span', r.text, 'num'));
    row.dataset.label = r.label;
    list.append(row);
  }
  return list;
}

export function table(headers: readonly string[], rows: readonly (readonly string[])[]): HTMLElement {
  if (rows.length === 0) return emptyNote();
  const t = el('table');
  const head = el('tr');
  for (const h of headers) head.append(el('th', h));
  t.append(head);
  for (const r of rows) {
    const tr = el('tr');
    for (const cell of r) tr.append(el('td', cell));
    t.append(tr);
  }
  return t;
}
