// Write-back buffers (cache.l2.writebackBuffer, cache.l3.writebackBuffer): a dirty victim on its
// way to memory holds an entry from its eviction to memory's acknowledgement, and while a level's
// buffer is full the PEs it serves start no access that could miss. Observed through the timeline,
// whose write-back spans run from the eviction to the acknowledgement.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProgramOpSource, prog, type OpResult } from '../core/index.js';
import { NORMAL_WB_RWA_ISH } from '../mem/index.js';
import { buildSystem } from '../platform/test-helpers.js';
import type { System } from '../platform/system.js';
import { Timeline } from '../sim/timeline.js';

const LINE = 64;
/** Small caches so that a short store stream evicts dirty lines all the time. */
const SMALL = ['core.count=1', 'cache.l1d.sizeBytes=16384', 'cache.l2.sizeBytes=65536'];
const NO_L3 = [...SMALL, 'cache.l3.kind=none'];
/** A 128 KiB L3 under the 64 KiB L2: the L2's victims go into it, its own victims to memory. */
const SMALL_L3 = [...SMALL, 'cache.l3.sizeBytes=131072'];

/** A system from `preset` with `sets`, recording a timeline, and its DRAM's base. */
function traced(preset: string, sets: string[]): { sys: System; tl: Timeline; ram: number } {
  const sys = buildSystem(preset, sets);
  const tl = new Timeline();
  sys.setTimeline(tl);
  return { sys, tl, ram: sys.map.regions.find((r) => r.kind === 'dram')!.base };
}

interface Run { sys: System; cycles: number; maxInFlight: Map<string, number>; fullCycles: Map<string, number>; memory: Uint8Array; wrong: number }

/**
 * Stores an 8-byte value into each of `lines` consecutive lines, twice over (the second pass
 * evicts what the first left dirty), from each of `pes` PEs (each its own lines), and returns the
 * most write-backs to memory in flight at once per level, the memory the run left, and how many
 * lines a coherent read finds without their second store.
 */
function storeStream(sets: string[], lines: number, preset = 'neoverse-n1', pes = [0]): Run {
  const { sys, tl, ram } = traced(preset, sets);
  pes.forEach((pe, k) => sys.attach(pe, new ProgramOpSource(function* () {
    const base = ram + k * lines * LINE;
    for (let pass = 0; pass < 2; pass++) {
      for (let i = 0; i < lines; i++) yield prog.store(base + i * LINE, 8, i * 2 + pass + 1, { attrs: NORMAL_WB_RWA_ISH });
    }
  }(), `stream${pe}`)));
  const out = sys.run({ watchdogCycles: 1_000_000 });
  expect(out.endReason).toBe('done');
  let wrong = 0;
  for (let k = 0; k < pes.length; k++) {
    for (let i = 0; i < lines; i++) {
      const v = sys.caches.readCoherent(ram + (k * lines + i) * LINE, 4);
      if (new DataView(v.buffer).getUint32(0, true) !== i * 2 + 2) wrong++;
    }
  }
  const { maxInFlight, fullCycles } = writebackSpans(tl);
  return { sys, cycles: out.cycles, maxInFlight, fullCycles, memory: sys.caches.readMemory(ram, pes.length * lines * LINE), wrong };
}

/**
 * Per cache (timeline process): the most write-back-to-memory spans open at one time, and the
 * cycles its "write-back buffer full" spans cover.
 */
function writebackSpans(tl: Timeline): { maxInFlight: Map<string, number>; fullCycles: Map<string, number> } {
  interface Ev { name: string; ph: string; pid: number; ts: number; dur?: number; args?: Record<string, unknown> }
  const events = (JSON.parse(tl.toJSON()) as { traceEvents: Ev[] }).traceEvents;
  const procs = new Map<number, string>();
  for (const e of events) if (e.name === 'process_name') procs.set(e.pid, String(e.args!['name']));
  const edges = new Map<string, [number, number][]>();
  const fullCycles = new Map<string, number>();
  for (const e of events) {
    if (e.ph !== 'X') continue;
    const p = procs.get(e.pid)!;
    // ts and dur are in microseconds of 1 ns cycles (TIMELINE_TIME_UNIT).
    if (e.name === 'write-back buffer full') fullCycles.set(p, (fullCycles.get(p) ?? 0) + Math.round(e.dur! * 1000));
    if (e.name !== 'write-back' || e.args?.['to'] !== 'memory') continue;
    const list = edges.get(p) ?? [];
    list.push([e.ts, 1], [e.ts + e.dur!, -1]);
    edges.set(p, list);
  }
  const maxInFlight = new Map<string, number>();
  for (const [p, list] of edges) {
    // An entry freed at the cycle another is taken counts once: ends before starts at equal times.
    list.sort((a, b) => a[0] - b[0] || a[1] - b[1]);
    let open = 0, top = 0;
    for (const [, d] of list) { open += d; if (open > top) top = open; }
    maxInFlight.set(p, top);
  }
  return { maxInFlight, fullCycles };
}

