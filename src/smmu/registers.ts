/**
 * The SMMU's register file (page 0 and the page-1 queue pointers) with the read/write semantics
 * software sees: read-only ID registers, CR0ACK/IRQ_CTRLACK following their registers (at once:
 * no update latency in this functional model), GBPA written only with UPDATE=1, GERROR owned by
 * the SMMU and GERRORN by software, queue bases and pointers with index and wrap bits.
 *
 * Offsets and fields: Linux arm-smmu-v3.h (`ARM_SMMU_*`, `CR0_*`, `CR1_*`, `CR2_*`, `GBPA_*`,
 * `IRQ_CTRL_*`, `GERROR_*`, `STRTAB_BASE_*`, `Q_BASE_*`, `CMDQ_CONS_ERR`, `Q_OVERFLOW_FLAG`);
 * QEMU smmuv3-common.h (`REG32`/`FIELD`). Page 1 (base + 64KiB) holds EVENTQ_PROD/CONS at
 * 0x100A8/0x100AC and PRIQ_PROD/CONS at 0x100C8/0x100CC (Linux `arm_smmu_page1`); the page-0
 * offsets alias them, as QEMU does (`smmu_write_mmio`: offset &= ~0x10000).
 *
 * Queue pointers (IHI 0070 3.5 "Command and Event queues"; Linux `Q_IDX`, `Q_WRP`; QEMU
 * `smmuv3_q_full/_empty`): entries = 2^LOG2SIZE (LOG2SIZE capped at IDR1.CMDQS/EVENTQS); the
 * index is bits [LOG2SIZE-1:0] and the wrap flag bit LOG2SIZE; empty when index and wrap are
 * equal, full when the indices are equal and the wraps differ, so all 2^N entries are usable.
 */
import type { SmmuConfig } from './config.js';
import { idr0, idr1, idr3, idr5 } from './config.js';

export const Reg = {
  IDR0: 0x00, IDR1: 0x04, IDR2: 0x08, IDR3: 0x0c, IDR4: 0x10, IDR5: 0x14, IIDR: 0x18, AIDR: 0x1c,
  CR0: 0x20, CR0ACK: 0x24, CR1: 0x28, CR2: 0x2c, STATUSR: 0x40, GBPA: 0x44, AGBPA: 0x48,
  IRQ_CTRL: 0x50, IRQ_CTRLACK: 0x54, GERROR: 0x60, GERRORN: 0x64,
  GERROR_IRQ_CFG0: 0x68, GERROR_IRQ_CFG1: 0x70, GERROR_IRQ_CFG2: 0x74,
  STRTAB_BASE: 0x80, STRTAB_BASE_CFG: 0x88, CMDQ_BASE: 0x90, CMDQ_PROD: 0x98, CMDQ_CONS: 0x9c,
  EVENTQ_BASE: 0xa0, EVENTQ_PROD: 0xa8, EVENTQ_CONS: 0xac,
  EVENTQ_IRQ_CFG0: 0xb0, EVENTQ_IRQ_CFG1: 0xb8, EVENTQ_IRQ_CFG2: 0xbc,
  PRIQ_BASE: 0xc0, PRIQ_PROD: 0xc8, PRIQ_CONS: 0xcc, PRIQ_IRQ_CFG0: 0xd0, PRIQ_IRQ_CFG1: 0xd8, PRIQ_IRQ_CFG2: 0xdc,
} as const;
export const PAGE1 = 0x10000;

export const CR0_SMMUEN = 1 << 0, CR0_PRIQEN = 1 << 1, CR0_EVENTQEN = 1 << 2, CR0_CMDQEN = 1 << 3, CR0_ATSCHK = 1 << 4;
export const GBPA_ABORT = 1 << 20, GBPA_UPDATE = 1 << 31;
export const IRQ_CTRL_GERROR_IRQEN = 1 << 0, IRQ_CTRL_PRIQ_IRQEN = 1 << 1, IRQ_CTRL_EVENTQ_IRQEN = 1 << 2;
export const GERROR_CMDQ_ERR = 1 << 0, GERROR_EVENTQ_ABT_ERR = 1 << 2, GERROR_PRIQ_ABT_ERR = 1 << 3;
export const GERROR_MSI_CMDQ_ABT_ERR = 1 << 4, GERROR_MSI_EVENTQ_ABT_ERR = 1 << 5, GERROR_MSI_GERROR_ABT_ERR = 1 << 7;
export const GERROR_SFM_ERR = 1 << 8;
/** PROD.OVFLG / CONS.OVACKFLG (Linux `Q_OVERFLOW_FLAG`). */
export const Q_OVERFLOW_FLAG = 2 ** 31;
/** CMDQ_CONS.ERR [30:24] (Linux `CMDQ_CONS_ERR`). */
export const CONS_ERR_SHIFT = 24;

