import type { SweepRecord } from '../sweep/index.js';
import type { ReportData } from './records.js';

/** How a row or cell is marked: a wrong result (stale data, a failed check, an error) stands out. */
export type Mark = 'ok' | 'stale' | 'fail' | 'error';

export interface Cell { text: string; mark?: Mark }

/** A table in a form both the HTML and the Markdown renderers take. */
export interface Table {
  title: string;
  note?: string;
  head: string[];
  /** Right-aligned columns (numbers). */
  numeric: boolean[];
  rows: { cells: Cell[]; mark?: Mark }[];
}

/** The measure that says whether the guest saw the right bytes (cmo-strategies), when present. */
export const CORRECT_PATH = 'correct.value';

/** `stale` when the run's data was wrong, `fail`/`error` for a failed check or a run that threw. */
export function markOf(r: SweepRecord): Mark {
  if (r.verdict === 'error') return 'error';
  if (r.verdict === 'fail') return 'fail';
  return r.measured[CORRECT_PATH] === false ? 'stale' : 'ok';
}

export function verdictText(r: SweepRecord): Cell {
  if (r.verdict === 'error') return { text: `ERROR: ${r.error ?? ''}`.trim(), mark: 'error' };
  if (r.verdict === 'fail') return { text: `FAIL (${r.failed.join(', ')})`, mark: 'fail' };
  return { text: 'pass', mark: 'ok' };
}

function valueText(path: string, v: unknown): Cell {
  if (v === null || v === undefined) return { text: '-' };
  if (path === CORRECT_PATH && typeof v === 'boolean') return v ? { text: '✓ correct', mark: 'ok' } : { text: '✗ stale', mark: 'stale' };
  if (typeof v === 'boolean') return { text: v ? '✓ true' : '✗ false', ...(v ? {} : { mark: 'stale' as Mark }) };
  if (typeof v === 'number') return { text: String(v) };
  return { text: typeof v === 'string' ? v : JSON.stringify(v) };
}

/**
 * Cells × measured quantities: one table per platform (and per scenario when the suite has
 * several), rows in grid order, the correctness of each run marked.
 */
export function cellTables(d: ReportData): Table[] {
  const scenarios = [...new Set(d.records.map((r) => r.scenario))];
  const seeds = new Set(d.records.map((r) => r.seed)).size > 1;
  const head = [...d.axes, ...(seeds ? ['seed'] : []), 'verdict', ...d.measures.map((m) => m.label), 'cycles'];
  const numeric = [...d.axes.map(() => false), ...(seeds ? [true] : []), false, ...d.measures.map((m) => d.records.every((r) => typeof r.measured[m.path] === 'number' || r.measured[m.path] == null)), true];
  const tables: Table[] = [];
  for (const scenario of scenarios) {
    for (const platform of d.platforms) {
      const rs = d.records.filter((r) => r.scenario === scenario && r.platform === platform);
      if (rs.length === 0) continue;
      tables.push({
        title: scenarios.length > 1 ? `${scenario} on ${platform}` : platform,
        head, numeric,
        rows: rs.map((r) => ({
          mark: markOf(r),
          cells: [
            ...d.axes.map((a) => ({ text: r.coords[a] ?? '' })),
            ...(seeds ? [{ text: String(r.seed) }] : []),
            verdictText(r),
            ...d.measures.map((m) => valueText(m.path, r.measured[m.path])),
            { text: String(r.cycles) },
          ],
        })),
      });
    }
  }
  return tables;
}

/**
 * cmo-strategies at a glance: strategy × platform → correct in every cell run, or stale in n of m
 * (with the sizes where it was stale).
 */
