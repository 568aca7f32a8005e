import type { TopLevelSpec } from 'vega-lite';
import type { SweepRecord } from '../sweep/index.js';
import { parseSize } from '../sim/index.js';
import type { ReportData } from './records.js';
import { markOf } from './tables.js';

/** A chart: a Vega-Lite spec plus the words around it. Rendered to SVG by render.ts. */
export interface Chart {
  id: string;
  title: string;
  caption: string;
  spec: TopLevelSpec;
}

const MiB = 1024 * 1024;
const AXES = { strategy: 'cmo', image: 'image', ram: 'ram' } as const;
/** Strategies that do no maintenance before the vCPU first runs (none, or all of it in stage-2 fault handlers). */
const NO_START_OF_DAY = new Set(['none', 'clean-on-s2-fault', 'hcr-dc', 'fwb']);

/** Bytes on a log2 axis, labelled 64 KiB, 1 MiB, 1 GiB (the values are MiB). */
const SIZE_LABEL = "datum.value >= 1024 ? format(datum.value / 1024, '~g') + ' GiB' : datum.value >= 1 ? format(datum.value, '~g') + ' MiB' : format(datum.value * 1024, '~g') + ' KiB'";

/** Cycle counts as 0, 500, 20k, 1.5M: each label on its own (a shared '~s' format would print 0M for 1000). */
const CYCLES_LABEL = "datum.value >= 1e9 ? format(datum.value / 1e9, '~g') + 'G' : datum.value >= 1e6 ? format(datum.value / 1e6, '~g') + 'M' : datum.value >= 1e3 ? format(datum.value / 1e3, '~g') + 'k' : format(datum.value, '~g')";

const num = (v: unknown): number | undefined => (typeof v === 'number' && Number.isFinite(v) ? v : undefined);
const check = (r: SweepRecord, name: string, field: string): number | undefined => num((r.checks?.[name] as Record<string, unknown> | undefined)?.[field]);
const mib = (s: string | undefined): number | undefined => { try { return s === undefined ? undefined : parseSize(s) / MiB; } catch { return undefined; } };
const status = (r: SweepRecord) => { const m = markOf(r); return m === 'ok' ? 'correct' : m === 'stale' ? 'stale' : 'failed'; };

/**
 * A y scale for cycle counts: log when every value is positive, else symlog (FWB and HCR_EL2.DC
 * spend 0 cycles in maintenance) with ticks at powers of ten so the axis still reads as one.
 */
function cycleScale(values: readonly number[]): { scale: Record<string, unknown>; axis: Record<string, unknown> } {
  const pos = values.filter((v) => v > 0);
  const lo = Math.min(...(pos.length > 0 ? pos : [1])), hi = Math.max(1, ...values);
  // Ticks at 1, 2 and 5 times a power of ten across the data (log axes otherwise draw a grid line per integer multiple).
  const ticks: number[] = [];
  const steps = Math.log10(hi / lo) <= 2 ? [1, 2, 5] : [1];
  for (let p = 10 ** Math.floor(Math.log10(lo)); p <= hi * 10; p *= 10) for (const m of steps) if (m * p >= lo / 2 && m * p <= hi * 2) ticks.push(m * p);
  if (values.every((v) => v > 0)) return { scale: { type: 'log' }, axis: { values: ticks, labelExpr: CYCLES_LABEL } };
  const top = 10 ** Math.ceil(Math.log10(hi));
  const decades = [0];
  for (let p = 1; p <= top; p *= 10) decades.push(p);
  return { scale: { type: 'symlog', constant: 1, domain: [0, top] }, axis: { values: decades, labelExpr: CYCLES_LABEL } };
}

/** Shape and colour that mark a wrong result on every plot: a red ring around the point. */
const STALE_LAYER = (x: object, y: object) => ({
  transform: [{ filter: "datum.status !== 'correct'" }],
  mark: { type: 'point', shape: 'circle', filled: false, color: '#d62728', size: 260, strokeWidth: 2.5 },
  encoding: { x, y },
});

const SHAPE = { field: 'status', type: 'nominal', title: 'guest saw', scale: { domain: ['correct', 'stale', 'failed'], range: ['circle', 'cross', 'triangle-up'] } };

