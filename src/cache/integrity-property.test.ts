// Caches carry data under every policy combination: random configurations (inclusion of the L2
// and L3, L3 kind, replacement, MESI or MOESI, prefetch, write-back allocation and touches,
// cluster size, tight MSHRs and write-back buffers) and random programs of stores, loads, DC ZVA,
// clean and clean+invalidate by VA, DC CVAU, DC CISW, LDADD, LDXR/STXR loops and instruction
// fetches on Write-Back memory, and Normal-NC and Device loads and stores to lines no cacheable
// access touches (a system-cache L3 serves them). Each PE stores only to its own words (so every load has one right
// answer: the last value its PE stored there), all PEs add to shared counters (coherence moves
// those lines between clusters), and lines of different PEs share sets at every level (evictions
// and snoops interleave). At the end every PE cleans and invalidates its lines to the PoC by VA:
// the PoC must then hold every last value (memory, or a system-cache L3, which is at the PoC),
// whichever cache held it dirty and whatever kind of L3 it had to pass.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProgramOpSource, prog, type OpResult } from '../core/index.js';
import { DEVICE_nGnRnE, NORMAL_NC_OSH, NORMAL_WB_RWA_ISH } from '../mem/index.js';
import { buildSystem } from '../platform/test-helpers.js';
import type { System } from '../platform/system.js';

const LINE = 64;
const WB = { attrs: NORMAL_WB_RWA_ISH };
/** Non-cacheable and Device accesses go to lines of their own (no cacheable alias), in the same sets. */
const NC = { attrs: NORMAL_NC_OSH };
const DEV = { attrs: DEVICE_nGnRnE };
/** Lines per PE, and the stride that puts line i of every PE in the same set of each level (the L3's set span). */
const LINES = 24;
const STRIDE = 256 * 1024;
const COUNTERS = 4;

const le32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true);

const config = fc.record({
  /** The preset underneath (latencies, interconnect, DRAM); the levels are set below. */
  base: fc.constantFrom('xgene1', 'neoverse-n1', 'grace'),
  l2Inclusion: fc.constantFrom('inclusive', 'non-inclusive', 'exclusive'),
  l3Kind: fc.constantFrom('none', 'before-poc', 'system-cache'),
  l3Inclusion: fc.constantFrom('inclusive', 'non-inclusive', 'exclusive'),
  replacement: fc.constantFrom('lru', 'plru', 'random'),
  protocol: fc.constantFrom('mesi', 'moesi'),
  prefetch: fc.constantFrom('none', 'next-line'),
  l3WritebackAllocate: fc.boolean(),
  l2WritebackAllocate: fc.boolean(),
  writebackTouches: fc.boolean(),
  clusterSize: fc.constantFrom(1, 2),
  /** Few MSHRs (misses merge and wait) and write-back buffers of 1 entry, or the platform's own. */
  tight: fc.boolean(),
});
type Config = typeof config extends fc.Arbitrary<infer T> ? T : never;

/**
 * One op of a PE: 0-5 store, 6-9 load, 10 DC ZVA, 11 DC CVAC, 12 DC CIVAC, 13 LDADD on a counter,
 * 14 an instruction fetch (its bytes unchecked: no IC maintenance), 15 DC CVAU, 16 DC CISW of a
 * set and way of the L1D or L2 (`line` picks them), 17 an LDXR/STXR increment loop on a counter,
 * 18-19 a Normal-NC store / load and 20-21 a Device-nGnRnE store / load, to the PE's uncached lines,
 * 22 DC IVAC then DSB: dirty data may be discarded, so the line then holds what the PoC held,
 * 23 DC CVAP (to a point of persistence in memory past the system cache; DC CVAC on X-Gene, which
 * has no FEAT_DPB).
 */
const op = fc.record({ kind: fc.integer({ min: 0, max: 23 }), line: fc.integer({ min: 0, max: LINES - 1 }), word: fc.integer({ min: 0, max: 15 }), value: fc.integer({ min: 1, max: 0x7fff_ffff }) });

