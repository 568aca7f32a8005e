import type { TraceCursor } from './trace-format.js';
import { OpCode } from './ops.js';
import { mod } from '../sim/index.js';
import { ATTRS_REGION_DEFAULT } from '../mem/mem-attrs.js';

/**
 * The PE's current operation, filled in by an op source. One per PE, reused for every op,
 * so the trace path allocates nothing.
 */
export class OpSlot {
  op: number = OpCode.Compute;
  /** The address (a VA when the PE translates): bits [51:0] of it, exact. */
  addr = 0;
  /** VA[63:52] (TTBR1 addresses, tagged pointers); 0 for physical and small addresses. */
  vaTop = 0;
  size = 0;
  valueLo = 0;
  valueHi = 0;
  /** Store data for a program op that gives bytes rather than a value (length = size). */
  bytes: Uint8Array | undefined = undefined;
  /** Packed memory attributes for this access (programs may set them until the MMU lands); ATTRS_REGION_DEFAULT = the region's. */
  attrs = ATTRS_REGION_DEFAULT;
  /** A program wants the result before it continues (loads by default). */
  wait = false;
  /** A polling load (a spin-wait): it does not count as forward progress for the watchdog. */
  spin = false;
  /** The CmoOp of a maintenance op, the AtomicOp of an atomic. */
  aux = 0;
  /** CAS: the compare value's 32-bit halves. */
  cmpLo = 0;
  cmpHi = 0;
  /** Acquire (later accesses wait for it) and release (it waits for earlier ones) semantics. */
  acquire = false;
  release = false;
  /**
   * The source that last set the fields its ops never vary (TraceOpSource: vaTop, bytes, attrs,
   * wait, spin, aux, acquire, release), so that it need not write them again for every op. Only
   * valid while one source fills the slot: the PE clears it whenever it hands the slot to a
   * source (start, runHandler), and restoring a saved slot restores the marker with the fields.
   */
  constantsFrom: OpSource | undefined = undefined;
}

/**
 * Why an access failed: `external-abort` (no region decodes it, or the region refused an atomic),
 * `unsupported-atomic` (DFSC 0b110101, "Unsupported Exclusive or Atomic access"), `alignment`,
 * `undefined-instruction` (an LSE atomic without FEAT_LSE, DC CVAP without FEAT_DPB: nothing was
 * translated or accessed).
 */
export type Fault = 'external-abort' | 'unsupported-atomic' | 'alignment' | 'undefined-instruction'
  | 'translation' | 'access-flag' | 'permission' | 'address-size' | 'walk-external-abort';

/** The exception an MMU fault raised: its syndrome as software would read it. */
export interface MmuSyndrome {
  /** What kind of fault it was (the op's result carries the same). */
  readonly fault: Fault;
  /** 1: stage-1 fault (taken to EL1); 2: stage-2 fault (taken to EL2). */
  readonly stage: 1 | 2;
  readonly level: number;
  /** ESR_ELx bits [31:0] (EC, IL, ISS with DFSC/IFSC, WnR, S1PTW, CM). */
  readonly esr: number;
  /** FAR_ELx: the faulting VA as 32-bit halves. */
  readonly farLo: number;
  readonly farHi: number;
  /** HPFAR_EL2 for stage-2 faults (FIPA = IPA[51:12] << 4), else 0. */
  readonly hpfar: number;
  /** The IPA of a stage-2 fault (the table's for S1PTW), else -1. */
  readonly ipa: number;
  readonly s1ptw: boolean;
}

/** What a program receives back for an op it waited for. */
export interface OpResult {
  /** false when the access ended in an external abort (no region decodes the address). */
  readonly ok: boolean;
  readonly fault: Fault | undefined;
  /** For MMU faults: the syndrome. */
  readonly syndrome?: MmuSyndrome | undefined;
  /** The loaded bytes (a copy; length = size). Empty for non-loads. */
  readonly bytes: Uint8Array;
  /** The first 8 loaded bytes as a little-endian unsigned number (exact below 2^53). */
  readonly value: number;
  /** The same value as two exact 32-bit halves. */
  readonly valueLo: number;
  readonly valueHi: number;
  /** Cycle at which the op completed. */
  readonly cycle: number;
}

/**
 * Where a PE's ops come from. `next` fills the slot and returns false at the end. `deliver` hands a
 * waited-for result back (programs); trace sources ignore it.
 */
export interface OpSource {
  next(slot: OpSlot): boolean;
  deliver(result: OpResult): void;
  readonly label: string;
}

const OP_FETCH: number = OpCode.Fetch;