/** The charts the cmo-strategies suite gets; fewer when the sweep lacks the axes or checks they need. */
export function cmoStrategyCharts(d: ReportData): Chart[] {
  const strategies = d.suite?.axes.find((a) => a.name === AXES.strategy)?.values ?? [...new Set(d.records.map((r) => r.coords[AXES.strategy] ?? ''))];
  const color = { field: 'strategy', type: 'nominal', title: 'hyp.cmo', scale: { domain: [...strategies] }, sort: [...strategies] };
  const rows = d.records.filter((r) => r.verdict !== 'error').map((r) => ({
    r,
    platform: r.platform,
    strategy: r.coords[AXES.strategy] ?? '',
    image: r.coords[AXES.image] ?? '',
    ram: r.coords[AXES.ram] ?? '',
    imageMiB: mib(r.coords[AXES.image]),
    ramMiB: mib(r.coords[AXES.ram]),
    cmoCycles: num(r.measured['cmoCycles.cycles']),
    cycles: r.cycles,
    status: status(r),
  })).filter((x) => x.imageMiB !== undefined && x.ramMiB !== undefined && x.cmoCycles !== undefined);
  if (rows.length === 0) return [];
  const charts: Chart[] = [];
  const ramValues = [...new Set(rows.map((x) => x.ram))].sort((a, b) => mib(a)! - mib(b)!);
  const x = (field: string, title: string) => ({ field, type: 'quantitative', title, scale: { type: 'log', base: 2, nice: false }, axis: { labelExpr: SIZE_LABEL, values: [...new Set(rows.map((r) => (r as Record<string, unknown>)[field] as number))] } });

  // 1. Maintenance cycles vs image size: one chart per platform, one panel and colour per strategy,
  // a line per guest RAM size. Panels, not one plot: strategies that cost the same would hide each other.
  for (const p of d.platforms) {
    const data = rows.filter((x) => x.platform === p).map(({ r: _r, ...x }) => x);
    if (data.length === 0) continue;
    const present = strategies.filter((s) => data.some((x) => x.strategy === s));
    const ys = cycleScale(data.map((x) => x.cmoCycles!));
    const xe = x('imageMiB', 'image size');
    const ye = { field: 'cmoCycles', type: 'quantitative', title: 'cycles in maintenance', scale: ys.scale, axis: ys.axis };
    const dash = { field: 'ram', type: 'ordinal', title: 'guest RAM', sort: ramValues, scale: { domain: ramValues } };
    charts.push({
      id: `cmo-vs-image-${p}`,
      title: `${p}: cycles in maintenance vs image size`,
      caption: `One panel and colour per hyp.cmo strategy, one line per guest RAM size (dash), log scales${ys.scale.type === 'symlog' ? ' (symmetric log on y, so strategies that do no maintenance show at 0)' : ''}. Crosses ringed in red are runs where the guest read stale bytes.`,
      spec: {
        data: { values: data },
        facet: { field: 'strategy', type: 'nominal', title: null, sort: present, header: { labelFontSize: 12, labelFontWeight: 'bold' } },
        columns: Math.min(present.length, 4),
        spec: {
          width: 180, height: 150,
          layer: [
            { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x: xe, y: ye, color: { ...color, legend: null }, strokeDash: dash } },
            { mark: { type: 'point', filled: true, size: 60, opacity: 1 }, encoding: { x: xe, y: ye, color: { ...color, legend: null }, shape: SHAPE } },
            STALE_LAYER(xe, ye),
          ],
        },
        config: CONFIG,
      } as unknown as TopLevelSpec,
    });
  }

  // 2. clean-all-at-start vs guest RAM size: maintenance and whole-run cycles, a line per platform and image size.
  const cas = rows.filter((x) => x.strategy === 'clean-all-at-start');
  if (cas.length > 0) {
    const data = cas.flatMap(({ r: _r, ...x }) => [
      { ...x, quantity: 'cycles in maintenance', value: x.cmoCycles! },
      { ...x, quantity: 'cycles in the whole run', value: x.cycles },
    ]);
    const xe = x('ramMiB', 'guest RAM size');
    const ys = cycleScale(data.map((v) => v.value));
    const ye = { field: 'value', type: 'quantitative', title: 'cycles', scale: ys.scale, axis: ys.axis };
    charts.push({
      id: 'clean-all-vs-ram',
      title: 'clean-all-at-start: cycles vs guest RAM size',
      caption: 'DC CIVAC over all of guest RAM before the first vCPU run: the cost grows with the RAM size, not the image. One line per platform (colour) and image size (dash); log scales.',
      spec: {
        data: { values: data },
        facet: { column: { field: 'quantity', type: 'nominal', title: null } },
        resolve: { scale: { y: 'independent' } },
        spec: {
          width: 260, height: 220,
          layer: [
            { mark: { type: 'line', strokeWidth: 1.5 }, encoding: { x: xe, y: ye, color: { field: 'platform', type: 'nominal', sort: d.platforms }, strokeDash: { field: 'image', type: 'ordinal', title: 'image size', sort: [...new Set(data.map((v) => v.image))].sort((a, b) => mib(a)! - mib(b)!) } } },
            { mark: { type: 'point', filled: true, size: 60 }, encoding: { x: xe, y: ye, color: { field: 'platform', type: 'nominal', sort: d.platforms }, shape: SHAPE } },
            STALE_LAYER(xe, ye),
          ],
        },
        config: CONFIG,
      } as unknown as TopLevelSpec,
    });
  }

  // 3. Where the cycles went, per strategy, at the largest image and guest RAM size the sweep has.
  const bd = breakdown(rows.map((x) => x.r));
  if (bd.data.length > 0) {
    const components = ['maintenance', 'stage-2 fault handling', 'rest of the run'];
    charts.push({
      id: 'cycle-breakdown',
      title: `Where the cycles went (${bd.image} image, ${bd.ram} guest RAM)`,
      caption: `Each bar is one run: cycles in maintenance (start-of-day and in fault handlers), in stage-2 fault handling other than its maintenance, and the rest of the run (host setup, image load, the guest's own boot). “✗ stale” marks runs where the guest read stale bytes; an empty row is a strategy not run on that platform.${bd.estimated ? ' Some splits of maintenance between start-of-day and fault handlers are estimated from DC/IC operation counts (no reference run without start-of-day maintenance in the sweep).' : ''}`,
      spec: {
        data: { values: bd.data },
        facet: { column: { field: 'platform', type: 'nominal', title: null, sort: d.platforms, header: { labelFontSize: 12, labelFontWeight: 'bold' } } },
        spec: {
          width: 260, height: { step: 22 },
          layer: [
            {
              mark: { type: 'bar' },
              encoding: {
                y: { field: 'strategy', type: 'nominal', title: null, sort: [...strategies] },
                x: { field: 'cycles', type: 'quantitative', stack: 'zero', title: 'cycles', axis: { labelExpr: CYCLES_LABEL, tickCount: 5 } },
                color: { field: 'component', type: 'nominal', title: 'spent in', scale: { domain: components, range: ['#e6550d', '#3182bd', '#bdbdbd'] } },
                order: { field: 'order', type: 'quantitative' },
                tooltip: [{ field: 'strategy' }, { field: 'component' }, { field: 'cycles' }],
              },
            },
            {
              transform: [{ filter: "datum.component === 'maintenance' && datum.status !== 'correct'" }],
              mark: { type: 'text', text: '✗ stale', color: '#d62728', fontSize: 11, fontWeight: 'bold', align: 'left', dx: 4 },
              encoding: {
                y: { field: 'strategy', type: 'nominal', sort: [...strategies] },
                x: { field: 'total', type: 'quantitative', stack: null },
              },
            },
          ],
        },
        config: { ...CONFIG, legend: { ...CONFIG.legend, labelLimit: 400 } },
      } as unknown as TopLevelSpec,
    });
  }
  return charts;
}