export function correctnessTable(d: ReportData, strategyAxis: string): Table {
  const strategies = [...new Set(d.records.map((r) => r.coords[strategyAxis] ?? ''))];
  return {
    title: 'Correctness: did the guest read the image it was given?',
    note: 'Each cell sums every run of that strategy on that platform (all image and guest RAM sizes); "not run" means the sweep has no record there (the suite skips it, e.g. FWB without FEAT_S2FWB).',
    head: [strategyAxis, ...d.platforms],
    numeric: [false, ...d.platforms.map(() => false)],
    rows: strategies.map((s) => ({
      cells: [{ text: s }, ...d.platforms.map((p): Cell => {
        const rs = d.records.filter((r) => r.platform === p && r.coords[strategyAxis] === s);
        if (rs.length === 0) return { text: 'not run' };
        const bad = rs.filter((r) => markOf(r) !== 'ok');
        if (bad.length === 0) return { text: `✓ correct (${rs.length} runs)`, mark: 'ok' };
        const errors = bad.filter((r) => r.verdict !== 'pass').length;
        const where = bad.map((r) => d.axes.filter((a) => a !== strategyAxis).map((a) => r.coords[a]).join('/')).join(', ');
        return { text: `✗ ${errors > 0 ? 'failed/stale' : 'stale'} in ${bad.length} of ${rs.length} (${where})`, mark: errors > 0 ? 'fail' : 'stale' };
      })],
    })),
  };
}

/**
 * pfnmap-policies: per scenario, policy × platform → what stage 2 did and the outcome, each cell
 * marked by whether the run's checks passed.
 */
export function outcomeTables(d: ReportData, policyAxis: string): Table[] {
  const [stage2, outcome] = [d.measures[0]?.path, d.measures[1]?.path];
  const scenarios = [...new Set(d.records.map((r) => r.scenario))];
  return scenarios.map((scenario) => {
    const rs = d.records.filter((r) => r.scenario === scenario);
    const policies = [...new Set(rs.map((r) => r.coords[policyAxis] ?? ''))];
    return {
      title: scenario,
      head: [policyAxis, ...d.platforms],
      numeric: [false, ...d.platforms.map(() => false)],
      rows: policies.map((pol) => ({
        cells: [{ text: pol }, ...d.platforms.map((p): Cell => {
          const r = rs.find((x) => x.platform === p && x.coords[policyAxis] === pol);
          if (!r) return { text: 'not run' };
          if (r.verdict === 'error') return { text: `ERROR: ${r.error ?? ''}`, mark: 'error' };
          const parts = [stage2, outcome].map((m) => (m === undefined ? undefined : r.measured[m])).filter((v) => v !== null && v !== undefined).map(String);
          const text = `${r.verdict === 'pass' ? '✓' : `✗ FAIL (${r.failed.join(', ')})`} ${parts.join(': ')}`;
          return { text, mark: r.verdict === 'pass' ? 'ok' : 'fail' };
        })],
      })),
    };
  });
}

// ---- rendering ----

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
export { esc as escapeHtml };

export function tableHtml(t: Table): string {
  const th = t.head.map((h, i) => `<th${t.numeric[i] ? ' class="num"' : ''}>${esc(h)}</th>`).join('');
  const rows = t.rows.map((row) => {
    const tds = row.cells.map((c, i) => {
      const cls = [t.numeric[i] ? 'num' : '', c.mark && c.mark !== 'ok' ? `mark-${c.mark}` : '', c.mark === 'ok' ? 'mark-ok' : ''].filter(Boolean).join(' ');
      return `<td${cls ? ` class="${cls}"` : ''}>${esc(c.text)}</td>`;
    }).join('');
    return `<tr${row.mark && row.mark !== 'ok' ? ` class="row-${row.mark}"` : ''}>${tds}</tr>`;
  }).join('\n');
  return `<h3>${esc(t.title)}</h3>\n${t.note ? `<p class="note">${esc(t.note)}</p>\n` : ''}<table>\n<thead><tr>${th}</tr></thead>\n<tbody>\n${rows}\n</tbody>\n</table>`;
}

export function tableMarkdown(t: Table): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|').replace(/\n/g, ' ');
  const fmt = (c: Cell) => (c.mark === 'stale' || c.mark === 'fail' || c.mark === 'error' ? `**${cell(c.text)}**` : cell(c.text));
  const lines = [
    `### ${t.title}`, '',
    ...(t.note ? [t.note, ''] : []),
    `| ${t.head.map(cell).join(' | ')} |`,
    `| ${t.numeric.map((n) => (n ? '---:' : '---')).join(' | ')} |`,
    ...t.rows.map((r) => `| ${r.cells.map(fmt).join(' | ')} |`),
  ];
  return lines.join('\n');
}
