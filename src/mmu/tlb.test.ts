import { describe, it, expect } from 'vitest';
import fc from 'fast-check';
import { Rng, StatsRegistry } from '../sim/index.js';
import {
  TLB_GLOBAL, TLB_S1, TLB_S2, Tlb, TlbStats, WalkCache, packTableAttrs, registerTlbStats, tableAttrsAP, tableAttrsPXN,
  tableAttrsUXN, tlbTop, tlbVa, tlbiOperandAsid, tlbiOperandIpa, tlbiOperandTop, tlbiOperandVa,
} from './tlb.js';
import { PERM_ALL, PERM_R0, PERM_R1, WalkResult } from './walk.js';

const KB = 1024, MB = 1024 * KB, GB = 1024 * MB;
const G = TLB_GLOBAL, S1 = TLB_S1, S2 = TLB_S2;

interface Put {
  top?: number; asid?: number; vmid?: number; flags?: number;
  pa: number; ipa?: number; attrs?: number; perms?: number; s2?: number;
}
/** Inserts a translation of `va` (pa/ipa are the outputs of `va` itself). */
function put(t: Tlb, va: number, size: number, p: Put): number {
  return t.insertEntry(va, p.top ?? 0, p.asid ?? 0, p.vmid ?? 0, size, p.pa, p.ipa ?? p.pa, p.attrs ?? 0x44, p.perms ?? PERM_ALL,
    p.flags ?? S1, p.s2 ?? size);
}
const fa = (entries = 64): Tlb => new Tlb({ entries, ways: entries });

