// Progress bars are for terminals: spawned with pipes (as scripts and CI run it), `armsim run`,
// `replay` and `bench` print their results and nothing else: no bar, no carriage return, no escape
// sequence, on stdout or stderr. (The bar itself: src/cli/progress.test.ts; that the run loop's
// progress callback changes no result: src/platform/system-progress.test.ts.)
import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armsim, ROOT, type CliResult } from './cli-helpers.js';

/** No sign of a progress bar: no ESC, no CR, and no line a bar would draw (`| ... runs/s`, `cycles/s`, `ops/s`). */
function expectNoProgress(r: CliResult): void {
  for (const s of [r.stdout, r.stderr]) {
    expect(s).not.toMatch(/\x1b|\r/);
    expect(s).not.toMatch(/ (runs|cycles|ops)\/s\b/);
  }
}

describe('progress output with pipes', () => {
  it('armsim run: the summary only, and --json output is what it was', () => {
    const args = ['run', 'lat-mem-rd', '--platform', 'cachegrind', '--set', 'scenario.loads=200', '--set', 'scenario.maxBytes=1MiB'];
    const r = armsim(args);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toMatch(/^lat-mem-rd on cachegrind \(seed 1\): PASS/);
    expectNoProgress(r);
    const j = armsim([...args, '--json']);
    expect(j.code).toBe(0);
    expect(j.stderr).toBe('');
    expect(() => JSON.parse(j.stdout)).not.toThrow();
    expectNoProgress(j);
  }, 60_000);

  it('armsim replay: the summary only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-progress-'));
    try {
      const lines: string[] = [];
      for (let i = 0; i < 5000; i++) lines.push(` ${i % 3 === 0 ? 'S' : 'L'} ${(0x1000_0000 + ((i * 7919) % 65536) * 64).toString(16)},8`);
      writeFileSync(join(dir, 'p.lackey'), lines.join('\n') + '\n');
      const trace = join(dir, 'p.trace');
      expect(armsim(['trace', 'import', '--from', 'lackey', join(dir, 'p.lackey'), '-o', trace]).code).toBe(0);
      const r = armsim(['replay', trace]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stdout).toMatch(/ops replayed: 5000/);
      expectNoProgress(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);

  it('armsim bench: the table only', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-progress-bench-'));
    try {
      const r = armsim(['bench', 'cmo-strategies', '--quick', '--platform', 'grace', '--axis', 'cmo=none,fwb', '--axis', 'image=64KiB', '--axis', 'ram=1MiB', '--jobs', '1', '--out', join(dir, 'out')]);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
      expect(r.stdout).toMatch(/^cmo-strategies: 2 cells, 2 run/);
      expectNoProgress(r);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});

// util-linux `script` runs a command on a pseudo-terminal (Debian's bsdutils, an essential package).
const hasScript = spawnSync('script', ['--version'], { encoding: 'utf8' }).status === 0;

describe('progress output on a terminal', () => {
  it.skipIf(!hasScript)('armsim run draws its bar on stderr, clears it, then prints the summary', () => {
    const cmd = `${JSON.stringify(process.execPath)} bin/armsim.js run lat-mem-rd --platform cachegrind --set scenario.loads=200 --set scenario.maxBytes=1MiB`;
    const r = spawnSync('script', ['-qec', cmd, '/dev/null'], { cwd: ROOT, encoding: 'utf8', env: { ...process.env, COLUMNS: '120' } });
    expect(r.status, r.stderr).toBe(0);
    const screen = r.stdout;
    expect(screen).toMatch(/lat-mem-rd \| [\d.]+[kMG]? cycles \| [\d.]+[kMG]? cycles\/s \| \d+:\d\d elapsed/);
    expect(screen).toContain('\x1b[2K');                             // the bar's line is cleared...
    const after = screen.slice(screen.lastIndexOf('\x1b[2K') + 4);
    expect(after).toMatch(/^lat-mem-rd on cachegrind \(seed 1\): PASS/);   // ...before the summary
    expect(after).not.toMatch(/\x1b/);
  }, 60_000);
});
