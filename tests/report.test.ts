import { describe, expect, it, beforeAll } from 'vitest';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { chromium as playwright } from 'playwright-core';
import { armsim, ROOT, type CliResult } from './cli-helpers.js';

// Real records, made here by the built command at --quick sizes (64 KiB and 256 KiB images, 1 and
// 4 MiB of guest RAM) on a platform with an L3 before the PoC (xgene1: set/way is stale) and one
// with FWB (grace). Nothing is hand-written: the report is checked against what the bench produced.
const CMO = ['bench', 'cmo-strategies', '--quick', '--platform', 'xgene1,grace', '--axis', 'ram=1MiB,4MiB', '--jobs', '2'];
const PFN = ['bench', 'pfnmap-policies', '--platform', 'xgene1,grace', '--jobs', '2'];

const ARTIFACTS = join(ROOT, 'tests', 'artifacts');

function ok(r: CliResult): CliResult {
  expect(r.code, r.stderr).toBe(0);
  return r;
}

/** The Chromium of Debian's `chromium` package (or a `chromium-browser`), else undefined. */
function findChromium(): string | undefined {
  for (const p of ['/usr/bin/chromium', '/usr/bin/chromium-browser']) if (existsSync(p)) return p;
  for (const name of ['chromium', 'chromium-browser']) {
    const r = spawnSync('sh', ['-c', `command -v ${name}`], { encoding: 'utf8' });
    if (r.status === 0 && r.stdout.trim() !== '') return r.stdout.trim();
  }
  return undefined;
}

/** `<svg>` elements of the page (the charts), each with its drawn marks counted. */
function svgsOf(html: string): { marks: number }[] {
  return [...html.matchAll(/<svg\b[\s\S]*?<\/svg>/g)].map((m) => ({ marks: (m[0].match(/<(path|line|rect|circle|text)\b/g) ?? []).length }));
}

