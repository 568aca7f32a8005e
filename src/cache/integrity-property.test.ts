// Caches carry data under every policy combination: random configurations (inclusion of the L2
// and L3, L3 kind, replacement, MESI or MOESI, prefetch, write-back allocation, cluster size) and
// random programs of stores, loads, DC ZVA, clean and clean+invalidate by VA, LDADD and
// instruction fetches on Write-Back memory. Each PE stores only to its own words (so every load has one right answer:
// the last value its PE stored there), all PEs add to shared counters (coherence moves those
// lines between clusters), and lines of different PEs share sets at every level (evictions and
// snoops interleave). At the end every PE cleans and invalidates its lines to the PoC by VA: the
// PoC must then hold every last value (memory, or a system-cache L3, which is at the PoC),
// whichever cache held it dirty and whatever kind of L3 it had to pass.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ProgramOpSource, prog, type OpResult } from '../core/index.js';
import { NORMAL_WB_RWA_ISH } from '../mem/index.js';
import { buildSystem } from '../platform/test-helpers.js';

const LINE = 64;
const WB = { attrs: NORMAL_WB_RWA_ISH };
/** Lines per PE, and the stride that puts line i of every PE in the same set of each level (the L3's set span). */
const LINES = 24;
const STRIDE = 256 * 1024;
const COUNTERS = 4;

const config = fc.record({
  l2Inclusion: fc.constantFrom('inclusive', 'non-inclusive', 'exclusive'),
  l3Kind: fc.constantFrom('none', 'before-poc', 'system-cache'),
  l3Inclusion: fc.constantFrom('inclusive', 'non-inclusive', 'exclusive'),
  replacement: fc.constantFrom('lru', 'plru', 'random'),
  protocol: fc.constantFrom('mesi', 'moesi'),
  prefetch: fc.constantFrom('none', 'next-line'),
  l3WritebackAllocate: fc.boolean(),
  clusterSize: fc.constantFrom(1, 2),
});

/** One op of a PE: 0-5 store, 6-9 load, 10 DC ZVA, 11 DC CVAC, 12 DC CIVAC, 13 LDADD on a counter, 14 an instruction fetch (its bytes unchecked: no IC maintenance). */
const op = fc.record({ kind: fc.integer({ min: 0, max: 14 }), line: fc.integer({ min: 0, max: LINES - 1 }), word: fc.integer({ min: 0, max: 15 }), value: fc.integer({ min: 1, max: 0x7fff_ffff }) });

describe('cache data integrity under random configurations (property)', () => {
  it('every load sees its PE\'s last store, the counters add up, and after DC CIVAC the PoC holds every last value', () => {
    fc.assert(fc.property(config, fc.array(fc.array(op, { minLength: 50, maxLength: 250 }), { minLength: 1, maxLength: 4 }), (c, programs) => {
      const sys = buildSystem('xgene1', [
        'core.count=4', 'core.featLSE=true', `cache.l2.clusterSize=${c.clusterSize}`,
        // Small levels (the L3 set span is 256 KiB: 1 MiB / 4 ways) so that a few hundred ops evict at every level.
        'cache.l1d.sizeBytes=4KiB', 'cache.l1d.ways=2', 'cache.l2.sizeBytes=32KiB', 'cache.l2.ways=4',
        'cache.l3.sizeBytes=1MiB', 'cache.l3.ways=4', `cache.l3.kind=${c.l3Kind}`,
        `cache.l2.inclusion=${c.l2Inclusion}`, `cache.l3.inclusion=${c.l3Inclusion}`, `cache.l3.writebackAllocate=${c.l3WritebackAllocate}`,
        `cache.l1d.replacement=${c.replacement}`, `cache.l2.replacement=${c.replacement}`, `cache.l3.replacement=${c.replacement}`,
        `cache.protocol=${c.protocol}`, `cache.prefetch=${c.prefetch}`,
      ]);
      const ram = sys.map.regions.find((r) => r.kind === 'dram')!.base;
      const zva = sys.cfg.cache.zvaBytes;
      // PE p's line i at ram + i * STRIDE + (p + 1) * LINE (the same set for every p); counters in line 0.
      const lineAddr = (p: number, i: number): number => ram + i * STRIDE + (p + 1) * LINE;
      const counter = (k: number): number => ram + k * 8;
      const expected = programs.map(() => new Map<number, number>());      // word address -> last value
      const wrong: string[] = [];
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
            else yield prog.fetch(a, 4, WB);
          }
          yield prog.dsb();
          for (let i = 0; i < LINES; i++) yield prog.dc('civac', lineAddr(p, i), WB);
          yield prog.dsb();
        }(), `p${p}`));
      });
      const out = sys.run({ watchdogCycles: 5_000_000 });
      expect(out.endReason).toBe('done');
      expect(wrong).toEqual([]);
      const word = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset).getUint32(0, true);
      // Each counter: the 32-bit sum of every PE's LDADD operands to it.
      const counters = new Array<number>(COUNTERS).fill(0);
      for (const ops of programs) for (const o of ops) if (o.kind === 13) counters[o.line % COUNTERS] = (counters[o.line % COUNTERS]! + o.value) >>> 0;
      expect(counters.map((_, k) => word(sys.caches.readCoherent(counter(k), 4)))).toEqual(counters);
      const stale: string[] = [];
      const atPoC = new Uint8Array(4);
      programs.forEach((_, p) => {
        for (const [a, v] of expected[p]!) {
          sys.memoryAtPoC.read(a, atPoC, 0, 4);
          if (word(atPoC) !== v) stale.push(`pe${p} 0x${a.toString(16)}: ${word(atPoC)} at the PoC, last stored ${v} (held: ${sys.caches.whereIs(a).join(', ')})`);
        }
      });
      expect(stale).toEqual([]);
    }), { numRuns: 100, seed: 11 });
  });
});
