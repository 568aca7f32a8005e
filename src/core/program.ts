import { OpCode, type OpCode as OpCodeT } from './ops.js';
import type { OpResult, ProgramOp } from './op-source.js';

/**
 * Helpers for writing programs: `const r = yield load(addr, 8)` gives the loaded bytes;
 * `yield store(addr, 8, 42)` posts a store (pass `{ wait: true }` to wait for it).
 */
export function load(addr: number, size: number, opts: { attrs?: number; wait?: boolean } = {}): ProgramOp {
  return { op: OpCode.Load, addr, size, attrs: opts.attrs ?? 0, wait: opts.wait ?? true };
}

export function store(addr: number, size: number, value: number | Uint8Array, opts: { attrs?: number; wait?: boolean } = {}): ProgramOp {
  if (typeof value === 'number') {
    const lo = value % 4294967296 >>> 0;
    const hi = Math.floor(value / 4294967296) >>> 0;
    return { op: OpCode.Store, addr, size, valueLo: lo, valueHi: hi, attrs: opts.attrs ?? 0, wait: opts.wait ?? false };
  }
  if (value.length !== size) throw new RangeError(`store: ${value.length} bytes given for a ${size}-byte store`);
  return { op: OpCode.Store, addr, size, bytes: value, attrs: opts.attrs ?? 0, wait: opts.wait ?? false };
}

export function fetch(addr: number, size = 4): ProgramOp { return { op: OpCode.Fetch, addr, size, wait: true }; }
export function dmb(): ProgramOp { return barrier(OpCode.Dmb); }
export function dsb(): ProgramOp { return barrier(OpCode.Dsb); }
export function isb(): ProgramOp { return barrier(OpCode.Isb); }
export function compute(cycles: number): ProgramOp { return { op: OpCode.Compute, addr: cycles, size: 0 }; }
export function sysRegWrite(reg: number, value: number): ProgramOp {
  return { op: OpCode.SysRegWrite, addr: reg, size: 8, valueLo: value % 4294967296 >>> 0, valueHi: Math.floor(value / 4294967296) >>> 0 };
}

function barrier(op: OpCodeT): ProgramOp { return { op, addr: 0, size: 0 }; }

/**
 * Polls `addr` until `until(result)` holds, and returns that result: use as
 * `const r = yield* spinUntil(flag, 4, (r) => r.value === 1)`. The polling loads are marked as
 * spinning, so a PE that spins forever is reported by the watchdog as stuck (a livelock).
 */
export function* spinUntil(addr: number, size: number, until: (r: OpResult) => boolean, opts: { attrs?: number } = {}): Generator<ProgramOp, OpResult, OpResult | undefined> {
  for (;;) {
    const r = yield { op: OpCode.Load, addr, size, attrs: opts.attrs ?? 0, wait: true, spin: true };
    if (r !== undefined && until(r)) return r;
  }
}