/** Writable bits of each 32-bit register (page-0 offsets; 64-bit registers as two words). */
const WRITE_MASK: Record<number, number> = {
  [Reg.CR0]: 0x1df, [Reg.CR1]: 0xfff, [Reg.CR2]: 0x7, [Reg.IRQ_CTRL]: 0x7,
  [Reg.GERRORN]: 0x1fd,
  [Reg.GERROR_IRQ_CFG0]: 0xfffffffc, [Reg.GERROR_IRQ_CFG0 + 4]: 0xfffff, [Reg.GERROR_IRQ_CFG1]: 0xffffffff, [Reg.GERROR_IRQ_CFG2]: 0x3f,
  [Reg.STRTAB_BASE]: 0xffffffc0, [Reg.STRTAB_BASE + 4]: 0x400fffff, [Reg.STRTAB_BASE_CFG]: 0x307ff,
  [Reg.CMDQ_BASE]: 0xffffffff, [Reg.CMDQ_BASE + 4]: 0x400fffff, [Reg.CMDQ_PROD]: 0xfffff,
  [Reg.EVENTQ_BASE]: 0xffffffff, [Reg.EVENTQ_BASE + 4]: 0x400fffff, [Reg.EVENTQ_CONS]: 0x800fffff,
  [Reg.EVENTQ_IRQ_CFG0]: 0xfffffffc, [Reg.EVENTQ_IRQ_CFG0 + 4]: 0xfffff, [Reg.EVENTQ_IRQ_CFG1]: 0xffffffff, [Reg.EVENTQ_IRQ_CFG2]: 0x3f,
  [Reg.PRIQ_BASE]: 0xffffffff, [Reg.PRIQ_BASE + 4]: 0x400fffff, [Reg.PRIQ_CONS]: 0x800fffff,
  [Reg.PRIQ_IRQ_CFG0]: 0xfffffffc, [Reg.PRIQ_IRQ_CFG0 + 4]: 0xfffff, [Reg.PRIQ_IRQ_CFG1]: 0xffffffff, [Reg.PRIQ_IRQ_CFG2]: 0x3f,
};
// Queue base bits [4:0] are LOG2SIZE and [51:5] ADDR: the low word mask keeps both (Linux Q_BASE_*).

/** One queue's geometry from its BASE register. */
export interface QueueGeometry { base: number; log2size: number }

export class SmmuRegisters {
  /** Page-0 register words, by offset / 4. */
  readonly words = new Uint32Array(0x100 / 4);

  constructor(readonly config: SmmuConfig) {
    const w = this.words;
    w[Reg.IDR0 / 4] = idr0(config);
    w[Reg.IDR1 / 4] = idr1(config);
    w[Reg.IDR3 / 4] = idr3(config);
    w[Reg.IDR5 / 4] = idr5(config);
    w[Reg.AIDR / 4] = config.fwb ? 2 : 0; // SMMUv3.2 when S2FWB is offered (IHI 0070 6.3.7 AIDR), assumed otherwise 3.0
    w[Reg.GBPA / 4] = 0x1000; // SHCFG = use incoming, no abort (QEMU SMMU_GBPA_RESET_VAL)
  }

  get(off: number): number { return this.words[off / 4]! >>> 0; }
  set(off: number, v: number): void { this.words[off / 4] = v >>> 0; }

  /** A 64-bit register as an address-sized number from bits [51:0] (flags above are dropped). */
  get64(off: number): number { return (this.get(off + 4) & 0xfffff) * 4294967296 + this.get(off); }

  /**
   * A software read of `size` (4 or 8) bytes at `offset` (page 0 or page 1): [bits 31:0, bits 63:32].
   * Unimplemented offsets read as zero (RES0).
   */
  read(offset: number, size: 4 | 8): [number, number] {
    const off = offset >= PAGE1 ? offset - PAGE1 : offset;
    if (off < 0 || off + size > 0x100 || off % size !== 0) return [0, 0];
    return [this.get(off), size === 8 ? this.get(off + 4) : 0];
  }

