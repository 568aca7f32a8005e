/**
 * smmu — an SMMUv3 (IHI 0070) translation engine with nested stages, as a library.
 *
 * Models (phase 1, functional, no timing): STE/CD/L1 descriptor, command and event record formats
 * (decode + encode, field positions checked against Linux arm-smmu-v3.h and QEMU
 * smmuv3-common.h / smmuv3-internal.h); the register file (IDR0..5 from `SmmuConfig`, CR0/CR0ACK,
 * CR1, CR2, GBPA, IRQ_CTRL, GERROR/GERRORN, STRTAB_BASE/_CFG, CMDQ and EVENTQ bases and
 * pointers with page-1 copies); linear and 2-level stream tables; linear and 2-level CD tables
 * with substreams; stage 1, stage 2 and nested translation through the MMU's walker (in nested
 * mode the CD and L1CD addresses, TTB0/TTB1 and every stage-1 table address are IPAs, 24 reads for
 * a cold 4x4 walk); the architectural events with S2/CLASS/IPA; a configuration cache, IOTLBs
 * (mmu `Tlb`) and walk caches (mmu `WalkCache`) emptied only by commands; command queue
 * consumption with CERROR_ILL/ABT and GERROR/GERRORN; event queue writes with overflow; the
 * stall model with RESUME/STALL_TERM under IDR0.STALL_MODEL 0b00, 0b01 and 0b10 (stall forced: CD.S=0
 * and STE.S2S=0 are C_BAD_CD / C_BAD_STE, every translation-related fault stalls); broadcast TLB
 * maintenance (IDR0.BTM, `SmmuEngine.broadcastTlbi`: a PE's IS TLBIs reach the IOTLBs and walk
 * caches unless CR2.PTM=1); stats per stream and per VMID.
 *
 * Runs anywhere: plain data in and out, memory only through `SmmuMemory`. Translations can be
 * stepped read by read (`SmmuEngine.begin/supply`), and `SmmuHost` (host.ts) runs the engine behind
 * a timed protocol, on the simulation's thread or in a piscina worker (`smmu.threads`, `armsim run
 * --smmu-threads 1`) with byte-identical results: devices ask the host, every descriptor read is
 * performed on the main thread at its own cycle, results arrive when due, and software models
 * reach the registers and commands through `SmmuControl` (synchronous calls in the worker case).
 *
 * Phase 2a: every SMMU memory access carries its attributes (CR1.TABLE_x and QUEUE_x, STE.S1Cxx, the
 * walk attributes, CMD_SYNC MSIAttr), and `PathMemory` sends it down the coherent path (through
 * the PEs' caches) or the non-coherent one (memory at the PoC) from IDR0.COHACC and those
 * attributes; `DmaMaster` runs copy/fill/checksum jobs by StreamID/SubstreamID and IOVA on the
 * System's event queue with a translation latency (per translation and per descriptor read on a
 * miss) and a per-beat data latency; faults end the job with the event the engine recorded.
 * `StreamDevice` streams reads or writes over an IOVA range at a request rate with up to N requests
 * in flight (same latency model; stats: requests, bytes, IOTLB hits, faults, latency, bandwidth).
 *
 * Commands take time through the host (`SmmuHost.doorbell`: one command per smmu.commandCycles,
 * CMDQ_CONS moving as they complete; `processCommands` alone still consumes at once).
 *
 * Leaves out: a per-command-kind cost (every command costs the same), ATS/ATC and the PRI queue, AFFD, CR0.VMW, AArch32 and big-endian tables,
 * Secure/Realm streams, MSIs for GERROR/event interrupts (counted as wired), event merging,
 * conflict events. See engine.ts for the detailed list.
 */
export { getField, setField, getAddr, setAddr, wordsFromHex, hexFromWords, hexAddr, type Dword } from './bits.js';
export {
  STE_BYTES, CD_BYTES, STE_FIELDS, CD_FIELDS, SteConfig, S1Dss, decodeSte, encodeSte, decodeCd, encodeCd,
  decodeL1Std, encodeL1Std, decodeL1Cd, encodeL1Cd, cdLeafSplit,
  type Ste, type SteField, type Cd, type CdField, type L1Std, type L1Cd,
} from './formats.js';
export {
  CMD_BYTES, CmdOp, CError, CERROR_NAMES, SyncCs, ResumeAction, decodeCommand, encodeCommand,
  type CmdOpName, type CmdFields, type SmmuCommand,
} from './commands.js';
export { EVT_BYTES, EvtType, EvtClass, EVENT_FIELDS, eventName, newEvent, encodeEvent, decodeEvent, type EventRecord, type EvtName } from './events.js';
export { DEFAULT_SMMU_CONFIG, resolveSmmuConfig, idr0, idr1, idr3, idr5, type SmmuConfig } from './config.js';
export {
  Reg, PAGE1, SmmuRegisters, CR0_SMMUEN, CR0_EVENTQEN, CR0_CMDQEN, CR0_PRIQEN, CR0_ATSCHK, GBPA_ABORT, GBPA_UPDATE,
  IRQ_CTRL_GERROR_IRQEN, IRQ_CTRL_EVENTQ_IRQEN, GERROR_CMDQ_ERR, GERROR_EVENTQ_ABT_ERR, GERROR_MSI_CMDQ_ABT_ERR,
  Q_OVERFLOW_FLAG, qIndex, qEmpty, qFull, qInc,
} from './registers.js';
export { StoreMemory, PathMemory, SmmuMemoryStats, isCoherentAccess, type SmmuMemory } from './memory.js';
export { DmaMaster, DmaStats, DEFAULT_DMA_CONFIG, resolveDmaConfig, type DmaConfig, type DmaJobSpec, type DmaJobResult, type DmaFault, type DmaOp } from './dma.js';
export { StreamDevice, StreamStats, type StreamSpec, type StreamRequest } from './stream-device.js';
export {
  SmmuEngine, SmmuAccess, SmmuStats, SmmuStreamStats, SmmuVmidStats,
  type SmmuRequest, type SmmuResult, type SmmuStatus, type SmmuCompletion,
} from './engine.js';
export { enableSmmu, cr1Of, writeWords, commandSlots, drainEvents, type SmmuLayout } from './driver.js';
export {
  SmmuHost, SmmuCore, SmmuWorkerError, type SmmuControl, type TranslateClient, type HostTiming, type HostOptions,
} from './host.js';
