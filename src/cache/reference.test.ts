import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { ReqKind } from '../sim/index.js';
import { CachegrindModel, DineroModel, type RefChunk, type RefCursor } from './reference.js';

const R = ReqKind.Read, W = ReqKind.Write, F = ReqKind.Fetch;
const g = (sizeBytes: number, ways: number, lineBytes: number) => ({ sizeBytes, ways, lineBytes });

/** A cursor over hand-written ops, split into chunks of `chunkOps` (to cross chunk boundaries). */
function cursorOf(ops: Array<[number, number, number]>, chunkOps = 3): RefCursor {
  const chunks: RefChunk[] = [];
  for (let i = 0; i < ops.length; i += chunkOps) {
    const part = ops.slice(i, i + chunkOps);
    chunks.push({ length: part.length, op: part.map((o) => o[0]), addr: part.map((o) => o[1]), size: part.map((o) => o[2]) });
  }
  let i = 0;
  return { next: () => (i < chunks.length ? chunks[i++]! : null) };
}

describe('CachegrindModel (cg_sim.c semantics)', () => {
  // D1: 2 sets, direct-mapped; LL: 4 sets, 2 ways; I1: 1 set, 2 ways. Line n = addr / 64.
  const cfg = { I1: g(128, 2, 64), D1: g(128, 1, 64), LL: g(512, 2, 64) };

  it('counts an access straddling two lines once, missing if either line misses', () => {
    const m = new CachegrindModel(cfg);
    m.read(0x103c, 8);                    // lines 64 (set 0) and 65 (set 1): both miss -> ONE miss
    expect(m.totals).toMatchObject({ Dr: 1, D1mr: 1, DLmr: 1 });
    m.read(0x1040, 4);                    // line 65 was installed by the straddling access
    m.read(0x1000, 4);                    // and so was line 64
    expect(m.totals).toMatchObject({ Dr: 3, D1mr: 1 });
    m.read(0x1080, 4);                    // line 66 evicts 64 from D1 set 0 (direct-mapped)
    m.read(0x103c, 8);                    // 64 misses in D1, 65 hits: one D1 miss; LL holds both
    expect(m.totals).toMatchObject({ Dr: 5, D1mr: 3, DLmr: 2 });
  });

  it('looks up both lines in LL on an L1 miss, so the line that hit in L1 becomes MRU in LL too', () => {
    // Lines 64, 128 and 192 share LL set 0 (2 ways); 64 and 66 share D1 set 0; 65 is in D1 set 1.
    const m = new CachegrindModel(cfg);
    m.read(64 * 64, 4);                   // D1 s0 = 64; LL s0 [64, 0]
    m.fetch(64 * 128, 4);                 // through I1: LL s0 [128, 64], D1 untouched
    m.read(64 * 65 - 4, 8);               // 64 hits in D1, 65 misses: one D1 miss, and LL is asked
                                          // about both lines: 64 hits and becomes MRU, LL s0 [64, 128]
    m.fetch(64 * 192, 4);                 // LL s0 evicts its LRU line: 128, not 64 -> [192, 64]
    m.read(64 * 66, 4);                   // evicts 64 from D1 (s0)
    m.read(64 * 64, 4);                   // D1 miss, but an LL hit thanks to the refresh above
    expect(m.totals).toMatchObject({ Dr: 4, D1mr: 4, DLmr: 3, Ir: 2, I1mr: 2, ILmr: 2 });
  });

  it('starts with every tag 0, so line 0 hits in a cold cache (cachesim_initcache)', () => {
    const m = new CachegrindModel(cfg);
    m.read(0x10, 4);
    m.fetch(0x20, 4);
    expect(m.totals).toMatchObject({ Ir: 1, I1mr: 0, Dr: 1, D1mr: 0 });
  });

  it('counts a write like a read for misses (write-allocate), in Dw', () => {
    const m = new CachegrindModel(cfg);
    m.write(0x2000, 8);
    m.read(0x2000, 8);
    expect(m.totals).toMatchObject({ Dr: 1, D1mr: 0, Dw: 1, D1mw: 1, DLmw: 1 });
  });

  it('counts a modify as ONE read (cg_main.c: Ev_Dm goes to log_0Ir_1Dr)', () => {
    const m = new CachegrindModel(cfg);
    m.modify(0x3000, 4);
    expect(m.totals).toMatchObject({ Dr: 1, D1mr: 1, DLmr: 1, Dw: 0 });
  });

  it('counts instruction fetches in Ir, straddling ones once', () => {
    const m = new CachegrindModel(cfg);
    m.fetch(0x3000, 4);                   // line 192: miss, LL miss
    m.fetch(0x303e, 4);                   // lines 192 (hit) and 193 (miss): one miss
    m.fetch(0x3040, 4);                   // 193 hit
    expect(m.totals).toMatchObject({ Ir: 3, I1mr: 2, ILmr: 2 });
    expect(() => m.fetch(0x4000, 130)).toThrow(/more than two/);
  });

  it('clips data sizes above the smallest line size to it (cg_main.c Ist_Dirty)', () => {
    const m = new CachegrindModel(cfg);
    m.read(0x5000, 512);                  // FXSAVE-sized: one access of 64 bytes at 0x5000
    m.read(0x5040, 4);                    // the next line was not touched
    expect(m.totals).toMatchObject({ Dr: 2, D1mr: 2 });
  });

  it('replays chunks, merging a Load directly followed by its Store into a modify', () => {
    const ops: Array<[number, number, number]> = [
      [F, 0x400000, 4], [R, 0x1000, 4], [W, 0x1000, 4],    // an M split by the lackey importer
      [R, 0x1008, 8], [W, 0x1010, 8],                      // not a pair: different address
      [R, 0x1020, 4], [7, 10, 0], [W, 0x1020, 4],          // a non-memory op in between: no merge
      [R, 0x1030, 2], [W, 0x1030, 4],                      // different size: no merge
      [R, 0x1040, 4],                                      // a Load last in the trace
    ];
    const merged = new CachegrindModel(cfg).replay(cursorOf(ops));
    expect(merged).toMatchObject({ Ir: 1, Dr: 5, Dw: 3 });
    const plain = new CachegrindModel(cfg).replay(cursorOf(ops), { mergeModify: false });
    expect(plain).toMatchObject({ Ir: 1, Dr: 5, Dw: 4 });
    expect(plain.D1mr + plain.D1mw).toBe(merged.D1mr + merged.D1mw);
  });

  it('summarises like cachegrind', () => {
    const m = new CachegrindModel(cfg);
    m.fetch(0x3000, 4); m.read(0x2000, 4); m.write(0x6000, 4);
    expect(m.summary()).toMatchObject({ iRefs: 1, dRefs: 2, dReadRefs: 1, dWriteRefs: 1, llRefs: 3, llMisses: 3 });
  });

  it('rejects what cachegrind rejects', () => {
    expect(() => new CachegrindModel({ ...cfg, LL: g(3 * 65536, 4, 64) })).toThrow(/power of two/);
    expect(() => new CachegrindModel({ ...cfg, D1: g(128, 1, 8) })).toThrow(/too small/);
    expect(() => new CachegrindModel({ ...cfg, D1: g(64, 1, 64) })).toThrow(/must exceed lineBytes/);
  });

  it('is a plain LRU cache for accesses within one line, away from line 0 (property)', () => {
    fc.assert(fc.property(
      fc.integer({ min: 0, max: 3 }), fc.integer({ min: 1, max: 4 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 200 })), { maxLength: 300 }),
      (setsLog, ways, refs) => {
        const sets = 2 ** setsLog;
        fc.pre(sets * ways > 1);                               // cachegrind: size must exceed the line size
        const m = new CachegrindModel({ I1: g(1024, 2, 32), D1: g(sets * ways * 32, ways, 32), LL: g(4096, 2, 32) });
        const naive = Array.from({ length: sets }, () => new Map<number, true>());
        let misses = 0;
        for (const [isWrite, line] of refs) {
          const s = naive[line % sets]!;
          if (!s.delete(line)) misses++;
          s.set(line, true);
          if (s.size > ways) s.delete(s.keys().next().value!);
          if (isWrite) m.write(line * 32 + 4, 8); else m.read(line * 32 + 4, 8);
        }
        expect(m.totals.D1mr + m.totals.D1mw).toBe(misses);
      },
    ), { numRuns: 200 });
  });
});

