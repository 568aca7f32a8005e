import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { CacheConfig } from '../platform/schema.js';
import { NEOVERSE_N1 } from '../platform/presets/neoverse-n1.js';
import { ccsidr, clidr, ctr, dczid, readIdRegister, SysReg, sysRegId } from './id-regs.js';

const KiB = 1024, MiB = 1024 ** 2;

/** An N1-like hierarchy: 64 KiB 4-way L1s, 1 MiB 8-way L2, a system cache at the PoC, 64 B lines. */
const N1_LIKE: CacheConfig = {
  lineBytes: 64,
  l1i: { sizeBytes: 64 * KiB, ways: 4, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 8 },
  l1d: { sizeBytes: 64 * KiB, ways: 4, replacement: 'plru', hitLatency: 4, tagLatency: 2, mshrs: 20 },
  l2: {
    sizeBytes: 1 * MiB, ways: 8, replacement: 'plru', hitLatency: 11, tagLatency: 5, mshrs: 46,
    inclusion: 'inclusive', writebackAllocate: true, writebackTouches: true, clusterSize: 1,
  },
  l3: {
    kind: 'system-cache', sizeBytes: 32 * MiB, ways: 16, replacement: 'lru', hitLatency: 30, tagLatency: 8, mshrs: 256,
    inclusion: 'non-inclusive', writebackAllocate: true, writebackTouches: true,
  },
  prefetch: 'none', protocol: 'moesi', snoopLatency: 40,
  idc: true, dic: false, zvaBytes: 64, naming: 'arm',
};

/** An X-Gene-like hierarchy: no IDC, an L2 shared by two PEs, an 8 MiB L3 above the PoC. */
const XGENE_LIKE: CacheConfig = {
  ...N1_LIKE,
  l1i: { ...N1_LIKE.l1i, sizeBytes: 32 * KiB, ways: 8 },
  l1d: { ...N1_LIKE.l1d, sizeBytes: 32 * KiB, ways: 8 },
  l2: { ...N1_LIKE.l2, sizeBytes: 256 * KiB, clusterSize: 2 },
  l3: { ...N1_LIKE.l3, kind: 'before-poc', sizeBytes: 8 * MiB },
  idc: false, dic: false,
};

// Field decoders written from the Arm ARM register descriptions, independently of id-regs.ts.
const field = (v: number, lo: number, bits: number) => Math.floor(v / 2 ** lo) % 2 ** bits;
const decodeClidr = (v: number) => ({
  ctype1: field(v, 0, 3), ctype2: field(v, 3, 3), ctype3: field(v, 6, 3),
  louis: field(v, 21, 3), loc: field(v, 24, 3), louu: field(v, 27, 3), icb: field(v, 30, 3),
});
const decodeCcsidr = (v: number) => ({
  sets: field(v, 13, 15) + 1, ways: field(v, 3, 10) + 1, lineBytes: 2 ** (field(v, 0, 3) + 4),
});
/** CSSELR_EL1: Level [3:1] (0b000 = L1), InD [0]. */
const csselr = (level: number, instruction: boolean) => (level - 1) * 2 + (instruction ? 1 : 0);

describe('CTR_EL0', () => {
  it('gives the Arm values for 64-byte lines', () => {
    expect(ctr({ ...N1_LIKE, idc: false, dic: false })).toBe(0x8444c004);
    expect(ctr({ ...N1_LIKE, idc: true, dic: false })).toBe(0x9444c004);
    expect(ctr({ ...N1_LIKE, idc: true, dic: true })).toBe(0xb444c004);
  });

  it('reports IDC whenever DIC is set (the architecture requires it)', () => {
    expect(ctr({ ...N1_LIKE, idc: false, dic: true })).toBe(0xb444c004);
  });

  it('scales the line fields with the line size', () => {
    // 128 B = 32 words: IminLine = DminLine = ERG = CWG = 5.
    expect(ctr({ ...N1_LIKE, lineBytes: 128, idc: false })).toBe(0x8555c005);
  });
});