describe('Tlb: insert and lookup', () => {
  it.each([
    ['4KB page', 4 * KB], ['16KB page', 16 * KB], ['64KB page', 64 * KB],
    ['2MB block', 2 * MB], ['32MB block (16KB)', 32 * MB], ['512MB block (64KB)', 512 * MB], ['1GB block', GB],
  ])('%s: hits across the page, misses outside, output offset kept', (_n, size) => {
    for (const t of [fa(), new Tlb({ entries: 64, ways: 4 })]) {
      const base = 7 * size + 0x80_0000_0000, pa = 0x12_0000_0000 + 3 * size;
      const s = put(t, base + 0x123, size, { pa: pa + 0x123 });
      expect(s).toBeGreaterThanOrEqual(0);
      for (const off of [0, 0x123, size - 1]) {
        const e = t.lookup(base + off, 0, 0, 0);
        expect(e).toBe(s);
        expect(t.output(e, base + off)).toBe(pa + off);
      }
      expect(t.vaBase(s)).toBe(base);
      expect(t.paBase(s)).toBe(pa);
      expect(t.pageBytes(s)).toBe(size);
      expect(t.lookup(base - 1, 0, 0, 0)).toBe(-1);
      expect(t.lookup(base + size, 0, 0, 0)).toBe(-1);
      expect(t.stats.hits).toBe(3);
      expect(t.stats.misses).toBe(2);
    }
  });

  it('VAs near 2^52 (TTBR1 with a 52-bit input) are exact', () => {
    const t = fa();
    const va = 2 ** 52 - 4096 + 0x10;
    put(t, va, 4 * KB, { top: 1, pa: 0xf_ffff_f010 });
    expect(t.output(t.lookup(va, 1, 0, 0), va)).toBe(0xf_ffff_f010);
    expect(t.lookup(va - 4096, 1, 0, 0)).toBe(-1);
  });

  it('contiguous spans are one entry: 16 x 4KB = 64KB, 32 x 64KB = 2MB, 128 x 16KB = 2MB', () => {
    const t = fa();
    const a = put(t, 0x40_0000 + 5 * 4096, 64 * KB, { pa: 0x9000_0000 + 5 * 4096 });
    const b = put(t, 0x4000_0000, 2 * MB, { pa: 0x1_0000_0000 });
    expect(t.lookup(0x40_0000, 0, 0, 0)).toBe(a);
    expect(t.lookup(0x40_0000 + 15 * 4096 + 8, 0, 0, 0)).toBe(a);
    expect(t.output(a, 0x40_0000 + 15 * 4096 + 8)).toBe(0x9000_0000 + 15 * 4096 + 8);
    expect(t.lookup(0x40_0000 + 16 * 4096, 0, 0, 0)).toBe(-1);
    expect(t.lookup(0x4000_0000 + 2 * MB - 8, 0, 0, 0)).toBe(b);
    expect(t.countValid()).toBe(2);
  });

  it('mixed sizes: each size present is probed, the size bitmask follows the contents', () => {
    const t = new Tlb({ entries: 32, ways: 4 });
    const p4k = put(t, 0x20_1000, 4 * KB, { pa: 0x5000 });
    const p2m = put(t, 0x40_0000, 2 * MB, { pa: 0x80_0000 });
    const p1g = put(t, 0x8000_0000, GB, { pa: 0xc000_0000 });
    expect(t.sizeMask).toBe((1 << 0) | (1 << 9) | (1 << 18));
    expect(t.lookup(0x20_1fff, 0, 0, 0)).toBe(p4k);
    expect(t.lookup(0x5f_ffff, 0, 0, 0)).toBe(p2m);
    expect(t.lookup(0xbfff_ffff, 0, 0, 0)).toBe(p1g);
    expect(t.invalidateVaAllAsid(0x40_1234, 0, 0, false)).toBe(1);
    expect(t.sizeMask).toBe((1 << 0) | (1 << 18));
  });

  it('overlapping sizes (no break-before-make): the smallest page wins', () => {
    const t = fa();
    put(t, 0x20_0000, 2 * MB, { pa: 0x100_0000 });
    const small = put(t, 0x20_3000, 4 * KB, { pa: 0x7000 });
    expect(t.lookup(0x20_3004, 0, 0, 0)).toBe(small);
    expect(t.output(t.lookup(0x20_4000, 0, 0, 0), 0x20_4000)).toBe(0x100_4000);
  });

  it('splinters a page larger than any held size around the VA; refuses one smaller than all', () => {
    const t = new Tlb({ entries: 16, ways: 16, pageSizes: [4 * KB, 64 * KB, 2 * MB] });
    const va = 0x4000_0000 + 5 * MB + 0x1234;
    const s = put(t, va, GB, { pa: 0x8000_0000 + 5 * MB + 0x1234, flags: S1 | S2, ipa: 0x2_4000_0000 + 5 * MB + 0x1234, s2: GB });
    expect(t.pageBytes(s)).toBe(2 * MB);
    expect(t.vaBase(s)).toBe(0x4000_0000 + 4 * MB);
    expect(t.paBase(s)).toBe(0x8000_0000 + 4 * MB);
    expect(t.ipaBase(s)).toBe(0x2_4000_0000 + 4 * MB);
    expect(t.s2Bytes(s)).toBe(GB);                          // the stage-2 mapping is still 1GB
    expect(t.lookup(0x4000_0000 + 6 * MB, 0, 0, 0)).toBe(-1);
    expect(put(t, 0x1000, 16 * KB, { pa: 0x1000 })).toBeGreaterThanOrEqual(0);   // 16KB -> 4KB
    const only2m = new Tlb({ entries: 4, ways: 4, pageSizes: [2 * MB] });
    expect(put(only2m, 0x1000, 4 * KB, { pa: 0x1000 })).toBe(-1);
    expect(only2m.stats.inserts).toBe(0);
  });

  it('the TTBR half (top) is part of the tag', () => {
    const t = fa();
    const lo = put(t, 0x1000, 4 * KB, { top: 0, pa: 0xa000, flags: S1 | G });
    const hi = put(t, 0x1000, 4 * KB, { top: 1, pa: 0xb000, flags: S1 | G });
    expect(lo).not.toBe(hi);
    expect(t.output(t.lookup(0x1000, 0, 0, 0), 0x1000)).toBe(0xa000);
    expect(t.output(t.lookup(0x1000, 1, 0, 0), 0x1000)).toBe(0xb000);
    expect(t.invalidateVa(0x1000, 1, 0, 0, false)).toBe(1);
    expect(t.lookup(0x1000, 0, 0, 0)).toBe(lo);
  });

  it('ASID and VMID tags; global entries match any ASID of their VMID only', () => {
    const t = fa();
    const a5 = put(t, 0x1000, 4 * KB, { asid: 5, vmid: 1, pa: 0x5000 });
    const a6 = put(t, 0x1000, 4 * KB, { asid: 6, vmid: 1, pa: 0x6000 });
    const g = put(t, 0x2000, 4 * KB, { asid: 9, vmid: 1, pa: 0x9000, flags: S1 | G });
    expect(t.lookup(0x1000, 0, 5, 1)).toBe(a5);
    expect(t.lookup(0x1000, 0, 6, 1)).toBe(a6);
    expect(t.lookup(0x1000, 0, 7, 1)).toBe(-1);
    expect(t.lookup(0x1000, 0, 5, 2)).toBe(-1);
    expect(t.lookup(0x2000, 0, 1234, 1)).toBe(g);
    expect(t.lookup(0x2000, 0, 9, 2)).toBe(-1);
    expect(t.isGlobal(g)).toBe(true);
    expect(t.asid(g)).toBe(0);
    expect(t.asid(a6)).toBe(6);
    expect(t.vmid(a6)).toBe(1);
  });

  it('re-inserting the same page overwrites; a global entry replaces every ASID\'s copy', () => {
    const t = fa();
    const s = put(t, 0x1000, 4 * KB, { asid: 1, pa: 0x1000 });
    expect(put(t, 0x1000, 4 * KB, { asid: 1, pa: 0x7000 })).toBe(s);
    put(t, 0x1000, 4 * KB, { asid: 2, pa: 0x2000 });
    put(t, 0x1000, 4 * KB, { asid: 3, pa: 0x3000 });
    expect(t.countValid()).toBe(3);
    const g = put(t, 0x1000, 4 * KB, { pa: 0xf000, flags: S1 | G });
    expect(t.countValid()).toBe(1);
    expect(t.lookup(0x1000, 0, 2, 0)).toBe(g);
    expect(t.stats.evictions).toBe(0);
  });

  it('insert(va, top, WalkResult) takes every field from the walk', () => {
    const r = new WalkResult();
    r.pa = 0x8765_4321; r.ipa = 0x1_2345_4321; r.attrs = 0x1ff; r.perms = PERM_R1 | PERM_R0;
    r.s1Level = 3; r.s1BlockBytes = 4096; r.s2Level = 2; r.s2BlockBytes = 2 * MB; r.pageBytes = 4096;
    r.global = false; r.asid = 0x1234; r.vmid = 0x55;
    const t = fa();
    const va = 0x7fff_1234_5321;
    const s = t.insert(va, 0, r);
    expect(t.lookup(va, 0, 0x1234, 0x55)).toBe(s);
    expect(t.output(s, va)).toBe(0x8765_4321);
    expect(t.ipaBase(s)).toBe(0x1_2345_4000);
    expect(t.attrs(s)).toBe(0x1ff);
    expect(t.perms(s)).toBe(PERM_R1 | PERM_R0);
    expect(t.flags(s)).toBe(S1 | S2);
    expect(t.s2Bytes(s)).toBe(2 * MB);
    expect(t.hasStage1(s) && t.hasStage2(s)).toBe(true);
    r.pageBytes = 0;                                        // MMU off: nothing to cache
    expect(t.insert(0x1000, 0, r)).toBe(-1);
  });

  it('copyFrom moves an L2 entry into an L1 TLB, splintered if the L1 lacks the size', () => {
    const l2 = new Tlb({ entries: 64, ways: 4 });
    const l1 = new Tlb({ entries: 8, ways: 8, pageSizes: [4 * KB, 64 * KB] });
    const e = put(l2, 0x4020_0000, 2 * MB, { asid: 3, vmid: 2, pa: 0x9020_0000, ipa: 0x1_0020_0000, flags: S1 | S2, s2: GB, perms: 5, attrs: 7 });
    const s = l1.copyFrom(l2, e, 0x4031_2345);
    expect(l1.pageBytes(s)).toBe(64 * KB);
    expect(l1.vaBase(s)).toBe(0x4031_0000);
    expect(l1.output(l1.lookup(0x4031_2345, 0, 3, 2), 0x4031_2345)).toBe(0x9031_2345);
    expect(l1.ipaBase(s)).toBe(0x1_0031_0000);
    expect([l1.perms(s), l1.attrs(s), l1.flags(s), l1.s2Bytes(s)]).toEqual([5, 7, S1 | S2, GB]);
  });

  it('rejects bad configuration with one line naming the field', () => {
    expect(() => new Tlb({ entries: 48, ways: 5 })).toThrow(/entries 48 must be an integer of at least ways|power of two/);
    expect(() => new Tlb({ entries: 1280, ways: 5 })).not.toThrow();   // Neoverse N1 L2 TLB shape: 256 sets x 5
    expect(() => new Tlb({ entries: 96, ways: 32 })).toThrow(/set count must be a power of two/);
    expect(() => new Tlb({ entries: 8, ways: 8, pageSizes: [3000] })).toThrow(/pageSizes: 3000/);
    expect(() => new Tlb({ entries: 8, ways: 8, wayz: 2 } as never)).toThrow(/unknown key "wayz"/);
    expect(() => new Tlb({ entries: 8, ways: 8, replacement: 'random' })).toThrow(/Rng/);
    expect(() => put(fa(), 0, 12345, { pa: 0 })).toThrow(/pageBytes 12345/);
  });
});

