/**
 * The scale chart: routing latency (p50, p95, p99, and the floor) and worker memory against the
 * number of pending asks, on a log axis. A small SVG writer: the chart is two panels of lines,
 * which does not need a charting library.
 */
import type { ScalePoint } from './scenarios/scale';

interface Series {
  label: string;
  color: string;
  values: number[];
  dashed?: boolean;
}

interface Panel {
  title: string;
  unit: string;
  series: Series[];
}

const PANEL_WIDTH = 380;
const PANEL_HEIGHT = 300;
const MARGIN = { left: 56, right: 16, top: 36, bottom: 44 };
const MIB = 2 ** 20;

export function scaleChartSvg(points: readonly ScalePoint[], floorMs?: number): string {
  const pending = points.map((p) => p.pending);
  const latency: Panel = {
    title: 'Routing latency (SendMessage → answered)',
    unit: 'ms',
    series: [
      { label: 'p50', color: '#1f77b4', values: points.map((p) => p.latency.p50) },
      { label: 'p95', color: '#ff7f0e', values: points.map((p) => p.latency.p95) },
      { label: 'p99', color: '#d62728', values: points.map((p) => p.latency.p99) },
      ...(floorMs === undefined
        ? []
        : [{ label: 'floor', color: '#7f7f7f', values: points.map(() => floorMs), dashed: true }]),
    ],
  };
  const memory: Panel = {
    title: 'Worker resident memory',
    unit: 'MiB',
    series: [
      { label: 'RSS', color: '#2ca02c', values: points.map((p) => p.rssBytes / MIB) },
      { label: 'target', color: '#7f7f7f', values: points.map(() => 512), dashed: true },
    ],
  };
  const width = PANEL_WIDTH * 2;
  const body =
    points.length === 0
      ? `<text x="${width / 2}" y="${PANEL_HEIGHT / 2}" text-anchor="middle">no scale results</text>`
      : [panelSvg(latency, pending, 0), panelSvg(memory, pending, PANEL_WIDTH)].join('\n');
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${PANEL_HEIGHT}" viewBox="0 0 ${width} ${PANEL_HEIGHT}" font-family="sans-serif" font-size="11">`,
    `<rect width="100%" height="100%" fill="white"/>`,
    body,
    '</svg>',
    '',
  ].join('\n');
}

function panelSvg(panel: Panel, pending: readonly number[], offsetX: number): string {
  const plotWidth = PANEL_WIDTH - MARGIN.left - MARGIN.right;
  const plotHeight = PANEL_HEIGHT - MARGIN.top - MARGIN.bottom;
  const logMin = Math.log10(Math.min(...pending));
  const logMax = Math.log10(Math.max(...pending));
  const x = (n: number) =>
    offsetX +
    MARGIN.left +
    (logMax === logMin ? plotWidth / 2 : ((Math.log10(n) - logMin) / (logMax - logMin)) * plotWidth);
  const finite = panel.series.flatMap((s) => s.values.filter(Number.isFinite));
  const yMax = niceCeiling(Math.max(...finite, 1));
  const y = (v: number) => MARGIN.top + plotHeight - (Math.min(v, yMax) / yMax) * plotHeight;
  const left = offsetX + MARGIN.left;
  const bottom = MARGIN.top + plotHeight;

  const parts: string[] = [
    `<text x="${left}" y="${MARGIN.top - 18}" font-weight="bold">${escapeXml(panel.title)}</text>`,
    `<line x1="${left}" y1="${bottom}" x2="${left + plotWidth}" y2="${bottom}" stroke="black"/>`,
    `<line x1="${left}" y1="${MARGIN.top}" x2="${left}" y2="${bottom}" stroke="black"/>`,
    `<text x="${left + plotWidth / 2}" y="${PANEL_HEIGHT - 8}" text-anchor="middle">pending asks (log scale)</text>`,
  ];
  for (const n of pending) {
    parts.push(`<line x1="${x(n)}" y1="${bottom}" x2="${x(n)}" y2="${bottom + 4}" stroke="black"/>`);
    parts.push(`<text x="${x(n)}" y="${bottom + 16}" text-anchor="middle">${n.toLocaleString('en-US')}</text>`);
  }
  for (let i = 0; i <= 4; i++) {
    const v = (yMax * i) / 4;
    parts.push(`<line x1="${left}" y1="${y(v)}" x2="${left + plotWidth}" y2="${y(v)}" stroke="#e5e5e5"/>`);
    parts.push(`<text x="${left - 6}" y="${y(v) + 4}" text-anchor="end">${Math.round(v)} ${panel.unit}</text>`);
  }
  panel.series.forEach((series, i) => {
    const coords = series.values.map((v, j) => `${x(pending[j]!).toFixed(1)},${y(v).toFixed(1)}`);
    const dash = series.dashed ? ' stroke-dasharray="5,4"' : '';
    parts.push(`<polyline points="${coords.join(' ')}" fill="none" stroke="${series.color}" stroke-width="2"${dash}/>`);
    if (!series.dashed)
      for (const c of coords)
        parts.push(`<circle cx="${c.split(',')[0]}" cy="${c.split(',')[1]}" r="3" fill="${series.color}"/>`);
    const legendX = left + 8 + i * 64;
    parts.push(
      `<line x1="${legendX}" y1="${MARGIN.top - 6}" x2="${legendX + 14}" y2="${MARGIN.top - 6}" stroke="${series.color}" stroke-width="2"${dash}/>`,
    );
    parts.push(`<text x="${legendX + 18}" y="${MARGIN.top - 2}">${escapeXml(series.label)}</text>`);
  });
  return parts.join('\n');
}

/** 1, 2 or 5 times a power of ten, at or above `value`: round numbers for the axis. */
export function niceCeiling(value: number): number {
  const power = 10 ** Math.floor(Math.log10(value));
  return ([1, 2, 5, 10].find((m) => m * power >= value) ?? 10) * power;
}

function escapeXml(text: string): string {
  return text.replace(/[<>&"]/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;' })[c]!);
}
