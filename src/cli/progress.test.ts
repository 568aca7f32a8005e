import { describe, expect, it } from 'vitest';
import { ProgressBar, progressWanted, startProgress, type ProgressStream } from './progress.js';

/** A terminal stand-in that keeps what is written to it. */
function fakeTty(isTTY = true): ProgressStream & { out: string[] } {
  const out: string[] = [];
  return { isTTY, columns: 120, out, write(s: string) { out.push(s); return true; } };
}

/** Text without ANSI escape sequences. */
const plain = (s: string) => s.replace(/\x1b(\[[0-9;?]*[A-Za-z]|[78])/g, '');

/** Calls `f` after `ms` of busy wall time (cli-progress redraws at most every ~200 ms on updates). */
function after(ms: number, f: () => void): void {
  const t = Date.now();
  while (Date.now() - t < ms) { /* wait */ }
  f();
}

describe('progressWanted', () => {
  it('is true only when stdout and stderr are terminals and the output is not --json', () => {
    const tty = { isTTY: true }, pipe = { isTTY: false }, none = {};
    expect(progressWanted(false, tty, tty)).toBe(true);
    expect(progressWanted(true, tty, tty)).toBe(false);
    expect(progressWanted(false, pipe, tty)).toBe(false);
    expect(progressWanted(false, tty, pipe)).toBe(false);
    expect(progressWanted(false, none, tty)).toBe(false);
  });

  it('startProgress draws nothing and returns undefined under --json', () => {
    expect(startProgress(true, { label: 'x', unit: 'runs', total: 3 })).toBeUndefined();
  });
});

describe('ProgressBar', () => {
  it('draws a bar with the count, rate and ETA when the total is known, then clears its line', () => {
    const s = fakeTty();
    const bar = new ProgressBar({ label: 'cmo-strategies', unit: 'runs', total: 4, stream: s });
    after(250, () => bar.update(1, 'pass xgene1/none'));
    after(250, () => bar.update(2, 'fail xgene1/set-way'));
    bar.stop();
    const text = plain(s.out.join(''));
    expect(text).toMatch(/cmo-strategies \| \[=+-+\] 50% \| 2\/4 runs \| [\d.]+ runs\/s \| ETA \d+:\d\d \| fail xgene1\/set-way/);
    expect(text).toContain('1/4 runs');
    expect(text).not.toContain('\n');                                 // one line, redrawn in place
    const last = s.out.slice(-2).join('');
    expect(last).toContain('\x1b[2K');                                 // the line is cleared at the end
    bar.stop();                                                        // twice is harmless
    expect(s.out.slice(-2).join('')).toBe(last);
  });

  it('without a total draws the count, its rate and the time elapsed (no bar, no ETA)', () => {
    const s = fakeTty();
    const bar = new ProgressBar({ label: 'lat-mem-rd', unit: 'cycles', stream: s });
    after(250, () => bar.update(12_345_678));
    bar.stop();
    const text = plain(s.out.join(''));
    expect(text).toMatch(/lat-mem-rd \| 12\.3M cycles \| [\d.]+[kMG]? cycles\/s \| 0:0\d elapsed/);
    expect(text).not.toMatch(/ETA|%|\[/);
  });

  it('writes nothing to a stream that is not a terminal', () => {
    const s = fakeTty(false);
    const bar = new ProgressBar({ label: 'x', unit: 'ops', total: 10, stream: s });
    bar.update(5);
    bar.stop();
    expect(s.out).toEqual([]);
  });
});