const stat = (sys: System, path: string): number => {
  const v = sys.stats.snapshot().get(path);
  if (v === undefined) throw new Error(`no stat ${path}`);
  return v;
};

describe('write-back buffers', () => {
  // The presets size every buffer; the largest size allowed is more than this stream ever fills.
  const unbounded = storeStream([...NO_L3, 'cache.l2.writebackBuffer=4096'], 2048);

  it('a buffer that never fills: many victim writes are in flight at once and nothing waits for them', () => {
    expect(unbounded.wrong).toBe(0);
    expect(unbounded.maxInFlight.get('system.cpu0.l2')).toBeGreaterThan(4);
    expect(stat(unbounded.sys, 'system.cpu0.l2.writebackBufferFullCycles')).toBe(0);
  });

  it.each([1, 2, 4])('an L2 buffer of size %i: never more victim writes in flight, the PE waits, memory ends the same', (n) => {
    const r = storeStream([...NO_L3, `cache.l2.writebackBuffer=${n}`], 2048);
    // Without an L3 a miss evicts one L2 line at most, so the bound is exact, and it is reached.
    expect(r.maxInFlight.get('system.cpu0.l2')).toBe(n);
    expect(stat(r.sys, 'system.cpu0.l2.writebacks')).toBe(stat(unbounded.sys, 'system.cpu0.l2.writebacks'));
    expect(stat(r.sys, 'system.cpu0.l2.writebackBufferFullCycles')).toBeGreaterThan(0);
    expect(r.fullCycles.get('system.cpu0.l2')).toBe(stat(r.sys, 'system.cpu0.l2.writebackBufferFullCycles'));   // the timeline shows each full period
    expect(stat(r.sys, 'system.cpu0.stallBackpressureCycles')).toBeGreaterThan(stat(unbounded.sys, 'system.cpu0.stallBackpressureCycles'));
    expect(r.cycles).toBeGreaterThan(unbounded.cycles);
    expect(r.wrong).toBe(0);
    expect(Buffer.from(r.memory).equals(Buffer.from(unbounded.memory))).toBe(true);   // one PE: the same victims, in the same order
  });

  it('a smaller buffer never makes the stream faster', () => {
    const cycles = [1, 2, 4, 16].map((n) => storeStream([...NO_L3, `cache.l2.writebackBuffer=${n}`], 1024).cycles);
    for (let i = 1; i < cycles.length; i++) expect(cycles[i]).toBeLessThanOrEqual(cycles[i - 1]!);
  });

  it("the L3's buffer holds its victims and stalls the PEs; the L2's, whose victims the L3 takes, holds nothing", () => {
    const free = storeStream([...SMALL_L3, 'cache.l3.writebackBuffer=4096'], 4096);
    const r = storeStream([...SMALL_L3, 'cache.l3.writebackBuffer=2', 'cache.l2.writebackBuffer=1'], 4096);
    expect(free.maxInFlight.get('system.l3')).toBeGreaterThan(3);
    // One miss may evict an L3 line for its fill and another for its L2 victim: one past the size.
    expect(r.maxInFlight.get('system.l3')).toBeLessThanOrEqual(3);
    expect(r.maxInFlight.get('system.l3')).toBeGreaterThanOrEqual(2);
    expect(r.maxInFlight.get('system.cpu0.l2')).toBeUndefined();
    expect(stat(r.sys, 'system.l3.writebackBufferFullCycles')).toBeGreaterThan(0);
    expect(stat(r.sys, 'system.cpu0.l2.writebackBufferFullCycles')).toBe(0);
    expect(r.cycles).toBeGreaterThan(free.cycles);
    expect(r.wrong).toBe(0);
    expect(Buffer.from(r.memory).equals(Buffer.from(free.memory))).toBe(true);
  });

  it("a full L3 buffer stalls every cluster, and its freeing wakes them all (X-Gene, PEs in two clusters)", () => {
    const sets = [...SMALL, 'core.count=4', 'cache.l3.sizeBytes=131072', 'cache.l2.writebackBuffer=4096'];
    const free = storeStream([...sets, 'cache.l3.writebackBuffer=4096'], 2048, 'xgene1', [0, 2]);
    const r = storeStream([...sets, 'cache.l3.writebackBuffer=1'], 2048, 'xgene1', [0, 2]);
    expect(r.maxInFlight.get('system.l3')).toBeLessThanOrEqual(2);
    for (const pe of [0, 2]) expect(stat(r.sys, `system.cpu${pe}.stallBackpressureCycles`)).toBeGreaterThan(stat(free.sys, `system.cpu${pe}.stallBackpressureCycles`));
    // The two streams interleave differently, so other lines are left dirty: compare what a reader sees.
    expect(free.wrong).toBe(0);
    expect(r.wrong).toBe(0);
  });

  it('writebackBuffer must be a positive integer', () => {
    expect(() => buildSystem('neoverse-n1', ['cache.l2.writebackBuffer=0'])).toThrow(/cache\.l2\.writebackBuffer/);
  });
});

