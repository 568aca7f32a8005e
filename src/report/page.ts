import { basename } from 'node:path';
import type { ReportData } from './records.js';
import { cellTables, correctnessTable, outcomeTables, tableHtml, tableMarkdown, escapeHtml as esc, markOf, type Table } from './tables.js';
import { cmoStrategyCharts, type Chart } from './charts.js';
import { renderSvg } from './render.js';

/** What the page says, before rendering: summary lines, summary tables, charts, per-cell tables. */
interface Content {
  title: string;
  description: string;
  summary: string[];
  overview: Table[];
  charts: Chart[];
  tables: Table[];
  notes: string[];
}

function contentOf(d: ReportData): Content {
  const counts = { pass: 0, fail: 0, error: 0 };
  for (const r of d.records) counts[r.verdict]++;
  const stale = d.records.filter((r) => markOf(r) === 'stale').length;
  const summary = [
    `${d.records.length} runs on ${d.platforms.join(', ')}: ${counts.pass} passed their checks, ${counts.fail} failed, ${counts.error} threw.`,
    ...(stale > 0 ? [`${stale} runs read stale data (marked ✗ stale in red).`] : []),
    `Axes: ${d.axes.map((a) => `${a} = ${[...new Set(d.records.map((r) => r.coords[a] ?? ''))].join(', ')}`).join('; ') || 'none'}.`,
  ];
  const notes = [
    `Made by 'armsim report' from ${basename(d.dir) || d.dir}/records.jsonl. Cells the suite skips (a platform without the feature, an image that does not fit) have no record and are not listed.`,
    'Cycles are simulated cycles; host timing (wall time, events/s) is left out, so the same records give the same report.',
  ];
  let overview: Table[] = [];
  let charts: Chart[] = [];
  const tables = cellTables(d);
  if (d.suiteName === 'cmo-strategies') {
    overview = [correctnessTable(d, 'cmo')];
    charts = cmoStrategyCharts(d);
  } else if (d.suiteName === 'pfnmap-policies') {
    overview = outcomeTables(d, 'policy').map((t) => ({ ...t, title: `${t.title}: policy × platform → outcome` }));
  } else if (!d.suite) {
    notes.push(`'armsim bench' does not know suite '${d.suiteName}': tables only.`);
  }
  return { title: `armsim report: ${d.suiteName}`, description: d.suite?.description ?? '', summary, overview, charts, tables, notes };
}

const CSS = `
body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; margin: 2em auto; max-width: 1200px; padding: 0 1em; color: #222; }
h1 { font-size: 1.6em; margin-bottom: .2em; } h2 { margin-top: 2em; border-bottom: 1px solid #ddd; } h3 { margin: 1.4em 0 .4em; }
p.desc { color: #555; margin-top: 0; } p.note { color: #555; font-size: .9em; margin: .2em 0 .6em; }
table { border-collapse: collapse; margin: .4em 0 1em; font-size: 13px; }
th, td { border: 1px solid #ddd; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f4f4f4; } td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.row-stale td { background: #fff0f0; } tr.row-fail td, tr.row-error td { background: #ffe0e0; }
td.mark-stale, td.mark-fail, td.mark-error { color: #c00; font-weight: 600; } td.mark-ok { color: #1a7f37; }
figure { margin: 1.2em 0 2em; } figure svg { max-width: 100%; height: auto; display: block; }
figcaption { color: #444; font-size: .92em; max-width: 900px; margin-top: .4em; }
ul.summary li { margin: .15em 0; }
`;

/** The self-contained page: inline CSS and inline SVG charts, no script, no external reference. */
export async function reportHtml(d: ReportData): Promise<string> {
  const c = contentOf(d);
  const figures: string[] = [];
  for (const ch of c.charts) {
    const svg = await renderSvg(ch.spec, ch.id);
    figures.push(`<figure id="${esc(ch.id)}">\n<h3>${esc(ch.title)}</h3>\n${svg}\n<figcaption>${esc(ch.caption)}</figcaption>\n</figure>`);
  }
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>${esc(c.title)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>${esc(c.title)}</h1>
${c.description ? `<p class="desc">${esc(c.description)}</p>` : ''}
<ul class="summary">
${c.summary.map((s) => `<li>${esc(s)}</li>`).join('\n')}
</ul>
${c.overview.length > 0 ? `<h2>Summary</h2>\n${c.overview.map(tableHtml).join('\n')}` : ''}
${figures.length > 0 ? `<h2>Plots</h2>\n${figures.join('\n')}` : ''}
<h2>Runs</h2>
<p class="note">Cells × measured quantities, one table per ${new Set(d.records.map((r) => r.scenario)).size > 1 ? 'scenario and platform' : 'platform'}, in grid order.</p>
${c.tables.map(tableHtml).join('\n')}
<h2>Notes</h2>
<ul>
${c.notes.map((s) => `<li>${esc(s)}</li>`).join('\n')}
</ul>
</body>
</html>
`;
}

/** The Markdown summary: the same tables, the plots named (they live in the HTML page). */
export function reportMarkdown(d: ReportData, htmlName: string): string {
  const c = contentOf(d);
  const parts = [
    `# ${c.title}`, '',
    ...(c.description ? [c.description, ''] : []),
    ...c.summary.map((s) => `- ${s}`), '',
    ...(c.overview.length > 0 ? ['## Summary', '', ...c.overview.flatMap((t) => [tableMarkdown(t), ''])] : []),
    ...(c.charts.length > 0 ? ['## Plots', '', `In ${htmlName}:`, '', ...c.charts.map((ch) => `- ${ch.title}`), ''] : []),
    '## Runs', '',
    ...c.tables.flatMap((t) => [tableMarkdown(t), '']),
    '## Notes', '',
    ...c.notes.map((s) => `- ${s}`), '',
  ];
  return parts.join('\n');
}