describe('DCZID_EL0', () => {
  it('is 0x4 for a 64-byte DC ZVA block, BS = log2(words) and DZP = 0 in general', () => {
    expect(dczid(N1_LIKE)).toBe(0x4);
    expect(dczid({ ...N1_LIKE, zvaBytes: 4 })).toBe(0);
    expect(dczid({ ...N1_LIKE, zvaBytes: 2048 })).toBe(9);
  });
});

describe('CLIDR_EL1', () => {
  it('N1-like (IDC): L1 split, L2 unified, no L3, LoUU = LoUIS = 0, LoC = 2, ICB = L2', () => {
    const v = clidr(N1_LIKE);
    expect(v).toBe(0x82000023);
    expect(decodeClidr(v)).toEqual({ ctype1: 0b011, ctype2: 0b100, ctype3: 0, louis: 0, loc: 2, louu: 0, icb: 2 });
  });

  it('X-Gene-like (no IDC, before-poc L3): the L3 is still not listed, LoUU = LoUIS = 1, LoC = 2', () => {
    const v = clidr(XGENE_LIKE);
    expect(v).toBe(0x0a200023);
    expect(decodeClidr(v)).toEqual({ ctype1: 0b011, ctype2: 0b100, ctype3: 0, louis: 1, loc: 2, louu: 1, icb: 0 });
  });

  it('never lists the L3, whatever its kind', () => {
    for (const kind of ['none', 'before-poc', 'system-cache'] as const) {
      for (const idc of [false, true]) {
        const d = decodeClidr(clidr({ ...N1_LIKE, idc, l3: { ...N1_LIKE.l3, kind } }));
        expect(d.ctype3).toBe(0);
        expect(d.loc).toBe(2);
      }
    }
  });

  it('DIC alone makes IDC effective, so LoUU = LoUIS = 0 agrees with CTR_EL0', () => {
    const d = decodeClidr(clidr({ ...N1_LIKE, idc: false, dic: true }));
    expect([d.louu, d.louis]).toEqual([0, 0]);
  });
});

describe('the neoverse-n1 preset', () => {
  it('reads the platforms.md values: CLIDR 0x82000023, CTR 0x9444C004, DCZID 0x4', () => {
    const c = NEOVERSE_N1.cache;
    expect(clidr(c)).toBe(0x82000023);
    expect(ctr(c)).toBe(0x9444c004);
    expect(dczid(c)).toBe(0x4);
  });
});

describe('CCSIDR_EL1', () => {
  it('a 64 KiB 4-way L1D with 64 B lines decodes to 256 sets, 4 ways, 64 B', () => {
    const v = ccsidr(N1_LIKE, 1, false);
    expect(decodeCcsidr(v)).toEqual({ sets: 256, ways: 4, lineBytes: 64 });
    expect(v).toBe(0x001fe01a);
    expect(decodeCcsidr(ccsidr(N1_LIKE, 1, true))).toEqual({ sets: 256, ways: 4, lineBytes: 64 });
  });

  it('a 1 MiB 8-way L2 has 2048 sets', () => {
    const v = ccsidr(N1_LIKE, 2, false);
    expect(decodeCcsidr(v)).toEqual({ sets: 2048, ways: 8, lineBytes: 64 });
    expect(v).toBe(0x00ffe03a);
  });

  it('reads 0 (UNKNOWN) for selections CLIDR_EL1 does not list', () => {
    expect(ccsidr(N1_LIKE, 2, true)).toBe(0);
    expect(ccsidr(N1_LIKE, 3, false)).toBe(0);
    expect(ccsidr(XGENE_LIKE, 3, false)).toBe(0);
    expect(ccsidr(N1_LIKE, 7, true)).toBe(0);
  });

  it('throws for more sets than the 15-bit NumSets holds (needs FEAT_CCIDX)', () => {
    const big: CacheConfig = { ...N1_LIKE, l2: { ...N1_LIKE.l2, sizeBytes: 64 * MiB, ways: 16 } };   // 65536 sets
    expect(() => ccsidr(big, 2, false)).toThrow(RangeError);
  });

  it('decodes back to the configured geometry for any legal one', () => {
    fc.assert(fc.property(
      fc.integer({ min: 4, max: 8 }),          // log2(lineBytes): 16..256
      fc.integer({ min: 1, max: 256 }),        // ways (the schema allows any count)
      fc.integer({ min: 0, max: 15 }),         // log2(sets): 1..32768
      fc.constantFrom([1, false], [1, true], [2, false]),
      (lineLog, ways, setsLog, [level, instruction]) => {
        const lineBytes = 2 ** lineLog, sets = 2 ** setsLog, sizeBytes = sets * ways * lineBytes;
        const cfg: CacheConfig = {
          ...N1_LIKE, lineBytes,
          l1i: { ...N1_LIKE.l1i, sizeBytes, ways },
          l1d: { ...N1_LIKE.l1d, sizeBytes, ways },
          l2: { ...N1_LIKE.l2, sizeBytes, ways },
        };
        const v = ccsidr(cfg, level as number, instruction as boolean);
        expect(decodeCcsidr(v)).toEqual({ sets, ways, lineBytes });
        expect(v).toBeLessThan(2 ** 28);       // bits [31:28] are 0
      },
    ));
  });
});

