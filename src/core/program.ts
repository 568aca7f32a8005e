import { AtomicOp, CmoOp, OpCode, type OpCode as OpCodeT } from './ops.js';
import { ATTRS_REGION_DEFAULT } from '../mem/mem-attrs.js';
import type { OpResult, ProgramOp } from './op-source.js';
import { TLBI_NAMES } from '../mmu/sysregs.js';

/**
 * An address as programs write it: a number (exact below 2^53), or a bigint for any 64-bit VA
 * (TTBR1 addresses, tagged pointers). Ops carry VA[51:0] in `addr` and VA[63:52] in `vaTop`.
 */
export type Addr = number | bigint;
const TWO52 = 2 ** 52;
function at(a: Addr): { addr: number; vaTop: number } {
  if (typeof a === 'number') {
    if (!(Number.isSafeInteger(a) && a >= 0)) throw new RangeError(`address ${a} must be a non-negative integer below 2^53 (use a bigint above)`);
    return a < TWO52 ? { addr: a, vaTop: 0 } : { addr: a - TWO52, vaTop: 1 };
  }
  if (a < 0n || a >= 1n << 64n) throw new RangeError(`address 0x${a.toString(16)} must be a 64-bit value`);
  return { addr: Number(a & ((1n << 52n) - 1n)), vaTop: Number(a >> 52n) };
}

/**
 * Helpers for writing programs: `const r = yield load(addr, 8)` gives the loaded bytes;
 * `yield store(addr, 8, 42)` posts a store (pass `{ wait: true }` to wait for it).
 */
export function load(addr: Addr, size: number, opts: { attrs?: number; wait?: boolean } = {}): ProgramOp {
  return { op: OpCode.Load, ...at(addr), size, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: opts.wait ?? true };
}

export function store(addr: Addr, size: number, value: number | bigint | Uint8Array, opts: { attrs?: number; wait?: boolean } = {}): ProgramOp {
  if (typeof value === 'bigint') {
    const v = BigInt.asUintN(64, value);
    return { op: OpCode.Store, ...at(addr), size, valueLo: Number(v & 0xffffffffn), valueHi: Number(v >> 32n), attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: opts.wait ?? false };
  }
  if (typeof value === 'number') {
    // Above 2^53 a number has lost its low bits already: a descriptor or any 64-bit value must come as a bigint or bytes.
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`store: value ${value} is not an exact non-negative integer (pass a bigint or bytes for 64-bit values)`);
    const lo = value % 4294967296 >>> 0;
    const hi = Math.floor(value / 4294967296) >>> 0;
    return { op: OpCode.Store, ...at(addr), size, valueLo: lo, valueHi: hi, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: opts.wait ?? false };
  }
  if (value.length !== size) throw new RangeError(`store: ${value.length} bytes given for a ${size}-byte store`);
  return { op: OpCode.Store, ...at(addr), size, bytes: value, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: opts.wait ?? false };
}

export function fetch(addr: Addr, size = 4, opts: { attrs?: number } = {}): ProgramOp {
  return { op: OpCode.Fetch, ...at(addr), size, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: true };
}

export type DcByVa = 'ivac' | 'cvac' | 'civac' | 'cvau' | 'cvap' | 'zva';
const DC_VA: Record<DcByVa, number> = { ivac: CmoOp.DC_IVAC, cvac: CmoOp.DC_CVAC, civac: CmoOp.DC_CIVAC, cvau: CmoOp.DC_CVAU, cvap: CmoOp.DC_CVAP, zva: CmoOp.DC_ZVA };

/** `DC <op>, Xt` by address: maintenance of the line (or DC ZVA block) holding `addr`, with the access's attributes. */
export function dc(op: DcByVa, addr: Addr, opts: { attrs?: number; wait?: boolean } = {}): ProgramOp {
  return { op: OpCode.Cmo, ...at(addr), size: 0, aux: DC_VA[op], attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: opts.wait ?? false };
}

/**
 * `DC ISW/CSW/CISW` on (level, set, way), encoded as the instruction's register operand is
 * (Arm ARM "DC CISW": Way in the top A = ceil(log2(ways)) bits of [31:0], Set from bit
 * log2(lineBytes), Level-1 in [3:1]). `setWayOperand` builds it from a geometry.
 */
export function dcSetWay(op: 'isw' | 'csw' | 'cisw', operand: number): ProgramOp {
  const code = op === 'isw' ? CmoOp.DC_ISW : op === 'csw' ? CmoOp.DC_CSW : CmoOp.DC_CISW;
  return { op: OpCode.Cmo, addr: operand, size: 0, aux: code, wait: false };
}

export function setWayOperand(level: number, set: number, way: number, geom: { ways: number; lineBytes: number }): number {
  const a = Math.ceil(Math.log2(geom.ways));
  const wayBits = a === 0 ? 0 : way * 2 ** (32 - a);
  return wayBits + set * geom.lineBytes + (level - 1) * 2;
}

/** `IC IVAU, Xt` (by address), `IC IALLU` or `IC IALLUIS`. */
export function ic(op: 'ivau' | 'iallu' | 'ialluis', addr: Addr = 0): ProgramOp {
  const code = op === 'ivau' ? CmoOp.IC_IVAU : op === 'iallu' ? CmoOp.IC_IALLU : CmoOp.IC_IALLUIS;
  return { op: OpCode.Cmo, ...at(addr), size: 0, aux: code, wait: false };
}

