import { prog, type ProgramOp } from '../src/core/index.js';
import { DEVICE_nGnRE, NORMAL_NC_OSH, NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { Reg } from '../src/smmu/index.js';
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
