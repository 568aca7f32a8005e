/**
 * core — the simulated PEs (first slice).
 *
 * Models: in-order issue of loads, stores, fetches, barriers, system-register writes and compute
 * delays, with a window of outstanding memory ops, same-address ordering and DSB/DMB semantics;
 * two front ends: generator programs and msgpackr traces (streamed a chunk at a time).
 * Leaves out (for now): the MMU (PEs issue physical addresses), caches, exceptions, atomics.
 */
export { OpCode, OP_NAMES, MAX_ACCESS_BYTES, isMemoryOp } from './ops.js';
export { Pe, type PeConfig } from './pe.js';
export { OpSlot, TraceOpSource, ProgramOpSource, type OpSource, type OpResult, type Program, type ProgramOp } from './op-source.js';
export * as prog from './program.js';
export { TraceReader, TraceWriter, MemoryTrace, type TraceCursor, type TraceChunk, type TraceHeader } from './trace-format.js';
export { importLackey } from './lackey.js';