const CONFIG = { font: 'sans-serif', axis: { labelFontSize: 11, titleFontSize: 12 }, legend: { labelFontSize: 11 }, view: { stroke: '#ddd' } };

interface BreakdownRow { platform: string; strategy: string; component: string; order: number; cycles: number; total: number; status: string }

/**
 * Splits each run's cycles into maintenance, stage-2 fault handling and the rest, without double
 * counting: the hypervisor counts the maintenance it does inside a fault handler (clean-on-s2-fault's
 * DC CIVAC, IC IVAU for executable pages) in both cmoCycles and faultCycles. Maintenance before the
 * vCPU starts is the extra host time over a run of the same cell whose strategy does none then;
 * the rest of cmoCycles ran in fault handlers. Without such a run, the split follows the DC/IC counts.
 */
function breakdown(records: SweepRecord[]): { data: BreakdownRow[]; image: string; ram: string; estimated: boolean } {
  const withChecks = records.filter((r) => check(r, 's2Faults', 'faultCycles') !== undefined && check(r, 'bootCycles', 'cycles') !== undefined);
  const sizes = withChecks.map((r) => ({ image: r.coords[AXES.image] ?? '', ram: r.coords[AXES.ram] ?? '' }));
  if (sizes.length === 0) return { data: [], image: '', ram: '', estimated: false };
  const best = sizes.sort((a, b) => (mib(b.image)! - mib(a.image)!) || (mib(b.ram)! - mib(a.ram)!))[0]!;
  const at = withChecks.filter((r) => r.coords[AXES.image] === best.image && r.coords[AXES.ram] === best.ram);
  let estimated = false;
  const data: BreakdownRow[] = [];
  for (const r of at) {
    const strategy = r.coords[AXES.strategy] ?? '';
    const cmo = num(r.measured['cmoCycles.cycles']) ?? 0;
    const faultCycles = check(r, 's2Faults', 'faultCycles')!;
    const preBoot = r.cycles - check(r, 'bootCycles', 'cycles')!;
    let atStart = 0;
    if (!NO_START_OF_DAY.has(strategy)) {
      const ref = at.find((x) => x.platform === r.platform && x.seed === r.seed && NO_START_OF_DAY.has(x.coords[AXES.strategy] ?? ''));
      if (ref) atStart = preBoot - (ref.cycles - check(ref, 'bootCycles', 'cycles')!);
      else {
        estimated = true;
        const dc = check(r, 'cmoCycles', 'dcOps') ?? 0, ic = check(r, 'cmoCycles', 'icOps') ?? 0;
        atStart = dc + ic > 0 ? (cmo * dc) / (dc + ic) : 0;
      }
      atStart = Math.min(cmo, Math.max(0, Math.round(atStart)));
    }
    const faults = Math.max(0, faultCycles - (cmo - atStart));
    const parts: [string, number][] = [['maintenance', cmo], ['stage-2 fault handling', faults], ['rest of the run', Math.max(0, r.cycles - cmo - faults)]];
    parts.forEach(([component, cycles], order) => data.push({ platform: r.platform, strategy, component, order, cycles, total: r.cycles, status: status(r) }));
  }
  return { data, image: best.image, ram: best.ram, estimated };
}
