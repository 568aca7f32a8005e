import { prog, type ProgramOp } from '../src/core/index.js';
import { DEVICE_nGnRE, NORMAL_NC_OSH, NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { PageTableBuilder } from '../src/mmu/index.js';
import { Reg, encodeCd, encodeSte, writeWords, type SmmuLayout } from '../src/smmu/index.js';
import type { System } from '../src/platform/index.js';

/** CMDQ_CONS.ERR (bits 30:24) and the index with its wrap bit (bits 19:0). */
const CONS_ERR = 0x7f00_0000, Q_PTR = 0xf_ffff;

/**
 * Attributes of a driver's stores of what the SMMU reads (commands, descriptors): Normal WB on an
 * IO-coherent SMMU; Normal-NC without COHACC (Linux: dma_alloc_coherent memory is mapped
 * non-cacheable for a non-coherent device), so the stores reach memory where the SMMU reads.
 */
export const swAttrs = (cohacc: boolean): number => (cohacc ? NORMAL_WB_RWA_ISH : NORMAL_NC_OSH);

/**
 * What a driver does after its command stores and DSB: writes CMDQ_PROD (a Device store to the
 * register window at `regsPa`; the SMMU's doorbell) and polls CMDQ_CONS with Device loads until the
 * SMMU has consumed up to PROD — the CMD_SYNC's completion — or stopped on an error (CONS.ERR).
 * The SMMU consumes one command per smmu.commandCycles (SmmuHost.doorbell). Returns the commands
 * consumed and the final CONS.
 */
export function* ringAndWait(sys: System, regsPa: number, prod: number): Generator<ProgramOp, { consumed: number; cons: number }, unknown> {
  const { engine, host } = sys.smmu;
  const before = host.commandsConsumed;
  yield prog.store(regsPa + Reg.CMDQ_PROD, 4, prod, { attrs: DEVICE_nGnRE, wait: true });
  engine.mmioWrite(Reg.CMDQ_PROD, 4, prod);
  host.doorbell();
  for (;;) {
    yield prog.load(regsPa + Reg.CMDQ_CONS, 4, { attrs: DEVICE_nGnRE });
    const cons = engine.mmioRead(Reg.CMDQ_CONS)[0];
    if ((cons & CONS_ERR) !== 0 || (cons & Q_PTR) === (prod & Q_PTR)) return { consumed: host.commandsConsumed - before, cons };
  }
}

/**
 * The SMMU's stream table and queues as the host kernel of the SMMU scenarios places them, 2 MiB
 * into DRAM (at `ramBase`), with the table and queue attributes an IO-coherent SMMU (COHACC) gets.
 */
export function hostLayout(sys: System, ramBase: number, log2: { strtab: number; cmdq: number; evtq: number }): SmmuLayout {
  return {
    strtab: ramBase + 0x20_0000, strtabLog2: log2.strtab, cmdq: ramBase + 0x22_0000, cmdqLog2: log2.cmdq, evtq: ramBase + 0x23_0000, evtqLog2: log2.evtq,
    attrs: sys.smmu.engine.config.cohacc ? 'wb-ish' : 'nc',
  };
}

/** The guest of the nested-stream scenarios: 16 MiB of RAM at IPA 1 GiB, held 16 MiB into DRAM, its CD table at IPA 1 GiB + 4 KiB. */
export const GUEST_IPA = 0x4000_0000, GUEST_BYTES = 0x100_0000, GUEST_CD_IPA = GUEST_IPA + 0x1000;

/** The PA holding guest IPA `ipa` (in GUEST_IPA .. + GUEST_BYTES), with DRAM at `ramBase`. */
export const guestPaOf = (ramBase: number) => (ipa: number): number => ipa - GUEST_IPA + ramBase + 0x100_0000;

/**
 * One nested stream as the host kernel and its guest set it up before the run (through
 * sys.coherent): the host's stage 2 maps the guest's RAM; stream `sid`'s STE is nested (Config
 * 0b111) with VMID `vmid` and the guest's CD table pointer (an IPA); the guest's CD (ASID `asid`)
 * points at stage-1 tables in guest memory, which the caller fills with `s1.map`. `pa` turns a
 * guest IPA into the PA holding it.
 */
export function nestedStream(
  sys: System, ramBase: number, ids: { sid: number; vmid: number; asid: number }, log2: { strtab: number; cmdq: number; evtq: number },
): { layout: SmmuLayout; pa: (ipa: number) => number; s1: PageTableBuilder } {
  const pa = guestPaOf(ramBase);
  const layout = hostLayout(sys, ramBase, log2);
  const store = sys.coherent;
  const s2 = new PageTableBuilder(store, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: ramBase + 0x40_0000, allocLimit: ramBase + 0x50_0000 });
  s2.map({ va: GUEST_IPA, oa: pa(GUEST_IPA), size: GUEST_BYTES, s2: {} });
  writeWords(store, layout.strtab + ids.sid * 64, encodeSte({
    V: 1, Config: 7, S1ContextPtr: GUEST_CD_IPA, S1CIR: 1, S1COR: 1, S1CSH: 3,
    S2VMID: ids.vmid, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: s2.root,
  }));
  const s1 = new PageTableBuilder(store, { stage: 1, granule: '4K', inputBits: 48, allocBase: GUEST_IPA + 0x10_0000, allocLimit: GUEST_IPA + 0x20_0000, physOf: pa });
  writeWords(store, pa(GUEST_CD_IPA), encodeCd({
    T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: ids.asid, TTB0: s1.root, MAIR0: 0xff,
  }));
  return { layout, pa, s1 };
}
