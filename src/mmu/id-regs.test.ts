import { describe, expect, it } from 'vitest';
import { ProgramOpSource, prog } from '../core/index.js';
import { buildSystem } from '../platform/test-helpers.js';
import { MmuIdReg } from './id-regs.js';

/** Reads each memory-model ID register with MRS from a program on `preset`, as [lo, hi] halves. */
function readIds(preset: string, sets: string[] = []): Record<keyof typeof MmuIdReg, [number, number]> {
  const sys = buildSystem(preset, ['core.count=1', ...sets]);
  const out: Partial<Record<keyof typeof MmuIdReg, [number, number]>> = {};
  sys.attach(0, new ProgramOpSource((function* () {
    for (const [name, reg] of Object.entries(MmuIdReg)) {
      const r = (yield prog.mrs(reg))!;
      out[name as keyof typeof MmuIdReg] = [r.valueLo, r.valueHi];
    }
  })(), 'ids'));
  expect(sys.run().endReason).toBe('done');
  return out as Record<keyof typeof MmuIdReg, [number, number]>;
}

const field = (v: number, lsb: number): number => (v >>> lsb) & 0xf;

describe('memory-model ID registers', () => {
  it('encode as MRS does (S3_0_C0_C4_1, S3_0_C0_C7_0..2)', () => {
    // op0 3, op1 0, CRn 0: CRm 4 op2 1 is ID_AA64PFR1_EL1; CRm 7 op2 0/1/2 the MMFRs (Arm ARM D19.2).
    expect(MmuIdReg).toEqual({ ID_AA64PFR1_EL1: 0xc021, ID_AA64MMFR0_EL1: 0xc038, ID_AA64MMFR1_EL1: 0xc039, ID_AA64MMFR2_EL1: 0xc03a });
  });

  it('neoverse-n1: 48-bit PA, 16-bit ASID and VMID, HAFDBS, HPDS, XNX, all three granules; no FWB, no LSE2, no MTE', () => {
    const r = readIds('neoverse-n1');
    const [m0] = r.ID_AA64MMFR0_EL1, [m1] = r.ID_AA64MMFR1_EL1, [m2lo, m2hi] = r.ID_AA64MMFR2_EL1;
    expect([field(m0, 0), field(m0, 4), field(m0, 20), field(m0, 24), field(m0, 28)]).toEqual([5, 2, 1, 0, 0]);
    // The fields of Altra's real ID_AA64MMFR1_EL1 (0x10212122) that the model implements: HAFDBS, VMIDBits, XNX.
    expect([field(m1, 0), field(m1, 4), field(m1, 28)]).toEqual([field(0x10212122, 0), field(0x10212122, 4), field(0x10212122, 28)]);
    expect(field(m1, 0)).toBe(2);                        // hardware Access flag and dirty state
    expect(field(m1, 12)).toBe(1);                       // HPDS (the real part has HPDS2, which the model does not)
    expect([field(m2lo, 28), field(m2hi, 0), field(m2hi, 8)]).toEqual([0, 0, 0]);
    expect(field(r.ID_AA64PFR1_EL1[0], 8)).toBe(0);
  });

  it('grace: FEAT_S2FWB, FEAT_LSE2 and FEAT_TTST show in ID_AA64MMFR2_EL1', () => {
    const [lo, hi] = readIds('grace').ID_AA64MMFR2_EL1;
    expect([field(lo, 28), field(hi, 0), field(hi, 8)]).toEqual([1, 1, 1]);
  });

  it('xgene1: 42-bit PA, 8-bit VMID, no HAFDBS, HPDS or XNX; a --set feature shows at once', () => {
    const r = readIds('xgene1');
    expect(field(r.ID_AA64MMFR0_EL1[0], 0)).toBe(3);
    expect([field(r.ID_AA64MMFR1_EL1[0], 0), field(r.ID_AA64MMFR1_EL1[0], 4), field(r.ID_AA64MMFR1_EL1[0], 12), field(r.ID_AA64MMFR1_EL1[0], 28)]).toEqual([0, 0, 0, 0]);
    const set = readIds('xgene1', ['mmu.features.featVMID16=true', 'mmu.features.granules=["4K"]', 'mmu.attrs.featMTE2=true', 'mmu.features.hafdbs=1']);
    expect(field(set.ID_AA64MMFR1_EL1[0], 4)).toBe(2);
    expect(field(set.ID_AA64MMFR1_EL1[0], 0)).toBe(1);
    expect([field(set.ID_AA64MMFR0_EL1[0], 20), field(set.ID_AA64MMFR0_EL1[0], 24), field(set.ID_AA64MMFR0_EL1[0], 28)]).toEqual([0, 0xf, 0]);
    expect(field(set.ID_AA64PFR1_EL1[0], 8)).toBe(2);
  });
});