describe('Tlb: replacement', () => {
  it('LRU evicts the least recently used entry (fully associative)', () => {
    const t = fa(4);
    for (let i = 0; i < 4; i++) put(t, i * 4096, 4096, { pa: i * 4096 });
    t.lookup(0, 0, 0, 0);                                   // 0 becomes most recent; 1 is now the LRU
    t.lookup(2 * 4096, 0, 0, 0);
    put(t, 9 * 4096, 4096, { pa: 0 });
    expect(t.probe(4096, 0, 0, 0)).toBe(-1);
    for (const p of [0, 2, 3, 9]) expect(t.probe(p * 4096, 0, 0, 0)).toBeGreaterThanOrEqual(0);
    expect(t.stats.evictions).toBe(1);
    put(t, 10 * 4096, 4096, { pa: 0 });                     // next LRU: 3
    expect(t.probe(3 * 4096, 0, 0, 0)).toBe(-1);
  });

  it('LRU within a set: other sets are untouched; probe does not count as a use', () => {
    const t = new Tlb({ entries: 4, ways: 2 });             // 2 sets: page numbers even -> set 0
    put(t, 0 * 4096, 4096, { pa: 0 });
    put(t, 2 * 4096, 4096, { pa: 0 });
    put(t, 1 * 4096, 4096, { pa: 0 });                      // set 1
    t.probe(0, 0, 0, 0);                                    // not a use: 0 stays the LRU of set 0
    put(t, 4 * 4096, 4096, { pa: 0 });
    expect(t.probe(0, 0, 0, 0)).toBe(-1);
    expect(t.probe(2 * 4096, 0, 0, 0)).toBeGreaterThanOrEqual(0);
    expect(t.probe(1 * 4096, 0, 0, 0)).toBeGreaterThanOrEqual(0);
  });

  it('an invalidated slot is refilled before anything is evicted', () => {
    const t = fa(4);
    for (let i = 0; i < 4; i++) put(t, i * 4096, 4096, { pa: 0 });
    t.invalidateVaAllAsid(2 * 4096, 0, 0, false);
    put(t, 8 * 4096, 4096, { pa: 0 });
    expect(t.countValid()).toBe(4);
    expect(t.stats.evictions).toBe(0);
  });

  it('seeded random replacement repeats with the same seed', () => {
    const victims = (seed: number): number[] => {
      const t = new Tlb({ entries: 8, ways: 8, replacement: 'random' }, new Rng(seed).fork('tlb'));
      for (let i = 0; i < 40; i++) put(t, i * 4096, 4096, { pa: 0 });
      const left: number[] = [];
      for (let i = 0; i < 40; i++) if (t.probe(i * 4096, 0, 0, 0) >= 0) left.push(i);
      return left;
    };
    expect(victims(1)).toEqual(victims(1));
    expect(victims(1)).toHaveLength(8);
  });
});