describe('DineroModel (Dinero IV rules)', () => {
  it('gives the hand-computed counts for a small trace', () => {
    // L1I: 1 set x 2 ways; L1D: 2 sets x 2 ways; L2: 4 sets x 2 ways; 64-byte lines everywhere.
    // Line n = addr / 64; L1D set = n mod 2; L2 set = n mod 4. Stacks are written MRU first; d = dirty.
    const m = new DineroModel({ l1i: g(128, 2, 64), l1d: g(256, 2, 64), l2: g(512, 2, 64) });
    const trace: Array<[number, number, number]> = [
      // 1. read line 64: L1D miss -> L2 read 64 (miss, mem read 1). L1D s0 [64]
      [R, 0x1000, 8],
      // 2. write 0x103c..0x1043 crosses 64|65: two references. 64 hits (now dirty); 65 misses,
      //    a partial-line write -> L2 read 65 (miss, mem read 2). L1D s1 [65d]
      [W, 0x103c, 8],
      // 3. read line 66: miss -> L2 read 66 (miss, mem read 3). L1D s0 [66, 64d]
      [R, 0x1080, 4],
      // 4. read line 68: miss, victim 64 is dirty. First L2 read 68 (L2 s0 [64] -> miss, mem
      //    read 4, L2 s0 [68, 64]), then write-back 64 to L2 (hit -> L2 s0 [64d, 68]). L1D s0 [68, 66]
      [R, 0x1100, 4],
      // 5. lackey M on line 66 = a load (hit, L1D s0 [66, 68]) then a store (hit, dirty)
      [R, 0x1084, 4], [W, 0x1084, 4],
      // 6. fetch line 128: L1I miss -> L2 instrn 128 (L2 s0 [64d, 68]: miss, victim 68 is clean;
      //    mem read 5; L2 s0 [128, 64d])
      [F, 0x2000, 4],
      // 7. fetch 0x203e..0x2041 crosses 128|129: 128 hits, 129 misses -> L2 instrn 129 (L2 s1 [65]:
      //    miss, mem read 6, L2 s1 [129, 65])
      [F, 0x203e, 4],
      // 8. read line 72 (whole line): L1D s0 [66d, 68] -> miss, victim 68 clean. L2 read 72:
      //    L2 s0 [128, 64d] -> miss, victim 64 dirty -> mem write 1; mem read 7. L1D s0 [72, 66d]
      [R, 0x1200, 64],
      // 9. write line 69 (whole line): L1D s1 [65d] -> miss, no fetch (the write fills the line),
      //    an empty way takes it: L1D s1 [69d, 65d]
      [W, 0x1140, 64],
      // 10. write line 70 (partial): L1D s0 [72, 66d] -> miss, victim 66 dirty. First L2 read 70
      //    (L2 s2 [66] -> miss, mem read 8, L2 s2 [70, 66]); then write-back 66 (hit -> [66d, 70]).
      [W, 0x1180, 8],
    ];
    const s = m.replay(cursorOf(trace));
    expect(s.l1i).toEqual({ instrnRefs: 3, readRefs: 0, writeRefs: 0, instrnMisses: 2, readMisses: 0, writeMisses: 0, writebacks: 0 });
    // reads: ops 1, 3, 4, 5, 8 (misses 1, 3, 4, 8); writes: op 2 twice, 5, 9, 10 (misses 2b, 9, 10)
    expect(s.l1d).toEqual({ instrnRefs: 0, readRefs: 5, writeRefs: 5, instrnMisses: 0, readMisses: 4, writeMisses: 3, writebacks: 2 });
    // reads 64 65 66 68 72 70 (all miss); instrn 128 129 (miss); writes = write-backs 64, 66 (hit)
    expect(s.l2).toEqual({ instrnRefs: 2, readRefs: 6, writeRefs: 2, instrnMisses: 2, readMisses: 6, writeMisses: 0, writebacks: 1 });
    expect([s.memoryReads, s.memoryWrites]).toEqual([8, 1]);
  });

  it('splits a reference at every line it touches', () => {
    const m = new DineroModel({ l1i: g(128, 2, 16), l1d: g(256, 2, 16), l2: g(1024, 4, 32) });
    m.read(0x100c, 40);                   // 16-byte lines 0x100, 0x101, 0x102, 0x103 (4 pieces)
    const s = m.stats();
    expect([s.l1d.readRefs, s.l1d.readMisses]).toEqual([4, 4]);
    // Each L1 line fetch is 16 bytes inside a 32-byte L2 line: 0x80 misses, 0x80 hits, 0x81 misses, 0x81 hits.
    expect([s.l2.readRefs, s.l2.readMisses]).toEqual([4, 2]);
  });

  it('fetches the L2 line on a partial write-back into a larger L2 line', () => {
    const m = new DineroModel({ l1i: g(128, 2, 32), l1d: g(64, 1, 32), l2: g(1024, 2, 64) });
    m.write(0x0, 4);                      // L1D line 0 miss -> L2 read (miss, mem read)
    m.write(0x40, 4);                     // evicts dirty line 0: write-back of 32 bytes into a 64-byte L2 line
    const s = m.stats();
    expect(s.l1d.writebacks).toBe(1);
    expect([s.l2.writeRefs, s.l2.writeMisses]).toEqual([1, 0]);       // line 0 is still in L2
    expect([s.memoryReads, s.memoryWrites]).toEqual([2, 0]);
  });

  it("gives each L1 the same misses as a naive Map-based LRU (property)", () => {
    fc.assert(fc.property(
      fc.record({ setsLog: fc.integer({ min: 0, max: 3 }), ways: fc.integer({ min: 1, max: 4 }), lineLog: fc.integer({ min: 4, max: 6 }) }),
      fc.array(fc.tuple(fc.constantFrom(R, W, F), fc.integer({ min: 0, max: 4095 }), fc.integer({ min: 1, max: 64 })), { maxLength: 300 }),
      ({ setsLog, ways, lineLog }, refs) => {
        const sets = 2 ** setsLog, line = 2 ** lineLog;
        const geom = g(sets * ways * line, ways, line);
        const m = new DineroModel({ l1i: geom, l1d: geom, l2: g(8192, 4, 64) });
        const caches = { d: Array.from({ length: sets }, () => new Map<number, true>()), i: Array.from({ length: sets }, () => new Map<number, true>()) };
        const want = { dRefs: 0, dMisses: 0, iRefs: 0, iMisses: 0 };
        for (const [kind, addr, size] of refs) {
          m.ref(kind, addr, size);
          const isFetch = kind === F;
          for (let n = Math.floor(addr / line); n <= Math.floor((addr + size - 1) / line); n++) {
            const set = (isFetch ? caches.i : caches.d)[n % sets]!;
            const hit = set.delete(n);
            set.set(n, true);
            if (set.size > ways) set.delete(set.keys().next().value!);
            if (isFetch) { want.iRefs++; if (!hit) want.iMisses++; } else { want.dRefs++; if (!hit) want.dMisses++; }
          }
        }
        const s = m.stats();
        expect(s.l1d.readRefs + s.l1d.writeRefs).toBe(want.dRefs);
        expect(s.l1d.readMisses + s.l1d.writeMisses).toBe(want.dMisses);
        expect(s.l1i.instrnRefs).toBe(want.iRefs);
        expect(s.l1i.instrnMisses).toBe(want.iMisses);
      },
    ), { numRuns: 300 });
  });
});