describe('write-back buffers: random programs', () => {
  /** One PE's op: a store of `value` or a load, to line `line` of its own 1 MiB (or a word in it). */
  const op = fc.record({ store: fc.boolean(), line: fc.integer({ min: 0, max: 16383 }), word: fc.integer({ min: 0, max: 7 }), value: fc.integer({ min: 1, max: 0x7fff_ffff }) });

  /** Runs the PEs' programs (each on its own lines); returns what every load saw, the coherent memory, the cycles and the write-backs in flight. */
  function runAll(sets: string[], programs: { store: boolean; line: number; word: number; value: number }[][]) {
    // L2s of 512 lines, an L3 of 1024: a few thousand lines of traffic evict dirty lines from both.
    const { sys, tl, ram } = traced('xgene1', ['core.count=4', 'cache.l1d.sizeBytes=16384', 'cache.l2.sizeBytes=32768', 'cache.l3.sizeBytes=65536', ...sets]);
    const seen: number[][] = programs.map(() => []);
    const addr = (p: number, o: { line: number; word: number }): number => ram + p * 0x10_0000 + o.line * LINE + o.word * 8;
    // Programs 0 and 1 run in different clusters (PEs 0 and 2), so two programs already need the L3's wake-up of both.
    programs.forEach((ops, p) => sys.attach([0, 2, 1, 3][p]!, new ProgramOpSource(function* () {
      for (const o of ops) {
        if (o.store) yield prog.store(addr(p, o), 4, o.value, { attrs: NORMAL_WB_RWA_ISH });
        else { const r = (yield prog.load(addr(p, o), 4, { attrs: NORMAL_WB_RWA_ISH })) as OpResult; seen[p]!.push(r.value as number); }
      }
    }(), `p${p}`)));
    const out = sys.run({ watchdogCycles: 2_000_000 });
    const memory = programs.map((ops, p) => ops.map((o) => new DataView(sys.caches.readCoherent(addr(p, o), 4).buffer).getUint32(0, true)));
    return { out, seen, memory, maxInFlight: writebackSpans(tl).maxInFlight };
  }

  it('tiny buffers on X-Gene (two clusters, an L3): the same loads and memory as unbounded ones, no deadlock, the L3 bound held', () => {
    fc.assert(fc.property(
      fc.array(fc.array(op, { minLength: 200, maxLength: 1200 }), { minLength: 1, maxLength: 4 }),
      fc.integer({ min: 1, max: 3 }), fc.integer({ min: 1, max: 3 }),
      (programs, l2, l3) => {
        const free = runAll(['cache.l2.writebackBuffer=4096', 'cache.l3.writebackBuffer=4096'], programs);
        const tight = runAll([`cache.l2.writebackBuffer=${l2}`, `cache.l3.writebackBuffer=${l3}`], programs);
        expect(free.out.endReason).toBe('done');
        expect(tight.out.endReason).toBe('done');
        expect(tight.seen).toEqual(free.seen);
        expect(tight.memory).toEqual(free.memory);
        // The miss that took the last free entry may add a second L3 victim (its fill's and its L2 victim's); then every PE waits.
        expect(tight.maxInFlight.get('system.l3') ?? 0).toBeLessThanOrEqual(l3 + 1);
      },
    ), { numRuns: 20, seed: 5 });
  });
});