/** A system of 4 PEs on preset `c.base`, with small levels and the configuration `c`. */
function system(c: Config): System {
  return buildSystem(c.base, [
    'core.count=4', 'core.featLSE=true', `cache.l2.clusterSize=${c.clusterSize}`, 'memory.regions.ram.pointOfPersistence=memory',
    // Small levels (the L3 set span is 256 KiB: 1 MiB / 4 ways) so that a few hundred ops evict at every level.
    'cache.l1d.sizeBytes=4KiB', 'cache.l1d.ways=2', 'cache.l2.sizeBytes=32KiB', 'cache.l2.ways=4',
    'cache.l3.sizeBytes=1MiB', 'cache.l3.ways=4', `cache.l3.kind=${c.l3Kind}`,
    `cache.l2.inclusion=${c.l2Inclusion}`, `cache.l3.inclusion=${c.l3Inclusion}`, `cache.l3.writebackAllocate=${c.l3WritebackAllocate}`,
    `cache.l1d.replacement=${c.replacement}`, `cache.l2.replacement=${c.replacement}`, `cache.l3.replacement=${c.replacement}`,
    `cache.protocol=${c.protocol}`, `cache.prefetch=${c.prefetch}`,
    `cache.l2.writebackAllocate=${c.l2WritebackAllocate}`, `cache.l2.writebackTouches=${c.writebackTouches}`, `cache.l3.writebackTouches=${c.writebackTouches}`,
    ...(c.tight ? ['cache.l1d.mshrs=1', 'cache.l2.mshrs=2', 'cache.l2.writebackBuffer=1', 'cache.l3.writebackBuffer=1'] : []),
  ]);
}