/** Attributes that would load something from the network when the page is viewed. */
const EXTERNAL = /\b(src|href|xlink:href)\s*=\s*["']?\s*(https?:)?\/\//i;

describe('armsim report', () => {
  const cmoDir = mkdtempSync(join(tmpdir(), 'armsim-report-cmo-'));
  const pfnDir = mkdtempSync(join(tmpdir(), 'armsim-report-pfn-'));
  let html = '';
  let t0 = 0;
  beforeAll(() => {
    ok(armsim([...CMO, '--out', cmoDir, '--json']));
    ok(armsim([...PFN, '--out', pfnDir, '--json']));
    t0 = performance.now();
    const r = ok(armsim(['report', cmoDir]));
    expect(r.stdout.trim().split('\n')).toEqual([join(cmoDir, 'report.html'), join(cmoDir, 'report.md')]);
    html = readFileSync(join(cmoDir, 'report.html'), 'utf8');
  }, 120_000);

  it('renders cmo-strategies in a few seconds', () => {
    expect(performance.now() - t0).toBeLessThan(20_000);
  });

  it('has the tables: cells × measured quantities, per platform, with stale runs marked', () => {
    for (const h of ['<th>cmo</th>', '<th>image</th>', '<th>ram</th>', '<th>verdict</th>', '<th class="num">cmoCycles</th>', '<th class="num">bootCycles</th>']) expect(html).toContain(h);
    expect(html).toMatch(/<h3>xgene1<\/h3>/);
    expect(html).toMatch(/<h3>grace<\/h3>/);
    // 24 xgene1 runs (no FWB there) + 28 grace runs.
    const records = readFileSync(join(cmoDir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.parse(l) as { platform: string; coords: Record<string, string>; measured: Record<string, unknown> });
    expect(records).toHaveLength(24 + 28);
    const staleRecords = records.filter((r) => r.measured['correct.value'] === false);
    // xgene1's L3 sits before the PoC: no maintenance and set/way both leave the guest reading stale bytes.
    expect(staleRecords.some((r) => r.platform === 'xgene1' && r.coords.cmo === 'set-way-at-start')).toBe(true);
    expect((html.match(/<tr class="row-stale">/g) ?? []).length).toBe(staleRecords.length);
    expect(html).toContain('<td class="mark-stale">✗ stale</td>');
    expect(html).toContain('Correctness: did the guest read the image it was given?');
    expect(html).toMatch(/<td>fwb<\/td><td>not run<\/td>/);
    const md = readFileSync(join(cmoDir, 'report.md'), 'utf8');
    expect(md).toContain('| cmo | image | ram | verdict |');
    expect(md).toContain('**✗ stale**');
    expect(md).toContain('report.html');
  });

  it('has inline SVG charts with marks, stale runs marked on them, and nothing from the network', () => {
    const svgs = svgsOf(html);
    // Maintenance vs image size per platform (2), clean-all-at-start vs RAM, the cycle breakdown.
    expect(svgs.length).toBe(4);
    for (const s of svgs) expect(s.marks).toBeGreaterThan(20);
    for (const id of ['cmo-vs-image-xgene1', 'cmo-vs-image-grace', 'clean-all-vs-ram', 'cycle-breakdown']) expect(html).toContain(`<figure id="${id}">`);
    expect(html).toMatch(/role-mark/);
    expect(html).toContain('✗ stale</text>');
    expect(html).toContain('stroke="#d62728"');
    expect(html).not.toMatch(EXTERNAL);
    expect(html).not.toMatch(/<script\b|<link\b|@import|url\((?!#)/i);
  });

  it('gives pfnmap-policies a policy × platform outcome table, and an unknown suite its tables only', () => {
    ok(armsim(['report', pfnDir, '--out', join(pfnDir, 'page.html')]));
    const p = readFileSync(join(pfnDir, 'page.html'), 'utf8');
    expect(p).toContain('<h3>exec-on-device-memory: policy × platform → outcome</h3>');
    expect(p).toContain('<tr><th>policy</th><th>xgene1</th><th>grace</th></tr>');
    expect(p).toMatch(/<td class="mark-ok">✓ normal-wb: exec allowed/);
    expect(p).not.toMatch(/<svg/);
    expect(existsSync(join(pfnDir, 'report.md'))).toBe(true);

    // The same real records under a suite name armsim bench does not know.
    const unknown = mkdtempSync(join(tmpdir(), 'armsim-report-unknown-'));
    const lines = readFileSync(join(cmoDir, 'records.jsonl'), 'utf8').trim().split('\n').map((l) => JSON.stringify({ ...JSON.parse(l), suite: 'made-up' }));
    writeFileSync(join(unknown, 'records.jsonl'), lines.join('\n') + '\n');
    ok(armsim(['report', unknown]));
    const u = readFileSync(join(unknown, 'report.html'), 'utf8');
    expect(u).toContain('<h3>xgene1</h3>');
    expect(u).toContain('<th>correct.value</th>');
    expect(u).not.toMatch(/<svg/);
    expect(u).toContain('tables only');
  });

  it('refuses a missing directory or one without records: one line naming the path, exit 2, nothing written', () => {
    const missing = join(tmpdir(), 'armsim-report-no-such-dir');
    const empty = mkdtempSync(join(tmpdir(), 'armsim-report-empty-'));
    const blank = mkdtempSync(join(tmpdir(), 'armsim-report-blank-'));
    writeFileSync(join(blank, 'records.jsonl'), '\n');
    for (const [dir, mention] of [[missing, missing], [empty, join(empty, 'records.jsonl')], [blank, join(blank, 'records.jsonl')]] as const) {
      const r = armsim(['report', dir]);
      expect(r.code, r.stderr).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
      expect(r.stderr).toContain(mention);
    }
    expect(existsSync(missing)).toBe(false);
    expect(readdirSync(empty)).toEqual([]);
    expect(readdirSync(blank)).toEqual(['records.jsonl']);
  });

  it('renders in headless Chromium: the charts are there, no console errors, no requests off the page', async () => {
    const exe = findChromium();
    if (exe === undefined) throw new Error("headless Chromium not found: install Debian's chromium package (apt-get install -y chromium); .ci/run does this when it is absent");
    const userDataDir = mkdtempSync(join(tmpdir(), 'armsim-report-chromium-'));
    const browser = await playwright.launchPersistentContext(userDataDir, {
      executablePath: exe,
      headless: true,
      viewport: { width: 1280, height: 900 },
      // Chromium's own background connections are refused on a closed network: turn them off.
      args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
    });
    try {
      const page = await browser.newPage();
      const errors: string[] = [];
      const requests: string[] = [];
      page.on('console', (m) => { if (m.type() === 'error' || m.type() === 'warning') errors.push(`${m.type()}: ${m.text()}`); });
      page.on('pageerror', (e) => errors.push(`pageerror: ${e.message}`));
      page.on('requestfailed', (r) => errors.push(`requestfailed: ${r.url()}`));
      page.on('request', (r) => { if (!r.url().startsWith('file:') && !r.url().startsWith('data:')) requests.push(r.url()); });
      const url = pathToFileURL(join(cmoDir, 'report.html')).href;
      const resp = await page.goto(url, { waitUntil: 'load' });
      expect(resp?.ok() ?? true).toBe(true);
      const figures = await page.$$eval('figure', (fs) => fs.map((f) => {
        const svg = f.querySelector('svg');
        const box = svg?.getBoundingClientRect();
        return { id: f.id, width: box?.width ?? 0, height: box?.height ?? 0, marks: svg?.querySelectorAll('.role-mark path, .role-mark line, .role-mark text').length ?? 0 };
      }));
      expect(figures.map((f) => f.id)).toEqual(['cmo-vs-image-xgene1', 'cmo-vs-image-grace', 'clean-all-vs-ram', 'cycle-breakdown']);
      for (const f of figures) {
        expect(f.width, f.id).toBeGreaterThan(200);
        expect(f.height, f.id).toBeGreaterThan(100);
        expect(f.marks, f.id).toBeGreaterThan(10);
      }
      expect(await page.$$eval('table', (ts) => ts.length)).toBeGreaterThanOrEqual(3);
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'report-cmo-strategies.png'), fullPage: true });
      expect(errors).toEqual([]);
      expect(requests).toEqual([]);
    } finally {
      await browser.close();
    }
    expect(existsSync(join(ARTIFACTS, 'report-cmo-strategies.png'))).toBe(true);
  }, 60_000);
});
