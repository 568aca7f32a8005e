/**
 * The operations a PE executes, shared by both front ends (programs and traces).
 * Numeric codes so that trace columns are plain typed arrays.
 */
export const OpCode = {
  /** Load `size` bytes (1..64) from `addr`. */
  Load: 0,
  /** Store `size` bytes (1..64) to `addr`; the data is `value` (little-endian, 8 bytes) repeated. */
  Store: 1,
  /** Instruction fetch of `size` bytes at `addr`. */
  Fetch: 2,
  /** DMB: later memory ops wait until earlier ones complete. */
  Dmb: 3,
  /** DSB: nothing later issues until every earlier op has completed. */
  Dsb: 4,
  /** ISB: waits for earlier system-register writes to take effect. */
  Isb: 5,
  /** Write system register number `addr` with `value`. */
  SysRegWrite: 6,
  /** Spend `addr` cycles computing. */
  Compute: 7,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

export const OP_NAMES: readonly string[] = ['load', 'store', 'fetch', 'dmb', 'dsb', 'isb', 'sysreg-write', 'compute'];

/** Ops that move data through the memory system. */
export function isMemoryOp(op: number): boolean {
  return op === OpCode.Load || op === OpCode.Store || op === OpCode.Fetch;
}

export const MAX_ACCESS_BYTES = 64;
