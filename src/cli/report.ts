import { mkdirSync, writeFileSync } from 'node:fs';
import { basename, dirname, join, relative } from 'node:path';
import { UserError } from '../sim/index.js';
import { parseCommandArgs } from './args.js';
import { loadReportData, reportHtml, reportMarkdown } from '../report/index.js';

export const REPORT_HELP = `Usage: armsim report DIR [--out FILE.html]

Turns a sweep's records (DIR/records.jsonl, written by 'armsim bench --out DIR') into a
self-contained HTML page (inline CSS and SVG plots, no scripts, no network needed to view it)
and a Markdown summary, DIR/report.md. Prints both paths.

  --out FILE.html   where the page goes (default: DIR/report.html)

cmo-strategies gets plots (maintenance cycles vs image size per platform, clean-all-at-start vs
guest RAM size, where the cycles went per strategy) with stale runs marked; pfnmap-policies a
policy × platform outcome table; any other suite its tables.

Exit codes: 0 written, 2 bad input (DIR missing or without records).
`;

const OPTIONS = { out: { type: 'string' }, help: { type: 'boolean', short: 'h' } } as const;

/** `armsim report DIR [--out FILE.html]`: returns the exit code; throws UserError on bad input (nothing written). */
export async function runReportCommand(args: readonly string[]): Promise<number> {
  const p = parseCommandArgs('report', args, OPTIONS);
  if (p.values.help) { process.stdout.write(REPORT_HELP); return 0; }
  if (p.positionals.length !== 1) throw new UserError(`report: expected one sweep directory (got ${p.positionals.length}); 'armsim bench --out DIR' writes one`);
  const { htmlPath, mdPath } = await writeReport(p.positionals[0]!, p.values.out);
  process.stdout.write(`${htmlPath}\n${mdPath}\n`);
  return 0;
}

/** Renders DIR's records into the HTML page (default DIR/report.html) and DIR/report.md; returns their paths. */
export async function writeReport(dir: string, out?: string): Promise<{ htmlPath: string; mdPath: string }> {
  const data = loadReportData(dir);
  const htmlPath = out ?? join(dir, 'report.html');
  const mdPath = join(dir, 'report.md');
  // Everything is rendered before anything is written.
  const html = await reportHtml(data);
  const md = reportMarkdown(data, relative(dirname(mdPath), htmlPath) || basename(htmlPath));
  mkdirSync(dirname(htmlPath), { recursive: true });
  writeFileSync(htmlPath, html);
  writeFileSync(mdPath, md);
  return { htmlPath, mdPath };
}
