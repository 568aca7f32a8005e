/**
 * report — `armsim report DIR`: a sweep's records (DIR/records.jsonl from `armsim bench`) as a
 * self-contained HTML page and a Markdown summary.
 *
 * The page: tables of cells × measured quantities with wrong results marked, and for
 * cmo-strategies plots rendered to inline SVG at report time (Vega-Lite compiled by `vega-lite`,
 * drawn by Vega's headless View), so viewing it needs no network and no JavaScript.
 * Leaves out: plots for suites other than cmo-strategies (pfnmap-policies gets an outcome table,
 * an unknown suite tables only), the skipped cells (the records do not name them), and host timing.
 */
export { loadReportData, type ReportData } from './records.js';
export { reportHtml, reportMarkdown } from './page.js';
export { renderSvg } from './render.js';