  /**
   * A software write; returns the page-0 offsets of the 32-bit registers written (the engine acts
   * on CR0, GERRORN, CMDQ_PROD, ...). Read-only and SMMU-owned registers ignore writes, except
   * that CMDQ_CONS and EVENTQ_PROD are writable while their queue is disabled.
   */
  write(offset: number, size: 4 | 8, lo: number, hi = 0): number[] {
    const off = offset >= PAGE1 ? offset - PAGE1 : offset;
    if (off < 0 || off + size > 0x100 || off % size !== 0) return [];
    const done: number[] = [];
    const one = (o: number, v: number): void => {
      v >>>= 0;
      const cr0 = this.get(Reg.CR0);
      if (o === Reg.GBPA) {
        // Only a write with UPDATE=1 changes GBPA; the update completes at once and UPDATE reads 0.
        if ((v & GBPA_UPDATE) !== 0) this.set(Reg.GBPA, v & 0x1f3f1f);
      } else if (o === Reg.CMDQ_CONS) {
        if ((cr0 & CR0_CMDQEN) === 0) this.set(o, (this.get(o) & 0x7f000000) | (v & 0xfffff));
      } else if (o === Reg.EVENTQ_PROD) {
        if ((cr0 & CR0_EVENTQEN) === 0) this.set(o, v & 0x800fffff);
      } else if (o === Reg.PRIQ_PROD) {
        if ((cr0 & CR0_PRIQEN) === 0) this.set(o, v & 0x800fffff);
      } else {
        const m = WRITE_MASK[o];
        if (m === undefined) return;
        this.set(o, v & m);
        if (o === Reg.CR0) this.set(Reg.CR0ACK, v & m);
        if (o === Reg.IRQ_CTRL) this.set(Reg.IRQ_CTRLACK, v & m);
      }
      done.push(o);
    };
    one(off, lo);
    if (size === 8) one(off + 4, hi);
    return done;
  }

  // -------------------------------------------------------------------------------------------
  // Queues
  // -------------------------------------------------------------------------------------------

  /** CMDQ_BASE / EVENTQ_BASE: ADDR [51:5] and LOG2SIZE [4:0] capped at the IDR1 maximum. */
  queue(baseOff: number, maxLog2: number): QueueGeometry {
    const lo = this.get(baseOff), hi = this.get(baseOff + 4);
    const log2size = Math.min(lo & 0x1f, maxLog2);
    const addr = (hi & 0xfffff) * 4294967296 + (lo - (lo & 0x1f));
    // The queue is aligned to its size (IHI 0070 6.3.x: ADDR bits below the size are treated as 0).
    const bytes = 2 ** log2size * (baseOff === Reg.EVENTQ_BASE ? 32 : 16);
    return { base: addr - (addr % Math.max(32, bytes)), log2size };
  }
  cmdq(): QueueGeometry { return this.queue(Reg.CMDQ_BASE, this.config.cmdqs); }
  eventq(): QueueGeometry { return this.queue(Reg.EVENTQ_BASE, this.config.eventqs); }

  /** GERROR bits that are active (GERROR != GERRORN). */
  activeErrors(): number { return (this.get(Reg.GERROR) ^ this.get(Reg.GERRORN)) & 0x1fd; }
  /** Raises a global error: toggles GERROR[bit] unless it is already active. Returns whether it toggled. */
  raiseError(bit: number): boolean {
    if ((this.activeErrors() & bit) !== 0) return false;
    this.set(Reg.GERROR, this.get(Reg.GERROR) ^ bit);
    return true;
  }
}

// Pointer arithmetic on PROD/CONS values (index + wrap in bits [log2size:0]).
export const qIndex = (p: number, log2: number): number => p % 2 ** log2;
export const qWrapIdx = (p: number, log2: number): number => p % 2 ** (log2 + 1);
export const qEmpty = (prod: number, cons: number, log2: number): boolean => qWrapIdx(prod, log2) === qWrapIdx(cons, log2);
export const qFull = (prod: number, cons: number, log2: number): boolean =>
  qIndex(prod, log2) === qIndex(cons, log2) && qWrapIdx(prod, log2) !== qWrapIdx(cons, log2);
/** p + 1 within index+wrap (the wrap bit toggles when the index wraps). */
export const qInc = (p: number, log2: number): number => (qWrapIdx(p, log2) + 1) % 2 ** (log2 + 1);