describe('Tlb: invalidation scopes', () => {
  /** A populated TLB and named entries: VMID 1 unless said, 4KB unless said. */
  function world(ipaInvalidatesCombined = false) {
    const t = new Tlb({ entries: 64, ways: 8, ipaInvalidatesCombined });   // 8 sets: five of these share set 3
    const va = 0x40_3000;
    const e = {
      a5: put(t, va, 4 * KB, { asid: 5, vmid: 1, pa: 0x1000, flags: S1 | S2, ipa: 0x8000_3000, s2: 2 * MB }),
      a6: put(t, va, 4 * KB, { asid: 6, vmid: 1, pa: 0x2000 }),
      g: put(t, 0x50_0000, 4 * KB, { vmid: 1, pa: 0x3000, flags: S1 | G }),
      block: put(t, 0x8000_0000, 2 * MB, { asid: 5, vmid: 1, pa: 0x20_0000 }),
      gBlock: put(t, 0x20_0000, 2 * MB, { vmid: 1, pa: 0x40_0000, flags: S1 | G }),  // covers va (0x40_3000)? no: 0x20_0000..0x3f_ffff
      other: put(t, 0x7000, 4 * KB, { asid: 5, vmid: 1, pa: 0x4000 }),
      upper: put(t, va, 4 * KB, { top: 1, asid: 5, vmid: 1, pa: 0x5000 }),
      vm2: put(t, va, 4 * KB, { asid: 5, vmid: 2, pa: 0x6000 }),
      vm2g: put(t, 0x50_0000, 4 * KB, { vmid: 2, pa: 0x7000, flags: S1 | G }),
      s2only: put(t, 0x8000_3000, 4 * KB, { vmid: 1, pa: 0x9000, flags: S2 | G, ipa: 0x8000_3000, s2: 4 * KB }),
      s2block: put(t, 0x9000_0000, 64 * KB, { asid: 5, vmid: 1, pa: 0xa000_0000, flags: S1 | S2, ipa: 0x8010_0000, s2: 2 * MB }),
    };
    return { t, e, va };
  }
  const alive = (t: Tlb, e: Record<string, number>): string[] => Object.keys(e).filter((k) => t.isValid(e[k]!)).sort();
  const all = (e: Record<string, number>): string[] => Object.keys(e).sort();
  const without = (e: Record<string, number>, ...gone: string[]): string[] => all(e).filter((k) => !gone.includes(k));

  it('every entry got its own slot', () => {
    const { t, e } = world();
    expect(new Set(Object.values(e)).size).toBe(Object.keys(e).length);
    expect(t.countValid()).toBe(Object.keys(e).length);
  });

  it('VAE1/VALE1: that ASID and global entries covering the VA, in that VMID and TTBR half', () => {
    for (const last of [false, true]) {
      const { t, e, va } = world();
      expect(t.invalidateVa(va + 0x10, 0, 5, 1, last)).toBe(1);
      expect(alive(t, e)).toEqual(without(e, 'a5'));
      expect(t.invalidateVa(0x50_0008, 0, 77, 1, last)).toBe(1);              // global, any ASID
      expect(alive(t, e)).toEqual(without(e, 'a5', 'g'));
      expect(t.invalidateVa(0x8012_3456, 0, 5, 1, last)).toBe(1);             // inside the 2MB block
      expect(t.invalidateVa(0x3f_ff00, 0, 1, 1, last)).toBe(1);               // global 2MB block
      expect(alive(t, e)).toEqual(without(e, 'a5', 'g', 'block', 'gBlock'));
      expect(t.stats.maintenanceOps).toBe(4);
      expect(t.stats.invalidations).toBe(4);
    }
  });

  it('VAAE1: every ASID, global or not, covering the VA', () => {
    const { t, e, va } = world();
    expect(t.invalidateVaAllAsid(va, 0, 1, false)).toBe(2);
    expect(alive(t, e)).toEqual(without(e, 'a5', 'a6'));
  });

  it('ASIDE1: non-global entries of the ASID in the VMID; global entries stay', () => {
    const { t, e } = world();
    expect(t.invalidateAsid(5, 1)).toBe(5);
    expect(alive(t, e)).toEqual(without(e, 'a5', 'block', 'other', 'upper', 's2block'));
    expect(t.invalidateAsid(0, 1)).toBe(0);                                     // global entries are stored with ASID 0
  });

  it('VMALLE1 / VMALLS12E1: everything of the VMID, other VMIDs untouched', () => {
    const { t, e } = world();
    expect(t.invalidateVmid(1)).toBe(9);
    expect(alive(t, e)).toEqual(['vm2', 'vm2g']);
  });

  it('ALLE1: everything', () => {
    const { t, e } = world();
    expect(t.invalidateAll()).toBe(Object.keys(e).length);
    expect(t.countValid()).toBe(0);
    expect(t.sizeMask).toBe(0);
  });

  it('IPAS2E1, ipaInvalidatesCombined false (default): stage-2-only entries only', () => {
    const { t, e } = world(false);
    expect(t.invalidateIpa(0x8000_3abc, 1, false)).toBe(1);
    expect(alive(t, e)).toEqual(without(e, 's2only'));
    expect(t.invalidateIpa(0x8010_0000, 1, true)).toBe(0);                    // s2block is combined
  });

  it('IPAS2E1, ipaInvalidatesCombined true: combined entries whose stage-2 mapping holds the IPA', () => {
    const { t, e } = world(true);
    // a5 and s2block sit in the same 2MB stage-2 block 0x8000_0000..0x801f_ffff; s2only is a 4KB stage-2 page.
    expect(t.invalidateIpa(0x8000_3abc, 1, false)).toBe(3);
    expect(alive(t, e)).toEqual(without(e, 'a5', 's2only', 's2block'));
  });

  it('IPAS2E1 with true: the whole stage-2 block, not just the entry\'s own page; other VMIDs and IPAs stay', () => {
    const { t, e } = world(true);
    expect(t.invalidateIpa(0x801f_f000, 1, true)).toBe(2);                    // a5 (IPA 0x8000_3000) and s2block
    expect(t.invalidateIpa(0x8000_3000, 2, false)).toBe(0);
    expect(t.invalidateIpa(0x8020_0000, 1, false)).toBe(0);
    expect(alive(t, e)).toEqual(without(e, 'a5', 's2block'));
  });

  it('stats registration covers every field', () => {
    const reg = new StatsRegistry();
    const s = new TlbStats();
    registerTlbStats(reg, 'system.cpu0.dtlb', s);
    s.hits = 3;
    const snap = reg.snapshot();
    expect(snap.get('system.cpu0.dtlb.hits')).toBe(3);
    for (const k of Object.keys(s)) expect(snap.has(`system.cpu0.dtlb.${k}`)).toBe(true);
  });
});

