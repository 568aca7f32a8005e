// System.run's progress callback (what `armsim run` draws its bar from) cuts the run into pieces;
// the events, their order and every result must be the same as without it.
import { describe, expect, it } from 'vitest';
import { ProgramOpSource, prog, type Program } from '../core/index.js';
import { buildSystem } from './test-helpers.js';
import type { RunOutcome } from './system.js';

const RAM = 0x80_0000_0000;

/** A seeded walk over 8 MiB by `pe` (loads and stores, some compute): long enough for many pieces. */
function walker(pe: number, n: number): () => Program {
  return function* () {
    let x = 12345 + pe;
    for (let i = 0; i < n; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      const a = RAM + (x % (8 << 20)) - (x % 8);
      if (i % 3 === 0) yield prog.store(a, 8, i); else yield prog.load(a, 8);
      if (i % 64 === 0) yield prog.compute(500);
    }
  };
}

/** Runs `programs` on neoverse-n1 with 2 PEs; with `ticks`, counting progress callbacks made as often as possible. */
function runOnce(programs: (() => Program)[], opts: { maxCycles?: number; watchdogCycles?: number }, ticks?: { n: number }): { out: RunOutcome; stats: string } {
  const sys = buildSystem('neoverse-n1', [`core.count=${programs.length}`]);
  programs.forEach((p, i) => sys.attach(i, new ProgramOpSource(p(), `p${i}`)));
  const out = sys.run(ticks === undefined ? opts : { ...opts, progressMs: 0, onProgress: () => { ticks.n++; } });
  return { out, stats: JSON.stringify(sys.stats.toTree()) };
}

describe('System.run with a progress callback', () => {
  it('gives the same outcome, events and stats as without one', () => {
    const programs = [walker(0, 20_000), walker(1, 20_000)];
    const plain = runOnce(programs, {});
    const ticks = { n: 0 };
    const withBar = runOnce(programs, {}, ticks);
    expect(plain.out.endReason).toBe('done');
    expect(ticks.n).toBeGreaterThan(1);                  // it was cut into pieces
    expect(withBar.out).toEqual(plain.out);
    expect(withBar.stats).toBe(plain.stats);
  }, 60_000);

  it('ends at the same cycle on --max-cycles and on the watchdog', () => {
    const programs = [walker(0, 20_000)];
    const cap = runOnce(programs, { maxCycles: 300_000 });
    expect(cap.out.endReason).toBe('max-cycles');
    expect(runOnce(programs, { maxCycles: 300_000 }, { n: 0 })).toEqual(cap);
    const FLAG = RAM + 0x20000;
    const livelock = [function* (): Program { yield* prog.spinUntil(FLAG, 4, (x) => x.value === 1); }, function* (): Program { yield prog.compute(100_000); yield prog.store(FLAG + 64, 4, 1); }];
    const wd = runOnce(livelock, { watchdogCycles: 200_000 });
    expect(wd.out.endReason).toBe('watchdog');
    expect(runOnce(livelock, { watchdogCycles: 200_000 }, { n: 0 })).toEqual(wd);
  }, 60_000);
});