/** `MRS Xt, <reg>`: reads a system register the platform derives (CLIDR_EL1, CTR_EL0, ...); the value comes back. */
export function mrs(reg: number): ProgramOp { return { op: OpCode.SysRegRead, addr: reg, size: 0, wait: true }; }
export function dmb(): ProgramOp { return barrier(OpCode.Dmb); }
export function dsb(): ProgramOp { return barrier(OpCode.Dsb); }
export function isb(): ProgramOp { return barrier(OpCode.Isb); }
export function compute(cycles: number): ProgramOp { return { op: OpCode.Compute, addr: cycles, size: 0 }; }
/** `MSR <reg>, Xt`: takes effect at the next context synchronization (ISB, exception entry or return). A bigint gives all 64 bits. */
export function sysRegWrite(reg: number, value: number | bigint): ProgramOp {
  if (typeof value === 'bigint') {
    return { op: OpCode.SysRegWrite, addr: reg, size: 8, valueLo: Number(value & 0xffffffffn), valueHi: Number((value >> 32n) & 0xffffffffn) };
  }
  return { op: OpCode.SysRegWrite, addr: reg, size: 8, valueLo: value % 4294967296 >>> 0, valueHi: Math.floor(value / 4294967296) >>> 0 };
}
/** `MSR` from 32-bit halves (e.g. the encoders in mmu/regime.ts). */
export function sysRegWriteHalves(reg: number, v: { lo: number; hi: number } | number): ProgramOp {
  return typeof v === 'number' ? sysRegWrite(reg, v) : { op: OpCode.SysRegWrite, addr: reg, size: 8, valueLo: v.lo >>> 0, valueHi: v.hi >>> 0 };
}

/**
 * `TLBI <op>[, Xt]`, e.g. tlbi('vae1is', va, asid), tlbi('ipas2e1is', ipa), tlbi('vmalle1'). The
 * invalidation completes, here and (IS forms) on every PE of the domain, at this PE's next DSB.
 */
export function tlbi(op: string, addr: Addr = 0, asid = 0): ProgramOp {
  const code = TLBI_NAMES[op.toLowerCase()];
  if (code === undefined) throw new RangeError(`tlbi: unknown operation '${op}' (one of ${Object.keys(TLBI_NAMES).join(', ')})`);
  return { op: OpCode.Tlbi, ...at(addr), size: 0, aux: code, valueLo: asid & 0xffff };
}

/** Exception entry to, or return to, `el` (a context synchronization event; a return clears the local monitor). */
export function exceptionLevel(el: 0 | 1 | 2): ProgramOp { return { op: OpCode.ExceptionLevel, addr: el, size: 0 }; }

function barrier(op: OpCodeT): ProgramOp { return { op, addr: 0, size: 0 }; }

/**
 * Polls `addr` until `until(result)` holds, and returns that result: use as
 * `const r = yield* spinUntil(flag, 4, (r) => r.value === 1)`. The polling loads are marked as
 * spinning, so a PE that spins forever is reported by the watchdog as stuck (a livelock).
 */
export function* spinUntil(addr: Addr, size: number, until: (r: OpResult) => boolean, opts: { attrs?: number } = {}): Generator<ProgramOp, OpResult, OpResult | undefined> {
  for (;;) {
    const r = yield { op: OpCode.Load, ...at(addr), size, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: true, spin: true };
    if (r !== undefined && until(r)) return r;
  }
}

const split = (v: number): { lo: number; hi: number } => ({ lo: v % 4294967296 >>> 0, hi: Math.floor(v / 4294967296) >>> 0 });

export type AtomicName = 'add' | 'clr' | 'eor' | 'set' | 'swp';
const ATOMIC: Record<AtomicName, number> = { add: AtomicOp.ADD, clr: AtomicOp.CLR, eor: AtomicOp.EOR, set: AtomicOp.SET, swp: AtomicOp.SWP };
interface AtomicOpts { attrs?: number; acquire?: boolean; release?: boolean }

/** LDADD/LDCLR/LDEOR/LDSET/SWP (with A/L forms through opts): `size` bytes (1, 2, 4, 8) at `addr`; the result is the old value. */
export function atomic(op: AtomicName, addr: Addr, size: number, operand: number, opts: AtomicOpts = {}): ProgramOp {
  const v = split(operand);
  return { op: OpCode.Atomic, ...at(addr), size, aux: ATOMIC[op], valueLo: v.lo, valueHi: v.hi, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: true, acquire: opts.acquire ?? false, release: opts.release ?? false };
}

/** CAS: if the `size` bytes at `addr` equal `expected`, writes `desired`; the result is the old value. */
export function cas(addr: Addr, size: number, expected: number, desired: number, opts: AtomicOpts = {}): ProgramOp {
  const d = split(desired), e = split(expected);
  return { op: OpCode.Atomic, ...at(addr), size, aux: AtomicOp.CAS, valueLo: d.lo, valueHi: d.hi, cmpLo: e.lo, cmpHi: e.hi, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: true, acquire: opts.acquire ?? false, release: opts.release ?? false };
}

/** LDXR (LDAXR with acquire): a load that sets the exclusive monitors. */
export function ldxr(addr: Addr, size: number, opts: AtomicOpts = {}): ProgramOp {
  return { op: OpCode.LoadExclusive, ...at(addr), size, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: true, acquire: opts.acquire ?? false };
}

/** STXR (STLXR with release): stores only if the monitors still hold the mark; the result value is 0 on success, 1 on failure. */
export function stxr(addr: Addr, size: number, value: number, opts: AtomicOpts = {}): ProgramOp {
  const v = split(value);
  return { op: OpCode.StoreExclusive, ...at(addr), size, valueLo: v.lo, valueHi: v.hi, attrs: opts.attrs ?? ATTRS_REGION_DEFAULT, wait: true, release: opts.release ?? false };
}

/** CLREX. */
export function clrex(): ProgramOp { return { op: OpCode.Clrex, addr: 0, size: 0 }; }