describe('cache data integrity under random configurations (property)', () => {
  it('every load sees its PE\'s last store, the counters add up, and after DC CIVAC the PoC holds every last value', () => {
    fc.assert(fc.property(config, fc.array(fc.array(op, { minLength: 100, maxLength: 400 }), { minLength: 1, maxLength: 4 }), (c, programs) => {
      const sys = system(c);
      const geom = { l1: { ways: 2, sets: 32 }, l2: { ways: 4, sets: 128 } };
      const ram = sys.map.regions.find((r) => r.kind === 'dram')!.base;
      const zva = sys.cfg.cache.zvaBytes;
      // PE p's line i at ram + i * STRIDE + (p + 1) * LINE (the same set for every p); counters in line 0.
      const lineAddr = (p: number, i: number): number => ram + i * STRIDE + (p + 1) * LINE;
      const uncachedAddr = (p: number, i: number): number => ram + i * STRIDE + (p + 9) * LINE;
      const counter = (k: number): number => ram + k * 8;
      const expected = programs.map(() => new Map<number, number>());      // word address -> last value
      const wrong: string[] = [];
      const word4 = new Uint8Array(4);
      programs.forEach((ops, p) => {
        const mine = expected[p]!;
        sys.attach(p, new ProgramOpSource(function* () {
          for (const o of ops) {
            const a = lineAddr(p, o.line) + o.word * 4;
            if (o.kind <= 5) { yield prog.store(a, 4, o.value, WB); mine.set(a, o.value); }
            else if (o.kind <= 9) {
              const r = (yield prog.load(a, 4, WB)) as OpResult;
              const want = mine.get(a) ?? 0;
              if (r.value !== want) wrong.push(`pe${p} load 0x${a.toString(16)}: ${r.value} (expected ${want})`);
            } else if (o.kind === 10) {
              // DC ZVA zeroes the block (a line here: zvaBytes <= the line) holding the word.
              const block = Math.floor(a / zva) * zva;
              yield prog.dc('zva', block, WB);
              for (let w = block; w < block + zva; w += 4) mine.set(w, 0);
            } else if (o.kind === 11) yield prog.dc('cvac', a, WB);
            else if (o.kind === 12) yield prog.dc('civac', a, WB);
            else if (o.kind === 13) yield prog.atomic('add', counter(o.line % COUNTERS), 4, o.value, WB);
            else if (o.kind === 14) yield prog.fetch(a, 4, WB);
            else if (o.kind === 15) yield prog.dc('cvau', a, WB);
            else if (o.kind === 16) {
              const g = o.word % 2 === 0 ? geom.l1 : geom.l2;
              yield prog.dcSetWay('cisw', prog.setWayOperand(g === geom.l1 ? 1 : 2, (o.value >>> 3) % g.sets, o.value % g.ways, { ways: g.ways, lineBytes: LINE }));
            } else if (o.kind === 17) {
              const c = counter(o.line % COUNTERS);
              for (;;) {
                const old = (yield prog.ldxr(c, 4, WB)) as OpResult;
                const r = (yield prog.stxr(c, 4, ((old.value as number) + o.value) >>> 0, WB)) as OpResult;
                if (r.value === 0) break;
              }
            } else if (o.kind === 23) yield prog.dc(sys.cfg.core.featDPB === false ? 'cvac' : 'cvap', a, WB);
            else if (o.kind === 22) {
              const l = lineAddr(p, o.line);
              yield prog.dc('ivac', l, WB);
              yield prog.dsb();
              // Every copy is gone (Arm ARM: invalidate without clean), so what the PoC holds is the line now.
              for (let w = l; w < l + LINE; w += 4) { sys.memoryAtPoC.read(w, word4, 0, 4); mine.set(w, le32(word4)); }
            } else {
              const u = uncachedAddr(p, o.line) + o.word * 4, attrs = o.kind <= 19 ? NC : DEV;
              if (o.kind % 2 === 0) { yield prog.store(u, 4, o.value, attrs); mine.set(u, o.value); }
              else {
                const r = (yield prog.load(u, 4, attrs)) as OpResult;
                const want = mine.get(u) ?? 0;
                if (r.value !== want) wrong.push(`pe${p} uncached load 0x${u.toString(16)}: ${r.value} (expected ${want})`);
              }
            }
          }
          yield prog.dsb();
          for (let i = 0; i < LINES; i++) yield prog.dc('civac', lineAddr(p, i), WB);
          yield prog.dsb();
        }(), `p${p}`));
      });
      const out = sys.run({ watchdogCycles: 5_000_000 });
      expect(out.endReason).toBe('done');
      expect(wrong, wrong.join('; ')).toEqual([]);
      const word = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true);
      // Each counter: the 32-bit sum of every PE's LDADD operands to it.
      const counters = new Array<number>(COUNTERS).fill(0);
      for (const ops of programs) for (const o of ops) if (o.kind === 13 || o.kind === 17) counters[o.line % COUNTERS] = (counters[o.line % COUNTERS]! + o.value) >>> 0;
      expect(counters.map((_, k) => word(sys.caches.readCoherent(counter(k), 4)))).toEqual(counters);
      const stale: string[] = [];
      const atPoC = new Uint8Array(4);
      programs.forEach((_, p) => {
        for (const [a, v] of expected[p]!) {
          sys.memoryAtPoC.read(a, atPoC, 0, 4);
          if (word(atPoC) !== v) stale.push(`pe${p} 0x${a.toString(16)}: ${word(atPoC)} at the PoC, last stored ${v} (held: ${sys.caches.whereIs(a).join(', ')})`);
        }
      });
      expect(stale, stale.join('; ')).toEqual([]);
    }), { numRuns: 150, seed: 11 });
  });

  it('data handed from PE to PE behind a turn word (DMB on both sides) arrives whole, across clusters', () => {
    const slot = fc.record({ line: fc.integer({ min: 0, max: LINES - 1 }), word: fc.integer({ min: 0, max: 15 }) });
    fc.assert(fc.property(config, fc.integer({ min: 2, max: 4 }), fc.integer({ min: 1, max: 3 }), fc.array(slot, { minLength: 4, maxLength: 64 }), (c, pes, rounds, slots) => {
      const sys = system(c);
      const ram = sys.map.regions.find((r) => r.kind === 'dram')!.base;
      // Every PE writes the same words (in the sets the first property crowds); the turn word has its own line.
      const addr = (o: { line: number; word: number }): number => ram + o.line * STRIDE + 5 * LINE + o.word * 4;
      const turn = ram + 2 * LINE;
      const value = (step: number, i: number): number => (((step + 1) * 2654435761 + i * 40503) | 1) >>> 0;
      /** What the words hold after `step` (all zero before step 0). */
      const after = (step: number): Map<number, number> => {
        const m = new Map<number, number>();
        slots.forEach((o, i) => m.set(addr(o), step < 0 ? 0 : value(step, i)));
        return m;
      };
      const wrong: string[] = [];
      for (let p = 0; p < pes; p++) {
        sys.attach(p, new ProgramOpSource(function* () {
          for (let step = p; step < rounds * pes; step += pes) {
            yield* prog.spinUntil(turn, 4, (r) => r.value === step, WB);
            yield prog.dmb();
            for (const [a, v] of after(step - 1)) {
              const r = (yield prog.load(a, 4, WB)) as OpResult;
              if (r.value !== v) wrong.push(`step ${step} pe${p} 0x${a.toString(16)}: ${r.value} (expected ${v})`);
            }
            for (let i = 0; i < slots.length; i++) yield prog.store(addr(slots[i]!), 4, value(step, i), WB);
            yield prog.dmb();
            yield prog.store(turn, 4, step + 1, WB);
          }
        }(), `p${p}`));
      }
      const out = sys.run({ watchdogCycles: 5_000_000 });
      expect(out.endReason).toBe('done');
      expect(wrong, wrong.join('; ')).toEqual([]);
    }), { numRuns: 100, seed: 12 });
  });
});
