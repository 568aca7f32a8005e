/**
 * core — the simulated PEs (first slice).
 *
 * Models: in-order issue of loads, stores, fetches, barriers, system-register reads and writes,
 * cache maintenance, atomics and exclusives, TLBI, exception entry/return and compute delays, with
 * a window of outstanding memory ops, same-address ordering and DSB/DMB semantics; with an MMU
 * (mmu.translation=vmsa) every access is translated (TLBs, walks sent through the caches, faults
 * given to the program or, at stage 2, to a handler hook). Two front ends: generator programs
 * and msgpackr traces (streamed a chunk at a time).
 * Leaves out (for now): exception vectors (a program sees a fault as the op's result), speculation,
 * store-to-load forwarding, register dependencies, more than one walk in flight per PE.
 */
export { OpCode, OP_NAMES, MAX_ACCESS_BYTES, isMemoryOp } from './ops.js';
export { Pe, ID_AA64ISAR0_EL1, ID_AA64ISAR1_EL1, ISAR0_ATOMIC_LSE, ISAR1_DPB_CVAP, type PeConfig } from './pe.js';
export { OpSlot, TraceOpSource, ProgramOpSource, type OpSource, type OpResult, type Program, type ProgramOp, type Fault, type MmuSyndrome } from './op-source.js';
export type { Stage2FaultHandler, Stage2Resolution, Stage2Emulation } from './pe.js';
export * as prog from './program.js';
export { TraceReader, TraceWriter, MemoryTrace, type TraceCursor, type TraceChunk, type TraceHeader } from './trace-format.js';
export { importLackey } from './lackey.js';
export { PrefetchingTraceCursor, openTraceCursors, tracePrefetchWanted } from './trace-prefetch.js';