/** Replays one agent of a trace, a chunk at a time. */
export class TraceOpSource implements OpSource {
  private op: Uint8Array = new Uint8Array(0);
  private addr: Float64Array = new Float64Array(0);
  private size: Uint8Array = new Uint8Array(0);
  private lo: Uint32Array = new Uint32Array(0);
  private hi: Uint32Array = new Uint32Array(0);
  private i = 0;
  private n = 0;
  /** Optional address translation for traces of virtual addresses (folded into a region). */
  private readonly foldBase: number;
  private readonly foldSize: number;
  /** 1 / foldSize when that is exact (foldSize a power of two, as replay folds), else 0. */
  private readonly foldInv: number;

  constructor(private readonly cursor: TraceCursor, readonly label: string, fold?: { base: number; size: number }) {
    this.foldBase = fold?.base ?? 0;
    this.foldSize = fold?.size ?? 0;
    this.foldInv = this.foldSize > 0 && Number.isInteger(Math.log2(this.foldSize)) ? 1 / this.foldSize : 0;
  }

  next(slot: OpSlot): boolean {
    if (this.i === this.n && !this.nextChunk()) return false;
    const i = this.i++;
    const op = this.op[i]!;
    slot.op = op;
    let a = this.addr[i]!;
    if (this.foldSize !== 0 && op <= OP_FETCH) {
      // a mod foldSize; with a power-of-two size, a * (1 / size) is a / size exactly and the
      // multiply is much cheaper than the division in mod().
      a = this.foldBase + (this.foldInv !== 0 ? a - Math.floor(a * this.foldInv) * this.foldSize : mod(a, this.foldSize));
    }
    slot.addr = a;
    slot.size = this.size[i]!;
    slot.valueLo = this.lo[i]!;
    slot.valueHi = this.hi[i]!;
    // The rest is the same for every trace op: written once while this source alone fills the slot.
    if (slot.constantsFrom !== this) this.setConstants(slot);
    return true;
  }

  private setConstants(slot: OpSlot): void {
    slot.vaTop = 0;
    slot.bytes = undefined;
    slot.attrs = ATTRS_REGION_DEFAULT;
    slot.wait = false;
    slot.spin = false;
    slot.aux = 0;
    slot.acquire = false; slot.release = false;
    slot.constantsFrom = this;
  }

  deliver(): void { /* traces do not look at results */ }

  /** Moves to the next non-empty chunk; false at the end. Out of line: next() stays small enough to inline. */
  private nextChunk(): boolean {
    for (;;) {
      const c = this.cursor.next();
      if (c === null) return false;
      this.op = c.op; this.addr = c.addr; this.size = c.size; this.lo = c.valueLo; this.hi = c.valueHi;
      this.i = 0; this.n = c.length;
      if (this.n !== 0) return true;
    }
  }
}

/** An op a program yields. Build them with the helpers in program.ts. */
export interface ProgramOp {
  readonly op: number;
  readonly addr: number;
  /** VA[63:52] when `addr` holds VA[51:0] (program helpers split a bigint VA). */
  readonly vaTop?: number;
  readonly size: number;
  readonly valueLo?: number;
  readonly valueHi?: number;
  readonly bytes?: Uint8Array;
  readonly attrs?: number;
  readonly wait?: boolean;
  readonly spin?: boolean;
  readonly aux?: number;
  readonly cmpLo?: number;
  readonly cmpHi?: number;
  readonly acquire?: boolean;
  readonly release?: boolean;
}

export type Program = Generator<ProgramOp, void, OpResult | undefined>;

/** Runs a generator program: each yielded op is executed; waited-for results are sent back in. */
export class ProgramOpSource implements OpSource {
  private pending: OpResult | undefined = undefined;
  private started = false;

  constructor(private readonly gen: Program, readonly label: string) {}

  next(slot: OpSlot): boolean {
    const r = this.started ? this.gen.next(this.pending) : this.gen.next(undefined);
    this.started = true;
    this.pending = undefined;
    if (r.done) return false;
    const o = r.value;
    slot.op = o.op; slot.addr = o.addr; slot.vaTop = o.vaTop ?? 0; slot.size = o.size;
    slot.valueLo = o.valueLo ?? 0; slot.valueHi = o.valueHi ?? 0;
    slot.bytes = o.bytes; slot.attrs = o.attrs ?? ATTRS_REGION_DEFAULT;
    slot.wait = o.wait ?? (o.op === OpCode.Load || o.op === OpCode.Fetch || o.op >= OpCode.SysRegRead && o.op <= OpCode.StoreExclusive);
    slot.spin = o.spin ?? false;
    slot.aux = o.aux ?? 0;
    slot.cmpLo = o.cmpLo ?? 0; slot.cmpHi = o.cmpHi ?? 0;
    slot.acquire = o.acquire ?? false; slot.release = o.release ?? false;
    slot.constantsFrom = undefined;
    return true;
  }

  deliver(result: OpResult): void { this.pending = result; }
}