describe('input address and TLBI operand helpers', () => {
  it('tlbVa/tlbTop split a TTBR1 VA; TLBI operands give VA[51:12], VA[55], ASID, IPA', () => {
    const hi = 0xffff_8123, lo = 0x4567_8abc;                // VA 0xffff_8123_4567_8abc
    expect(tlbTop(hi)).toBe(1);
    expect(tlbVa(hi, lo)).toBe(0xf_8123_4567_8abc);
    expect(tlbTop(0x0000_7fff)).toBe(0);
    // TLBI VAE1 Xt for that VA, ASID 0x42: Xt[43:0] = VA[55:12] = 0xf_f812_3456_78 (44 bits), Xt[63:48] = 0x42.
    const xt = 0xff8_1234_5678, xtHi = (0x42 << 16) | Math.floor(xt / 2 ** 32), xtLo = xt % 2 ** 32;
    expect(tlbiOperandVa(xtHi, xtLo)).toBe(0xf_8123_4567_8000);
    expect(tlbiOperandTop(xtHi)).toBe(1);
    expect(tlbiOperandAsid(xtHi)).toBe(0x42);
    expect(tlbiOperandIpa(0x0000_0012, 0x3456_7890)).toBe(0x12_3456_7890 * 4096);
  });
});

describe('WalkCache', () => {
  const GB4K = 12;
  /** Stage-1 entries at levels 0..2 for `va` (4KB granule), and some bystanders. */
  function world() {
    const w = new WalkCache({ entries: 32, ways: 8 });               // 4 sets: five of these share set 2
    const va = 0x12_3456_7000;
    const e = {
      l0: w.insert(1, 0, GB4K, va, 0, 5, 1, 0x1000, packTableAttrs(1, 0, 0)),
      l1: w.insert(1, 1, GB4K, va, 0, 5, 1, 0x2000, packTableAttrs(1, 1, 0)),
      l2: w.insert(1, 2, GB4K, va, 0, 5, 1, 0x3000, packTableAttrs(3, 1, 1)),
      l2nb: w.insert(1, 2, GB4K, va + 2 * MB, 0, 5, 1, 0x4000, 0),       // same level-1 table, next 2MB
      l2a6: w.insert(1, 2, GB4K, va, 0, 6, 1, 0x3000, 0),                // another ASID
      l2up: w.insert(1, 2, GB4K, va, 1, 5, 1, 0x6000, 0),                // TTBR1 half
      l2vm2: w.insert(1, 2, GB4K, va, 0, 5, 2, 0x7000, 0),
      s2l1: w.insert(2, 1, GB4K, 0x8000_0000, 0, 0, 1, 0x9000, 0),
      s2l2: w.insert(2, 2, GB4K, 0x8000_0000, 0, 0, 1, 0xa000, 0),
      s2vm2: w.insert(2, 2, GB4K, 0x8000_0000, 0, 0, 2, 0xb000, 0),
    };
    return { w, e, va };
  }
  const alive = (w: WalkCache, e: Record<string, number>): string[] => Object.keys(e).filter((k) => w.isValid(e[k]!)).sort();
  const without = (e: Record<string, number>, ...gone: string[]): string[] => Object.keys(e).sort().filter((k) => !gone.includes(k));

  it('lookupDeepest returns the deepest cached table for the input, with its attributes', () => {
    const { w, e, va } = world();
    expect(new Set(Object.values(e)).size).toBe(Object.keys(e).length);
    const s = w.lookupDeepest(1, va + 0x1ff8, 0, 5, 1, 0, GB4K);
    expect(s).toBe(e.l2);
    expect([w.stageOf(s), w.levelOf(s), w.nextTable[s], tableAttrsAP(w.tableAttrs[s]!), tableAttrsUXN(w.tableAttrs[s]!), tableAttrsPXN(w.tableAttrs[s]!)])
      .toEqual([1, 2, 0x3000, 3, 1, 1]);
    // 4MB on: a different level-2 descriptor, the same level-1 one.
    expect(w.lookupDeepest(1, va + 4 * MB, 0, 5, 1, 0, GB4K)).toBe(e.l1);
    // another GB: only level 0 matches.
    expect(w.lookupDeepest(1, va + GB, 0, 5, 1, 0, GB4K)).toBe(e.l0);
    expect(w.lookupDeepest(1, va + GB, 0, 5, 1, 1, GB4K)).toBe(-1);     // start level 1: level 0 is not asked
    expect(w.lookupDeepest(1, va, 0, 7, 1, 0, GB4K)).toBe(-1);          // ASID-tagged
    expect(w.lookupDeepest(2, 0x8000_1000, 99, 99, 1, 1, GB4K)).toBe(e.s2l2);   // stage 2 ignores top and ASID
    expect(w.lookup(1, 1, GB4K, va, 0, 5, 1)).toBe(e.l1);
    expect(w.stats.hits).toBe(5);
    expect(w.stats.misses).toBe(2);
  });

  it('re-inserting the same key overwrites; level 3 is refused', () => {
    const { w, e, va } = world();
    expect(w.insert(1, 2, GB4K, va + 8, 0, 5, 1, 0x3333, 0)).toBe(e.l2);
    expect(w.nextTable[e.l2]).toBe(0x3333);
    expect(() => w.insert(1, 3, GB4K, va, 0, 5, 1, 0, 0)).toThrow(/level 3/);
  });

  it('VALE1 / VAALE1 leave the walk cache; VAE1 / VAAE1 remove every level used for the VA (all ASIDs)', () => {
    const { w, e, va } = world();
    expect(w.invalidateVa(va, 0, 1, true)).toBe(0);
    expect(alive(w, e)).toEqual(Object.keys(e).sort());
    expect(w.invalidateVa(va + 0x10, 0, 1)).toBe(4);
    expect(alive(w, e)).toEqual(without(e, 'l0', 'l1', 'l2', 'l2a6'));
  });

  it('ASIDE1: stage-1 entries of that ASID and VMID only', () => {
    const { w, e } = world();
    expect(w.invalidateAsid(5, 1)).toBe(5);
    expect(alive(w, e)).toEqual(without(e, 'l0', 'l1', 'l2', 'l2nb', 'l2up'));
  });

  it('VMALLE1 leaves stage 2; VMALLS12E1 takes both stages; other VMIDs untouched', () => {
    const a = world();
    expect(a.w.invalidateVmid(1, false)).toBe(6);
    expect(alive(a.w, a.e)).toEqual(['l2vm2', 's2l1', 's2l2', 's2vm2']);
    const b = world();
    expect(b.w.invalidateVmid(1)).toBe(8);
    expect(alive(b.w, b.e)).toEqual(['l2vm2', 's2vm2']);
  });

  it('IPAS2E1 removes the stage-2 levels used for the IPA; IPAS2LE1 leaves them', () => {
    const { w, e } = world();
    expect(w.invalidateIpa(0x8000_0000, 1, true)).toBe(0);
    expect(w.invalidateIpa(0x8020_0000, 1)).toBe(1);                       // next 2MB: only the level-1 entry covers it
    expect(alive(w, e)).toEqual(without(e, 's2l1'));
    expect(w.invalidateIpa(0x801f_f000, 1)).toBe(1);
    expect(alive(w, e)).toEqual(without(e, 's2l1', 's2l2'));
  });

  it('ALLE1 empties it; LRU replacement at capacity', () => {
    const { w } = world();
    expect(w.invalidateAll()).toBe(10);
    expect(w.levelMask).toBe(0);
    const f = new WalkCache({ entries: 2 });
    const a = f.insert(1, 2, GB4K, 0, 0, 0, 0, 0x1000, 0);
    f.insert(1, 2, GB4K, 2 * MB, 0, 0, 0, 0x2000, 0);
    f.lookup(1, 2, GB4K, 0, 0, 0, 0);
    expect(f.insert(1, 2, GB4K, 4 * MB, 0, 0, 0, 0x3000, 0)).not.toBe(a);   // the 2MB entry was the LRU
    expect(f.probe(1, 2, GB4K, 0, 0, 0, 0)).toBe(a);
    expect(f.stats.evictions).toBe(1);
  });
});