describe('readIdRegister', () => {
  it('numbers the registers by op0:op1:CRn:CRm:op2', () => {
    expect(SysReg.CCSIDR_EL1).toBe(sysRegId(3, 1, 0, 0, 0));
    expect(SysReg.CLIDR_EL1).toBe(sysRegId(3, 1, 0, 0, 1));
    expect(SysReg.CSSELR_EL1).toBe(sysRegId(3, 2, 0, 0, 0));
    expect(SysReg.CTR_EL0).toBe(sysRegId(3, 3, 0, 0, 1));
    expect(SysReg.DCZID_EL0).toBe(sysRegId(3, 3, 0, 0, 7));
    // Linux: #define SYS_CTR_EL0 sys_reg(3, 3, 0, 0, 1), with Op0 at bit 19.
    expect(SysReg.CTR_EL0 * 32).toBe((3 << 19) | (3 << 16) | (0 << 12) | (0 << 8) | (1 << 5));
  });

  it('reads CLIDR_EL1, CTR_EL0 and DCZID_EL0 whatever CSSELR_EL1 holds', () => {
    for (const sel of [0, 1, 2, 5]) {
      expect(readIdRegister(XGENE_LIKE, SysReg.CLIDR_EL1, sel)).toBe(0x0a200023);
      expect(readIdRegister(XGENE_LIKE, SysReg.CTR_EL0, sel)).toBe(0x8444c004);
      expect(readIdRegister(XGENE_LIKE, SysReg.DCZID_EL0, sel)).toBe(0x4);
    }
  });

  it('reads CCSIDR_EL1 for the cache CSSELR_EL1 selects', () => {
    const read = (sel: number) => readIdRegister(XGENE_LIKE, SysReg.CCSIDR_EL1, sel)!;
    expect(decodeCcsidr(read(csselr(1, false)))).toEqual({ sets: 64, ways: 8, lineBytes: 64 });
    expect(decodeCcsidr(read(csselr(1, true)))).toEqual({ sets: 64, ways: 8, lineBytes: 64 });
    expect(decodeCcsidr(read(csselr(2, false)))).toEqual({ sets: 512, ways: 8, lineBytes: 64 });
    expect(read(csselr(2, true))).toBe(0);
    expect(read(csselr(3, false))).toBe(0);          // the L3 is not a CLIDR level
    expect(read(0x10)).toBe(0);                      // TnD: no separate tag caches
    expect(read(2 ** 40 + csselr(2, false))).toBe(ccsidr(XGENE_LIKE, 2, false));   // RES0 high bits ignored
  });

  it('leaves CSSELR_EL1 and registers it does not own to the PE', () => {
    expect(readIdRegister(N1_LIKE, SysReg.CSSELR_EL1, 2)).toBeUndefined();
    expect(readIdRegister(N1_LIKE, 0x100, 0)).toBeUndefined();
    expect(readIdRegister(N1_LIKE, sysRegId(3, 0, 0, 0, 0), 0)).toBeUndefined();   // MIDR_EL1
  });
});
