/**
 * The memory-model ID registers a program can read, derived from the MMU features the platform
 * configures: ID_AA64MMFR0_EL1, ID_AA64MMFR1_EL1, ID_AA64MMFR2_EL1 and ID_AA64PFR1_EL1 (Arm ARM
 * D19.2, "ID_AA64MMFR0_EL1, AArch64 Memory Model Feature Register 0" and the following ones).
 * Only the fields of features the simulator models are set; the others (hardware Access flag
 * and dirty state, VHE, PAN, LOR, ...) read as 0, the architecture's encoding for a feature the
 * PE lacks, which is what the model does. Values are 64-bit, as 32-bit halves. Pure; allocates nothing but the returned pair.
 */
import { enc } from './sysregs.js';
import type { MmuFeatures } from './regime.js';

export const MmuIdReg = Object.freeze({
  ID_AA64PFR1_EL1: enc(3, 0, 0, 4, 1),
  ID_AA64MMFR0_EL1: enc(3, 0, 0, 7, 0),
  ID_AA64MMFR1_EL1: enc(3, 0, 0, 7, 1),
  ID_AA64MMFR2_EL1: enc(3, 0, 0, 7, 2),
} as const);

/** What the registers describe: the MMU's features and the platform's feature flags beside them. */
export interface MmuIdFeatures {
  readonly features: MmuFeatures;
  readonly featS2FWB: boolean;
  readonly featMTE2: boolean;
  /** FEAT_LSE2 (a PE feature that ID_AA64MMFR2_EL1.AT reports). */
  readonly featLSE2: boolean;
}

const PA_RANGE: Readonly<Record<number, number>> = { 32: 0, 36: 1, 40: 2, 42: 3, 44: 4, 48: 5, 52: 6 };

/** `reg`'s value as { lo, hi } halves, or undefined for a register this file does not own. */
export function readMmuIdRegister(f: MmuIdFeatures, reg: number): { lo: number; hi: number } | undefined {
  const m = f.features;
  const has = (g: string): boolean => (m.granules as readonly string[]).includes(g);
  switch (reg) {
    case MmuIdReg.ID_AA64MMFR0_EL1:
      // PARange [3:0]; ASIDBits [7:4] (0b0010: 16 bits); TGran16 [23:20] (0b0001 supported);
      // TGran64 [27:24] and TGran4 [31:28] (0b0000 supported, 0b1111 not). The stage-2 granule
      // fields [43:32] read 0b0000: "as the stage-1 fields say".
      return {
        lo: ((PA_RANGE[m.paBits] ?? 0) | (m.asid16 ? 2 << 4 : 0) | (has('16K') ? 1 << 20 : 0)
          | (has('64K') ? 0 : 0xf << 24) | (has('4K') ? 0 : 0xf << 28)) >>> 0,
        hi: 0,
      };
    case MmuIdReg.ID_AA64MMFR1_EL1:
      // HAFDBS [3:0] (1: Access flag, 2: and dirty state); VMIDBits [7:4] (0b0010: 16 bits); HPDS [15:12]; XNX [31:28].
      return { lo: (m.hafdbs | (m.featVMID16 ? 2 << 4 : 0) | (m.featHPDS ? 1 << 12 : 0) | (m.featXNX ? 1 << 28 : 0)) >>> 0, hi: 0 };
    case MmuIdReg.ID_AA64MMFR2_EL1:
      // VARange [19:16] (FEAT_LVA); ST [31:28] (FEAT_TTST); AT [35:32] (FEAT_LSE2); FWB [43:40].
      return {
        lo: ((m.featLVA ? 1 << 16 : 0) | (m.featTTST ? 1 << 28 : 0)) >>> 0,
        hi: (f.featLSE2 ? 1 : 0) | (f.featS2FWB ? 1 << 8 : 0),
      };
    case MmuIdReg.ID_AA64PFR1_EL1:
      // MTE [11:8]: 0b0010 FEAT_MTE2.
      return { lo: f.featMTE2 ? 2 << 8 : 0, hi: 0 };
    default:
      return undefined;
  }
}