// ---------------------------------------------------------------------------------------------
// Differential: Tlb against a Map
// ---------------------------------------------------------------------------------------------

interface ModelEntry { top: number; vmid: number; asid: number; global: boolean; log2: number; vpn: number; pa: number; ipa: number; s2Log2: number; flags: number; attrs: number }

/**
 * The plainly written model: a Map keyed by (top, vmid, ASID or 'g', size, page). Same rules as
 * the Tlb: an insert replaces entries of its size that would match the same lookups; lookups try
 * sizes smallest first.
 */
class MapTlb {
  readonly m = new Map<string, ModelEntry>();
  constructor(readonly combined: boolean) {}
  private key(top: number, vmid: number, asid: number | 'g', log2: number, vpn: number): string { return `${top}/${vmid}/${asid}/${log2}/${vpn}`; }
  insert(va: number, top: number, asid: number, vmid: number, size: number, pa: number, ipa: number, attrs: number, flags: number, s2: number): void {
    const log2 = Math.log2(size), vpn = Math.floor(va / size), off = va - vpn * size, global = (flags & G) !== 0;
    for (const [k, x] of this.m) {
      if (x.top === top && x.vmid === vmid && x.log2 === log2 && x.vpn === vpn && (global || x.global || x.asid === asid)) this.m.delete(k);
    }
    this.m.set(this.key(top, vmid, global ? 'g' : asid, log2, vpn), {
      top, vmid, asid: global ? 0 : asid, global, log2, vpn, pa: pa - off, ipa: ipa - off, s2Log2: (flags & S2) !== 0 ? Math.log2(s2) : 0, flags, attrs,
    });
  }
  lookup(va: number, top: number, asid: number, vmid: number): ModelEntry | undefined {
    const sizes = [...new Set([...this.m.values()].map((x) => x.log2))].sort((a, b) => a - b);
    for (const l of sizes) {
      const vpn = Math.floor(va / 2 ** l);
      const hit = this.m.get(this.key(top, vmid, asid, l, vpn)) ?? this.m.get(this.key(top, vmid, 'g', l, vpn));
      if (hit) return hit;
    }
    return undefined;
  }
  private drop(pred: (x: ModelEntry) => boolean): number {
    let n = 0;
    for (const [k, x] of this.m) if (pred(x)) { this.m.delete(k); n++; }
    return n;
  }
  covers = (x: ModelEntry, va: number): boolean => Math.floor(va / 2 ** x.log2) === x.vpn;
  invalidateAll(): number { return this.drop(() => true); }
  invalidateVmid(vmid: number): number { return this.drop((x) => x.vmid === vmid); }
  invalidateVa(va: number, top: number, asid: number, vmid: number): number {
    return this.drop((x) => x.vmid === vmid && x.top === top && (x.global || x.asid === asid) && this.covers(x, va));
  }
  invalidateVaAllAsid(va: number, top: number, vmid: number): number {
    return this.drop((x) => x.vmid === vmid && x.top === top && this.covers(x, va));
  }
  invalidateAsid(asid: number, vmid: number): number { return this.drop((x) => x.vmid === vmid && !x.global && x.asid === asid); }
  invalidateIpa(ipa: number, vmid: number): number {
    return this.drop((x) => x.vmid === vmid && (x.flags & S2) !== 0 && (this.combined || (x.flags & S1) === 0)
      && Math.floor(ipa / 2 ** x.s2Log2) === Math.floor(x.ipa / 2 ** x.s2Log2));
  }
}

