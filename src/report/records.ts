import { existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { UserError, parseSize } from '../sim/index.js';
import { SUITES, RECORDS_JSONL, type Suite, type SweepRecord } from '../sweep/index.js';

/** What a report is made from: one sweep's records, in cell order, and what the suite says about them. */
export interface ReportData {
  dir: string;
  suiteName: string;
  /** The suite's definition when `armsim bench` knows it; undefined for an unknown suite (tables only). */
  suite: Suite | undefined;
  /** Axis names in grid order (the suite's, or the records' coords in first-seen order). */
  axes: string[];
  /** Measured quantities: path and column label. */
  measures: { path: string; label: string }[];
  platforms: string[];
  records: SweepRecord[];
}

/**
 * Reads DIR/records.jsonl without changing it (unlike the sweep's reader, which drops a line cut
 * short by an interruption and rewrites the file; a report only ignores such a line).
 * Throws a one-line UserError naming the path when DIR or its records are missing.
 */
export function loadReportData(dir: string): ReportData {
  if (!existsSync(dir)) throw new UserError(`report: '${dir}' does not exist (expected a directory written by 'armsim bench --out')`);
  if (!statSync(dir).isDirectory()) throw new UserError(`report: '${dir}' is not a directory (expected one written by 'armsim bench --out')`);
  const path = join(dir, RECORDS_JSONL);
  if (!existsSync(path)) throw new UserError(`report: '${path}' does not exist (no sweep records in '${dir}')`);
  const records: SweepRecord[] = [];
  for (const line of readFileSync(path, 'utf8').split('\n')) {
    if (line.trim() === '') continue;
    try {
      const r = JSON.parse(line) as SweepRecord;
      if (typeof r.key === 'string' && typeof r.suite === 'string' && typeof r.platform === 'string' && r.coords && r.measured) records.push(r);
    } catch { /* a line cut short by an interrupted sweep */ }
  }
  if (records.length === 0) throw new UserError(`report: '${path}' holds no records`);
  const suites = [...new Set(records.map((r) => r.suite))];
  if (suites.length > 1) throw new UserError(`report: '${path}' holds records of several suites (${suites.join(', ')})`);
  // The last record of a key wins: a resumed sweep appends the rerun of a cell that errored.
  const byKey = new Map(records.map((r) => [r.key, r]));
  const suiteName = suites[0]!;
  const suite = SUITES.find((s) => s.name === suiteName);
  const all = [...byKey.values()];
  const axes = suite ? suite.axes.map((a) => a.name) : firstSeen(all.flatMap((r) => Object.keys(r.coords)));
  const measures = suite ? suite.measures.map((m) => ({ path: m.path, label: m.label })) : firstSeen(all.flatMap((r) => Object.keys(r.measured))).map((p) => ({ path: p, label: p }));
  const platforms = orderBy(firstSeen(all.map((r) => r.platform)), suite?.platforms ?? []);
  return { dir, suiteName, suite, axes, measures, platforms, records: sortCells(all, suite, platforms, axes) };
}

function firstSeen(xs: readonly string[]): string[] {
  return [...new Set(xs)];
}

/** `xs` with the names `order` lists first, in that order, then the rest as they came. */
function orderBy(xs: readonly string[], order: readonly string[]): string[] {
  return [...order.filter((x) => xs.includes(x)), ...xs.filter((x) => !order.includes(x))];
}

/** A sortable rank for an axis value: sizes by bytes, enums by the suite's order, else by text. */
export function axisRank(suite: Suite | undefined, axis: string, value: string): number | string {
  const a = suite?.axes.find((x) => x.name === axis);
  if (a?.kind === 'enum') { const i = a.values.indexOf(value); return i < 0 ? a.values.length : i; }
  if (a?.kind === 'size' || /^\d+(\.\d+)?\s*[KMG]iB$/.test(value)) {
    try { return parseSize(value); } catch { /* not a size after all */ }
  }
  return value;
}

/** Records in the grid's order: scenario, platform, then each axis (last fastest), then seed. */
function sortCells(records: SweepRecord[], suite: Suite | undefined, platforms: readonly string[], axes: readonly string[]): SweepRecord[] {
  const scenarios = orderBy(firstSeen(records.map((r) => r.scenario)), suite?.scenarios ?? []);
  const cmp = (a: number | string, b: number | string) => (a === b ? 0 : typeof a === 'number' && typeof b === 'number' ? a - b : String(a) < String(b) ? -1 : 1);
  return [...records].sort((a, b) =>
    scenarios.indexOf(a.scenario) - scenarios.indexOf(b.scenario)
    || platforms.indexOf(a.platform) - platforms.indexOf(b.platform)
    || axes.reduce((acc, ax) => acc || cmp(axisRank(suite, ax, a.coords[ax] ?? ''), axisRank(suite, ax, b.coords[ax] ?? '')), 0)
    || a.seed - b.seed);
}
