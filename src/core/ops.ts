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
  /**
   * Cache maintenance `valueLo` (a CmoOp) on the line or block holding `addr` (by VA), or on the
   * set/way `addr` encodes as the DC xSW register operand does (Level [3:1], set and way above).
   */
  Cmo: 8,
  /** Read system register number `addr` (the ID registers the hierarchy derives); result in `value`. */
  SysRegRead: 9,
  /** LSE atomic `aux` (an AtomicOp) of `size` bytes at `addr` with operand `value` (CAS: compare `cmp`); result: the old value. */
  Atomic: 10,
  /** LDXR: a load that marks the granule for the exclusive monitors. */
  LoadExclusive: 11,
  /** STXR: a store that happens only if the monitors still hold the mark; result 0 (done) or 1 (failed). */
  StoreExclusive: 12,
  /** CLREX: clears this PE's local monitor. */
  Clrex: 13,
  /**
   * Exception entry (to a higher EL) or return (to a lower EL): the PE runs at EL `addr` (0, 1 or 2)
   * afterwards. A context synchronization event (system-register writes take effect); a return
   * clears the local exclusive monitor (Arm ARM B2.9.5: an exception return clears it).
   */
  ExceptionLevel: 14,
  /** TLBI `aux` (a TlbiOp) with the VA or IPA in `addr` (VA[63:52] in `vaTop`) and the ASID in `valueLo`; complete at the next DSB. */
  Tlbi: 15,
} as const;
export type OpCode = (typeof OpCode)[keyof typeof OpCode];

export const OP_NAMES: readonly string[] = ['load', 'store', 'fetch', 'dmb', 'dsb', 'isb', 'sysreg-write', 'compute', 'cmo', 'sysreg-read', 'atomic', 'ldxr', 'stxr', 'clrex', 'exception-level', 'tlbi'];

/** LSE atomic operations (Arm ARM C6.2 LDADD, LDCLR, LDEOR, LDSET, SWP, CAS). */
export const AtomicOp = { ADD: 0, CLR: 1, EOR: 2, SET: 3, SWP: 4, CAS: 5 } as const;
export type AtomicOp = (typeof AtomicOp)[keyof typeof AtomicOp];

/**
 * Cache maintenance operations (Arm ARM D7.5 "Cache maintenance instructions"). By VA: to the
 * point of coherency (IVAC, CVAC, CIVAC), unification (CVAU, IVAU) or persistence (CVAP), and
 * DC ZVA. By set/way (ISW, CSW, CISW): the issuing PE's own caches, one level. IALLU/IALLUIS:
 * every line of the instruction caches of this PE / of the Inner Shareable domain.
 */
export const CmoOp = {
  DC_IVAC: 0, DC_CVAC: 1, DC_CIVAC: 2, DC_CVAU: 3, DC_CVAP: 4, DC_ZVA: 5,
  IC_IVAU: 6, IC_IALLU: 7, IC_IALLUIS: 8,
  DC_ISW: 9, DC_CSW: 10, DC_CISW: 11,
} as const;
export type CmoOp = (typeof CmoOp)[keyof typeof CmoOp];
export const CMO_NAMES: readonly string[] = ['dc ivac', 'dc cvac', 'dc civac', 'dc cvau', 'dc cvap', 'dc zva', 'ic ivau', 'ic iallu', 'ic ialluis', 'dc isw', 'dc csw', 'dc cisw'];
/** Operations that name an address (the PE orders them after earlier accesses to its bytes). */
export const cmoIsByVa = (op: number): boolean => op <= CmoOp.IC_IVAU;
export const cmoIsSetWay = (op: number): boolean => op >= CmoOp.DC_ISW;

/** Ops that move data through the memory system. */
export function isMemoryOp(op: number): boolean {
  return op === OpCode.Load || op === OpCode.Store || op === OpCode.Fetch;
}

export const MAX_ACCESS_BYTES = 64;