describe('Tlb against a Map model (fast-check)', () => {
  const LOG2S = [12, 14, 16, 21, 25, 29, 30];
  // Addresses cluster around a few anchors so that pages of every size collide, overlap and repeat.
  const ANCHORS = [0, 0x1000, 0x20_0000, 0x4000_0000, 0x4020_1000, 0xff_ffe0_0000, 2 ** 51, 2 ** 52 - 2 ** 30];
  // Offsets: a few 4KB pages (so 4KB lookups hit too) plus anywhere in 192KB.
  const offset = fc.oneof(
    fc.tuple(fc.integer({ min: 0, max: 3 }), fc.integer({ min: 0, max: 0xfff })).map(([p, o]) => p * 0x1_1000 + o),
    fc.integer({ min: 0, max: 0x2_ffff }),
  );
  const addr = fc.tuple(fc.constantFrom(...ANCHORS), offset).map(([a, o]) => Math.min(a + o, 2 ** 52 - 1));
  const ctx = { top: fc.integer({ min: 0, max: 1 }), asid: fc.integer({ min: 0, max: 2 }), vmid: fc.integer({ min: 0, max: 1 }) };
  const op = fc.oneof(
    { weight: 8, arbitrary: fc.record({ k: fc.constant('insert' as const), va: addr, ...ctx, log2: fc.constantFrom(...LOG2S), s2Extra: fc.integer({ min: 0, max: 3 }),
      pa: fc.integer({ min: 0, max: 2 ** 40 }), ipa: addr, flags: fc.integer({ min: 0, max: 7 }), attrs: fc.integer({ min: 0, max: 0xffff }) }) },
    { weight: 6, arbitrary: fc.record({ k: fc.constant('lookup' as const), va: addr, ...ctx }) },
    // The VA and context of an earlier insert, moved by up to 64KB either way: mostly hits.
    { weight: 6, arbitrary: fc.record({ k: fc.constant('again' as const), nth: fc.nat(), delta: fc.integer({ min: -0x1_0000, max: 0x1_0000 }), asid: ctx.asid }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('va' as const), va: addr, ...ctx, last: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('vaa' as const), va: addr, ...ctx }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('asid' as const), ...ctx }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('ipa' as const), va: addr, ...ctx, last: fc.boolean() }) },
    { weight: 1, arbitrary: fc.record({ k: fc.constant('vmid' as const), ...ctx }) },
    { weight: 1, arbitrary: fc.constant({ k: 'all' as const }) },
  );

  it.each([
    ["fully associative", 256, 256, false],
    ["fully associative, IPA invalidation takes combined entries", 256, 256, true],
    ['64 sets x 16 ways (large enough never to evict here)', 1024, 16, false],
  ])('%s: every lookup and every invalidation count agree', (_n, entries, ways, combined) => {
    fc.assert(fc.property(fc.array(op, { minLength: 20, maxLength: 200, size: 'max' }), (ops) => {
      const t = new Tlb({ entries, ways, ipaInvalidatesCombined: combined });
      const m = new MapTlb(combined);
      const inserted: { va: number; top: number; asid: number; vmid: number }[] = [];
      const lookup = (va: number, top: number, asid: number, vmid: number): void => {
        const s = t.lookup(va, top, asid, vmid), x = m.lookup(va, top, asid, vmid);
        if (x === undefined) { expect(s).toBe(-1); return; }
        expect(s).toBeGreaterThanOrEqual(0);
        expect([t.vaBase(s), t.pageBytes(s), t.paBase(s), t.attrs(s), t.flags(s) & 7, t.asid(s), t.top(s), t.vmid(s)])
          .toEqual([x.vpn * 2 ** x.log2, 2 ** x.log2, x.pa, x.attrs, x.flags, x.asid, x.top, x.vmid]);
        if ((x.flags & S2) !== 0) expect([t.ipaBase(s), t.s2Bytes(s)]).toEqual([x.ipa, 2 ** x.s2Log2]);
      };
      for (const o of ops) {
        switch (o.k) {
          case 'insert': {
            const size = 2 ** o.log2, s2 = 2 ** Math.min(o.log2 + o.s2Extra, 42);
            put(t, o.va, size, { top: o.top, asid: o.asid, vmid: o.vmid, pa: o.pa, ipa: o.ipa, attrs: o.attrs, flags: o.flags, s2 });
            m.insert(o.va, o.top, o.asid, o.vmid, size, o.pa, o.ipa, o.attrs, o.flags, s2);
            inserted.push(o);
            break;
          }
          case 'lookup': lookup(o.va, o.top, o.asid, o.vmid); break;
          case 'again': {
            if (inserted.length === 0) break;
            const p = inserted[o.nth % inserted.length]!;
            // Half the time the inserting ASID, else another one (global entries still hit).
            lookup(Math.min(Math.max(p.va + o.delta, 0), 2 ** 52 - 1), p.top, o.nth % 2 === 0 ? p.asid : o.asid, p.vmid);
            break;
          }
          case 'va': expect(t.invalidateVa(o.va, o.top, o.asid, o.vmid, o.last)).toBe(m.invalidateVa(o.va, o.top, o.asid, o.vmid)); break;
          case 'vaa': expect(t.invalidateVaAllAsid(o.va, o.top, o.vmid, false)).toBe(m.invalidateVaAllAsid(o.va, o.top, o.vmid)); break;
          case 'asid': expect(t.invalidateAsid(o.asid, o.vmid)).toBe(m.invalidateAsid(o.asid, o.vmid)); break;
          case 'ipa': expect(t.invalidateIpa(o.va, o.vmid, o.last)).toBe(m.invalidateIpa(o.va, o.vmid)); break;
          case 'vmid': expect(t.invalidateVmid(o.vmid)).toBe(m.invalidateVmid(o.vmid)); break;
          case 'all': expect(t.invalidateAll()).toBe(m.invalidateAll()); break;
        }
        expect(t.countValid()).toBe(m.m.size);
      }
      expect(t.stats.evictions).toBe(0);
    }), { numRuns: 200, seed: 0x7b1 });
  });
});
