/**
 * The VMSAv8-64 translation table walk for the EL1&0 regime, stage 1 and stage 2, as an explicit
 * step machine: the walker never reads memory itself. It names the next descriptor to read
 * (`readPa`, with the attributes of that read in `readAttrs`), the caller fetches 8 bytes however
 * it likes (functionally, or timed through the caches) and hands the two halves back with
 * `supply(lo, hi)`, until `done`.
 *
 * Protocol:
 *   w.start(regime, vaHi, vaLo, access, el);
 *   while (!w.done) { const pa = w.nextRead(); ...read 8 bytes at pa with w.readAttrs...; w.supply(lo, hi); }
 *   if (w.faulted) use w.fault  else use w.result
 * `start` may finish at once (a fault found from the registers alone, or no stage enabled).
 * `result` and `fault` belong to the walker and are overwritten by the next `start`.
 *
 * Input address convention: the VA is passed as two 32-bit halves (`vaHi` = VA[63:32],
 * `vaLo` = VA[31:0]), so TTBR1 addresses and tagged pointers are exact. Output addresses (IPA, PA)
 * are numbers below 2^52.
 *
 * Nested walks: with stage 2 on, every stage-1 descriptor address is an IPA that a stage-2 walk
 * translates before the descriptor is read, and the stage-1 output IPA is translated by a final
 * stage-2 walk: (S1 levels + 1) * (S2 levels + 1) - 1 reads, 24 for 4 x 4 levels.
 *
 * Order of checks follows the ASL (AArch64.S1Translate/AArch64.S1Walk, AArch64.S2Translate/
 * AArch64.S2Walk; v8.5 AArch64.TranslationTableWalk): TxSZ, VA range and EPD (Translation, level 0),
 * TTBR base (Address size, level 0); per descriptor: invalid or unsupported block (Translation),
 * next-table or output address beyond the output size (Address size); at the leaf AF=0 (Access
 * flag), then permissions (Permission). A stage-2 fault during a stage-1 table access is reported
 * as a stage-2 fault with S1PTW=1 and the table's IPA.
 *
 * Hot path: no allocation per step or per walk; numbers only; addresses by multiplication.
 *
 * Hardware Access flag and dirty state updates (FEAT_HAFDBS, `MmuFeatures.hafdbs` with
 * TCR_EL1.HA/HD and VTCR_EL2.HA/HD): a leaf with AF=0 or a write to a writable-clean one (DBM)
 * makes the walker ask for a descriptor update (`writeNeeded`: an atomic compare-and-swap the
 * caller performs), after which the walk goes on; if the descriptor changed meanwhile the walk
 * starts again (the ASL's repeat loop around AArch64.MemSwapTableDesc).
 *
 * Not modelled (named so nobody relies on them): PAN,
 * FEAT_E0PD, FEAT_LPA2 (level -1), FEAT_S1PIE/S2PIE/POE, TLB conflict
 * aborts, alignment faults. The Contiguous bit is reported; it faults only as
 * `MmuFeatures.contiguousBitFault` says.
 */
import {
  ATTR_FAULT_S1_PERMISSION, ATTR_FAULT_S2_PERMISSION, ATTR_NORMAL, ATTR_NOTAGACCESS, AccessKind,
  decodeMair, decodeS2MemAttr, effectiveAttrs, type AttrContext,
} from './attrs.js';
import {
  DescType, POW2, blockSupported, contiguousLog2, descAF, descAP, descAddress, descAttrIndx, descContiguous, descDBM, descFnXS,
  descNG, descPXN, descS2AP, descS2MemAttr, descS2XN, descSH, descType, descUXN, levelShift, tableAP, tablePXN, tableUXN,
} from './descriptors.js';
import { AccessType, FaultType, WalkFault } from './faults.js';
import type { Regime, S1Half } from './regime.js';
import { packTableAttrs, tableAttrsAP, tableAttrsPXN, tableAttrsUXN, type WalkCache } from './tlb.js';
import type { PhysicalStore } from '../mem/index.js';

// ---------------------------------------------------------------------------------------------
// Permissions, packed: what each EL may do with the page after all checks of one or both stages
// ---------------------------------------------------------------------------------------------

export const PERM_R1 = 1 << 0;
export const PERM_W1 = 1 << 1;
export const PERM_X1 = 1 << 2;
export const PERM_R0 = 1 << 3;
export const PERM_W0 = 1 << 4;
export const PERM_X0 = 1 << 5;
export const PERM_ALL = 0x3f;

/**
 * Stage-1 permissions for EL1&0 (`AArch64.S1DirectBasePermissions`, no PAN/PIE):
 * AP[2:1] 00 EL1 RW; 01 EL1 RW, EL0 RW; 10 EL1 RO; 11 EL1 RO, EL0 RO. APTable[0] removes EL0
 * access, APTable[1] removes write access. UXN/PXN (ORed with UXNTable/PXNTable by the caller).
 * EL1 may not execute what EL0 may write (px = !(PXN || uw)); SCTLR_EL1.WXN removes execute
 * from writable memory at each EL. EL0 execute does not need EL0 read (execute-only memory).
 */
export function s1Permissions(ap: number, apTable: number, uxn: number, pxn: number, wxn: boolean): number {
  let pw = (ap & 2) === 0;
  let ur = (ap & 1) !== 0;
  let uw = ap === 0b01;
  if ((apTable & 1) !== 0) { ur = false; uw = false; }
  if ((apTable & 2) !== 0) { pw = false; uw = false; }
  let ux = uxn === 0;
  let px = pxn === 0 && !uw;
  if (wxn) {
    if (pw) px = false;
    if (uw) ux = false;
  }
  return PERM_R1 | (pw ? PERM_W1 : 0) | (px ? PERM_X1 : 0) | (ur ? PERM_R0 : 0) | (uw ? PERM_W0 : 0) | (ux ? PERM_X0 : 0);
}

/**
 * Stage-2 permissions (`AArch64.S2CheckPermissions`): S2AP[0] read, S2AP[1] write, both ELs;
 * XN[1:0] in the FEAT_XNX encoding (see `descS2XN`): 00 both execute, 01 EL0 only, 10 neither,
 * 11 EL1 only.
 */
export function s2Permissions(s2ap: number, xn: number): number {
  let p = 0;
  if ((s2ap & 1) !== 0) p |= PERM_R1 | PERM_R0;
  if ((s2ap & 2) !== 0) p |= PERM_W1 | PERM_W0;
  if (xn === 0) p |= PERM_X1 | PERM_X0;
  else if (xn === 1) p |= PERM_X0;
  else if (xn === 3) p |= PERM_X1;
  return p;
}

/**
 * -1 if `perms` allow `access` at `el`, else the WnR to report: a fetch needs only execute
 * permission, a read read, a write write; a read-modify-write needs both and reports WnR=1 only
 * when the read part was allowed (ASL: `fault.write` for RCW/atomic accesses).
 */
export function permissionFault(perms: number, access: AccessType, el: number): number {
  const p = el === 0 ? perms >>> 3 : perms;
  switch (access) {
    case AccessType.Read: return (p & PERM_R1) !== 0 ? -1 : 0;
    case AccessType.Write: return (p & PERM_W1) !== 0 ? -1 : 1;
    case AccessType.Fetch: return (p & PERM_X1) !== 0 ? -1 : 0;
    default: return (p & PERM_R1) === 0 ? 0 : (p & PERM_W1) === 0 ? 1 : -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Results
// ---------------------------------------------------------------------------------------------

/** A successful translation. Fields of a stage that is off keep their reset values (-1 / 0). */
export class WalkResult {
  /** Output physical address of the input address. */
  pa = 0;
  /** Stage-1 output (the IPA; equal to `pa` without stage 2). */
  ipa = 0;
  /** Final packed memory attributes (`effectiveAttrs`). */
  attrs = 0;
  /** PERM_* after both stages, for both ELs (the TLB caches this). */
  perms = 0;
  /** Stage-1 attributes before combination (`decodeMair`), 0 when stage 1 is off. */
  s1Attrs = 0;
  /** Stage-2 attributes before combination (`decodeS2MemAttr`), 0 when stage 2 is off. */
  s2Attrs = 0;
  s1Level = -1;
  s1BlockBytes = 0;
  s2Level = -1;
  s2BlockBytes = 0;
  /** The size of the translation a combined TLB entry may cover: the smaller translated size, 0 if neither stage is on. */
  pageBytes = 0;
  /** Stage-1 nG=0, or stage 1 off: not tagged with an ASID. */
  global = true;
  /** ASID the entry is tagged with when `global` is false (TCR_EL1.A1 selects the TTBR). */
  asid = 0;
  /** VMID of the regime (VTTBR_EL2.VMID) when EL2 is enabled, else 0. */
  vmid = 0;
  s1Contiguous = false;
  s2Contiguous = false;
  s1Dbm = false;
  s2Dbm = false;
  /** Descriptors read by this walk. */
  reads = 0;
}

const PH_DONE = 0, PH_S1 = 1, PH_S2 = 2, PH_UPDATE = 3;
const FOR_TABLE = 0, FOR_FINAL = 1;
/** Descriptor bits a hardware update sets or clears: AF (bit 10); AP[2] (stage 1) / S2AP[1] (stage 2), bit 7. */
const BIT_AF = 1 << 10, BIT_7 = 1 << 7;
/** What a walk does once a descriptor update has gone through (see update()). */
const AFTER_S1_LEAF = 0, AFTER_S2_FINAL = 1, AFTER_S2_TABLE = 2, AFTER_S1_PAGE_DIRTY = 3, AFTER_FAULT = 4;

/** Bits [msb:lsb] of the 64-bit value hi:lo all equal v (empty range: true). */
function bitsAllEqual(hi: number, lo: number, msb: number, lsb: number, v: number): boolean {
  if (lsb > msb) return true;
  if (msb >= 32) {
    const m = maskBits(msb - 32, Math.max(lsb, 32) - 32);
    if (((hi & m) >>> 0) !== (v ? m : 0)) return false;
  }
  if (lsb < 32) {
    const m = maskBits(Math.min(msb, 31), lsb);
    if (((lo & m) >>> 0) !== (v ? m : 0)) return false;
  }
  return true;
}
/** Mask of bits [msb:lsb] within one 32-bit word, unsigned. */
function maskBits(msb: number, lsb: number): number {
  const width = msb - lsb + 1;
  return ((POW2[width]! - 1) * POW2[lsb]!) >>> 0;
}
/** Bits [n-1:0] of hi:lo as a number (n <= 52). */
function lowBits(hi: number, lo: number, n: number): number {
  if (n <= 32) return (lo >>> 0) % POW2[n]!;
  return ((hi >>> 0) % POW2[n - 32]!) * 4294967296 + (lo >>> 0);
}

/**
 * One walker. Keep one per requester (PE, SMMU context); reuse it for every walk.
 */
export class TranslationWalker {
  /** No descriptor read is pending: `result` or `fault` holds the outcome. */
  done = true;
  faulted = false;
  readonly result = new WalkResult();
  readonly fault = new WalkFault();
  /** The pending read: descriptor PA (8-byte aligned), -1 when done. */
  readPa = -1;
  /** Final packed attributes of the pending read (walk attributes from TCR_EL1/VTCR_EL2, combined with stage 2 for a nested stage-1 read). */
  readAttrs = 0;
  /** Stage (1 or 2) and lookup level of the descriptor being read. */
  readStage = 0;
  readLevel = 0;
  /**
   * The pending access is a descriptor update (FEAT_HAFDBS), not a read: compare the 8 bytes at
   * `readPa` with casOld and, if equal, write casNew, atomically (AArch64.MemSwapTableDesc);
   * then supply() what memory held before. A mismatch (another agent changed the descriptor since
   * the walk read it) restarts the walk, as the ASL's repeat loop does.
   */
  writeNeeded = false;
  casOldLo = 0; casOldHi = 0;
  casNewLo = 0; casNewHi = 0;
  /** Descriptor updates that went through, and walks restarted by a failed one, over all walks. */
  updates = 0;
  restarts = 0;
  /**
   * A cache of table descriptors of both stages: a walk starts at the deepest cached level and
   * caches the table descriptors it reads. Keys: VA[51:0] with VA[55:52], ASID and VMID for
   * stage 1 (the form TLBI by VA names), the IPA and VMID for stage 2.
   */
  walkCache: WalkCache | undefined = undefined;
  /** Levels skipped through the walk cache, over all walks. */
  walkCacheHits = 0;
  private wcVa = 0;
  private wcTop = 0;

  private rg: Regime | null = null;
  private phase = PH_DONE;
  private access: AccessType = AccessType.Read;
  private el = 1;
  private isFetch = false;
  private h: S1Half | null = null;
  private s1In = 0;
  private s1Lvl = 0;
  private s1Table = 0;
  private tblAp = 0;
  private tblUxn = 0;
  private tblPxn = 0;
  private s1Perms = PERM_ALL;
  private ipa = 0;
  private s2Purpose = FOR_FINAL;
  private s2In = 0;
  private s2Lvl = 0;
  private s2Table = 0;
  /** The walk's inputs, to restart it after a failed descriptor update. */
  private vaHi = 0;
  private vaLo = 0;
  /**
   * The stage-2 leaf that translated the IPA of the stage-1 table being read (the last FOR_TABLE
   * stage-2 walk): a stage-1 descriptor update needs its write permission (S1PTW otherwise). Its
   * IPA needs no copy: until the next stage-2 walk, s2In and s2Purpose still describe that walk.
   */
  private tblS2Pa = 0;
  private tblS2Lo = 0;
  private tblS2Hi = 0;
  private tblS2Lvl = 0;
  private tblS2Perms = 0;
  /** What to do when the update in flight has gone through (AFTER_*), and what it needs. */
  private after = AFTER_S1_LEAF;
  private afterPa = 0;
  private afterAttrs = 0;
  private afterPerms = 0;
  private afterFaultStage = 0;
  private afterFaultLevel = 0;
  private afterFaultWnr = 0;
  /** The stage-1 leaf update waiting for a stage-2 dirty update of its table's page (AFTER_S1_PAGE_DIRTY). */
  private s1UpdPa = 0;
  private s1UpdAttrs = 0;
  private s1UpdOldLo = 0;
  private s1UpdNewLo = 0;
  private s1UpdHi = 0;
  private s1UpdThen = AFTER_S1_LEAF;
  private readonly ctx: AttrContext = {
    access: AccessKind.Data, el2Enabled: false, hcrVM: false, hcrDC: false, hcrDCT: false, hcrFWB: false,
    hcrCD: false, hcrID: false, hcrPTW: false, sctlrM: false, sctlrC: false, sctlrI: false, s1: 0, s2: 0,
  };

  /** The PA of the next descriptor to read, or -1 when done. */
  nextRead(): number {
    return this.readPa;
  }

  /**
   * Begins translating the VA `vaHi:vaLo` for `access` from `el` (0 or 1) in `regime`.
   * `regime` must stay unchanged until the walk is done.
   */
  start(regime: Regime, vaHi: number, vaLo: number, access: AccessType, el: 0 | 1): void {
    this.begin(regime, vaHi, vaLo, access, el);
    this.result.reads = 0;
  }

  /** start() without resetting the read count (a restart after a failed update goes on counting). */
  private begin(regime: Regime, vaHi: number, vaLo: number, access: AccessType, el: 0 | 1): void {
    this.vaHi = vaHi; this.vaLo = vaLo;
    this.writeNeeded = false;
    this.rg = regime;
    this.access = access;
    this.el = el;
    this.isFetch = access === AccessType.Fetch;
    this.done = false;
    this.faulted = false;
    this.phase = PH_DONE;
    this.readPa = -1;
    const r = this.result;
    r.pa = 0; r.ipa = 0; r.attrs = 0; r.perms = 0; r.s1Attrs = 0; r.s2Attrs = 0;
    r.s1Level = -1; r.s1BlockBytes = 0; r.s2Level = -1; r.s2BlockBytes = 0; r.pageBytes = 0;
    r.global = true; r.asid = 0; r.vmid = regime.el2Enabled ? regime.s2.vmid : 0;
    r.s1Contiguous = false; r.s2Contiguous = false; r.s1Dbm = false; r.s2Dbm = false;
    this.s1Perms = PERM_ALL;
    const c = this.ctx;
    c.el2Enabled = regime.el2Enabled; c.hcrVM = regime.hcrVM; c.hcrDC = regime.hcrDC; c.hcrDCT = regime.hcrDCT;
    c.hcrFWB = regime.hcrFWB; c.hcrCD = regime.hcrCD; c.hcrID = regime.hcrID; c.hcrPTW = regime.hcrPTW;
    c.sctlrM = regime.sctlrM; c.sctlrC = regime.sctlrC; c.sctlrI = regime.sctlrI; c.s1 = 0; c.s2 = 0;

    const bit55 = (vaHi >>> 23) & 1;
    const h = bit55 === 1 ? regime.s1.half1 : regime.s1.half0;
    this.h = h;
    // AddrTop: TBI (data only when TBIDn=1) makes VA[63:56] ignored, with stage 1 on or off.
    const top = h.tbi && !(this.isFetch && h.tbid) ? 55 : 63;

    if (!regime.s1Enabled) {
      // Stage 1 off (v8.0 AArch64.TranslateAddressS1Off; AArch64.S1DisabledOutput): VA[top:PAMax]
      // must be zero, else an Address size fault at level 0; the IPA is the VA.
      const paBits = regime.features.paBits;
      if (!bitsAllEqual(vaHi, vaLo, top, paBits, 0)) { this.s1Fault(FaultType.AddressSize, 0, this.access === AccessType.Write); return; }
      this.ipa = lowBits(vaHi, vaLo, paBits);
      if (regime.s2Enabled) this.beginS2(this.ipa, FOR_FINAL);
      else this.finish(this.ipa, this.finalAttrs(0, 0));
      return;
    }

    const wr = this.access === AccessType.Write;
    if (h.txszFault) { this.s1Fault(FaultType.Translation, 0, wr); return; }
    // AArch64.VAIsOutOfRange: VA[top:inputsize] must all equal VA[55].
    if (!bitsAllEqual(vaHi, vaLo, top, h.inputBits, bit55)) { this.s1Fault(FaultType.Translation, 0, wr); return; }
    if (h.epd) { this.s1Fault(FaultType.Translation, 0, wr); return; }
    if (h.baseOutOfRange) { this.s1Fault(FaultType.AddressSize, 0, wr); return; }
    this.s1In = lowBits(vaHi, vaLo, h.inputBits);
    this.s1Lvl = h.startLevel;
    this.s1Table = h.tableBase;
    this.tblAp = 0; this.tblUxn = 0; this.tblPxn = 0;
    r.asid = regime.s1.asid;
    const wc = this.walkCache;
    if (wc !== undefined) {
      this.wcVa = lowBits(vaHi, vaLo, 52);
      this.wcTop = (vaHi >>> 20) & 0xf;
      const slot = wc.lookupDeepest(1, this.wcVa, this.wcTop, r.asid, r.vmid, h.startLevel, h.granuleBits);
      if (slot >= 0) {
        const lvl = wc.levelOf(slot) + 1, t = wc.tableAttrs[slot]!;
        this.walkCacheHits += lvl - h.startLevel;
        this.s1Lvl = lvl;
        this.s1Table = wc.nextTable[slot]!;
        this.tblAp = tableAttrsAP(t); this.tblUxn = tableAttrsUXN(t); this.tblPxn = tableAttrsPXN(t);
      }
    }
    this.s1Next();
  }

  /** Hands the walker the descriptor it asked for (`lo` = bits [31:0], `hi` = bits [63:32]). */
  supply(lo: number, hi: number): void {
    if (this.phase === PH_UPDATE) { this.updated(lo >>> 0, hi >>> 0); return; }
    this.result.reads++;
    if (this.phase === PH_S2) this.s2Descriptor(lo, hi);
    else if (this.phase === PH_S1) this.s1Descriptor(lo, hi);
    else throw new Error('TranslationWalker.supply: no read is pending');
  }

  /**
   * The pending descriptor read ended in an External abort: a synchronous External abort on the
   * translation table walk (DFSC 0b0101LL) at the level being read. A stage-2 descriptor read is
   * a stage-2 fault (S1PTW when it was translating a stage-1 table's IPA); a stage-1 table read a
   * stage-1 fault (AArch64.S1Walk/S2Walk: "if IsFault(walkaddress)...": the fault keeps the
   * stage and level of the walk).
   */
  abortRead(): void {
    if (this.phase === PH_UPDATE) {
      // The update's write aborted: a synchronous External abort on the walk at that descriptor.
      this.writeNeeded = false;
      // A stage-2 descriptor being updated is the last stage-2 walk's leaf, so s2Purpose and s2In
      // name it: S1PTW for a stage-1 table's page (its AF, or its dirty state for a stage-1 update).
      if (this.readStage === 2) this.s2Fault(FaultType.WalkExternalAbort, this.readLevel, 0);
      else this.s1Fault(FaultType.WalkExternalAbort, this.readLevel, false);
      return;
    }
    this.result.reads++;
    if (this.phase === PH_S2) this.s2Fault(FaultType.WalkExternalAbort, this.s2Lvl, 0);
    else if (this.phase === PH_S1) this.s1Fault(FaultType.WalkExternalAbort, this.s1Lvl, false);
    else throw new Error('TranslationWalker.abortRead: no read is pending');
  }

  // -------------------------------------------------------------------------------------------
  // Stage 1
  // -------------------------------------------------------------------------------------------

  private s1Next(): void {
    const h = this.h!;
    const gb = h.granuleBits;
    const entries = this.s1Lvl === h.startLevel ? POW2[h.startIndexBits]! : POW2[gb - 3]!;
    const index = Math.floor(this.s1In / POW2[levelShift(gb, this.s1Lvl)]!) % entries;
    const descIpa = this.s1Table + index * 8;
    if (this.rg!.s2Enabled) this.beginS2(descIpa, FOR_TABLE);
    else this.setRead(descIpa, 1, this.s1Lvl, h.walkAttrsNoS2);
  }

  private s1Descriptor(lo: number, hi: number): void {
    const rg = this.rg!, h = this.h!;
    const descPa = this.readPa, descAttrs = this.readAttrs;
    const gb = h.granuleBits, lvl = this.s1Lvl;
    const wr = this.access === AccessType.Write;
    const type = descType(lo, lvl, blockSupported(gb, lvl, rg.features.paBits === 52));
    if (type === DescType.Invalid) { this.s1Fault(FaultType.Translation, lvl, wr); return; }
    if (type === DescType.Table) {
      const next = descAddress(lo, hi, gb, gb);
      if (next >= POW2[h.outputBits]!) { this.s1Fault(FaultType.AddressSize, lvl, wr); return; }
      if (!h.hpd) {
        // Hierarchical permissions accumulate down the walk (Arm ARM D8.4.2 "Hierarchical permissions").
        this.tblAp |= tableAP(hi);
        this.tblUxn |= tableUXN(hi);
        this.tblPxn |= tablePXN(hi);
      }
      this.s1Table = next;
      this.s1Lvl = lvl + 1;
      this.walkCache?.insert(1, lvl, gb, this.wcVa, this.wcTop, this.result.asid, this.result.vmid, next, packTableAttrs(this.tblAp, this.tblUxn, this.tblPxn));
      this.s1Next();
      return;
    }
    const shift = levelShift(gb, lvl);
    // AArch64.ContiguousBitFaults: a contiguous span larger than the input range (IMPLEMENTATION DEFINED).
    if (descContiguous(hi) === 1 && rg.features.contiguousBitFault && shift + contiguousLog2(gb, lvl) > h.inputBits) {
      this.s1Fault(FaultType.Translation, lvl, wr);
      return;
    }
    const oa = descAddress(lo, hi, gb, shift);
    if (oa >= POW2[h.outputBits]!) { this.s1Fault(FaultType.AddressSize, lvl, wr); return; }
    // FEAT_HAFDBS (AArch64.S1Translate): with TCR_EL1.HA an AF=0 leaf is no fault, the walk sets
    // AF; with HD a write through a writable-clean leaf (DBM=1, AP[2]=1) is permitted and clears
    // AP[2]. The permissions the walk returns are those of the descriptor as it is written back,
    // so a read leaves a clean page read-only in the TLB and a later write walks again to dirty it.
    const afSet = descAF(lo) === 0;
    if (afSet && !rg.s1.ha) { this.s1Fault(FaultType.AccessFlag, lvl, wr); return; }
    const dirty = rg.s1.hd && (wr || this.access === AccessType.ReadWrite) && descDBM(hi) === 1 && (lo & BIT_7) !== 0;
    const newLo = ((lo | (afSet ? BIT_AF : 0)) & ~(dirty ? BIT_7 : 0)) >>> 0;
    const perms = s1Permissions(descAP(newLo), this.tblAp, descUXN(hi) | this.tblUxn, descPXN(hi) | this.tblPxn, rg.sctlrWXN);
    const wnr = permissionFault(perms, this.access, this.el);
    if (wnr >= 0) { this.s1PermissionFault(lvl, wnr === 1, afSet, descPa, descAttrs, lo, hi); return; }
    const s1Attrs = decodeMair(rg.mair[descAttrIndx(lo)]!, descSH(lo), rg.attrOpts);
    // S1CheckPermissions: an instruction fetch from stage-1 Device may be a Permission fault
    // (CONSTRAINED UNPREDICTABLE, AttrOptions.instrFetchFromDevice).
    if (this.isFetch && (s1Attrs & ATTR_NORMAL) === 0 && rg.attrOpts.instrFetchFromDevice === 'fault') {
      this.s1PermissionFault(lvl, false, afSet, descPa, descAttrs, lo, hi);
      return;
    }
    const r = this.result;
    r.s1Level = lvl;
    r.s1BlockBytes = POW2[shift]!;
    r.global = descNG(lo) === 0;
    r.s1Contiguous = descContiguous(hi) === 1;
    r.s1Dbm = descDBM(hi) === 1;
    r.s1Attrs = s1Attrs;
    this.s1Perms = perms;
    this.ipa = oa + this.s1In % POW2[shift]!;
    if (newLo !== lo) { this.updateS1Leaf(descPa, descAttrs, lo, hi, newLo, AFTER_S1_LEAF); return; }
    this.s1LeafDone();
  }

  /** The stage-1 leaf is settled (and written back if it had to be): on to stage 2 or the end. */
  private s1LeafDone(): void {
    if (this.rg!.s2Enabled) this.beginS2(this.ipa, FOR_FINAL);
    else this.finish(this.ipa, this.finalAttrs(this.result.s1Attrs, 0));
  }

  /**
   * A stage-1 Permission fault at a leaf whose AF the walk would set: the AF is written first when
   * `afUpdateOnPermissionFault` says so (Unpredictable_AFUPDATE), then the fault is taken.
   */
  private s1PermissionFault(lvl: number, write: boolean, afSet: boolean, pa: number, attrs: number, lo: number, hi: number): void {
    if (afSet && this.rg!.features.afUpdateOnPermissionFault) {
      this.afterFaultStage = 1; this.afterFaultLevel = lvl; this.afterFaultWnr = write ? 1 : 0;
      this.updateS1Leaf(pa, attrs, lo, hi, (lo | BIT_AF) >>> 0, AFTER_FAULT);
      return;
    }
    this.s1Fault(FaultType.Permission, lvl, write);
  }

  /**
   * Writes a stage-1 leaf back with its new low half. With stage 2 on, the write needs stage-2
   * write permission for the table's page (AArch64.CheckAndUpdateDescriptor: the update's
   * second-stage walk is a write, hwupdatewalk): a page writable-clean at stage 2 (DBM with
   * VTCR_EL2.HD) is made dirty first; any other page without write permission is a stage-2
   * Permission fault with S1PTW and WnR=1.
   */
  private updateS1Leaf(pa: number, attrs: number, lo: number, hi: number, newLo: number, then: number): void {
    const rg = this.rg!;
    if (rg.s2Enabled && (this.tblS2Perms & PERM_W1) === 0) {
      if (rg.s2.hd && descDBM(this.tblS2Hi) === 1) {
        this.s1UpdPa = pa; this.s1UpdAttrs = attrs; this.s1UpdOldLo = lo; this.s1UpdHi = hi; this.s1UpdNewLo = newLo; this.s1UpdThen = then;
        this.update(this.tblS2Pa, 2, this.tblS2Lvl, rg.s2.walkAttrs, this.tblS2Lo, this.tblS2Hi, (this.tblS2Lo | BIT_7) >>> 0, AFTER_S1_PAGE_DIRTY);
        return;
      }
      this.s2Fault(FaultType.Permission, this.tblS2Lvl, 1);      // the table page's walk: FOR_TABLE, s2In its IPA
      return;
    }
    this.update(pa, 1, this.s1Lvl, attrs, lo, hi, newLo, then);
  }

  /** Asks the caller to compare-and-swap the descriptor at `pa` (see writeNeeded); `after` says how the walk goes on. */
  private update(pa: number, stage: number, level: number, attrs: number, lo: number, hi: number, newLo: number, after: number): void {
    this.phase = PH_UPDATE;
    this.readPa = pa; this.readStage = stage; this.readLevel = level; this.readAttrs = attrs;
    this.writeNeeded = true;
    this.casOldLo = lo >>> 0; this.casOldHi = hi >>> 0; this.casNewLo = newLo >>> 0; this.casNewHi = hi >>> 0;
    this.after = after;
  }

  /** The update's compare-and-swap found `lo:hi` in memory. */
  private updated(lo: number, hi: number): void {
    this.writeNeeded = false;
    if (lo !== this.casOldLo || hi !== this.casOldHi) {
      // The descriptor changed since it was read: nothing was written; walk again from the start.
      this.restarts++;
      this.begin(this.rg!, this.vaHi, this.vaLo, this.access, this.el as 0 | 1);
      return;
    }
    this.updates++;
    switch (this.after) {
      case AFTER_S1_LEAF: this.s1LeafDone(); return;
      case AFTER_S2_FINAL: this.finish(this.afterPa, this.afterAttrs, this.afterPerms); return;
      case AFTER_S2_TABLE: this.setRead(this.afterPa, 1, this.s1Lvl, this.afterAttrs); return;
      case AFTER_S1_PAGE_DIRTY:
        // The table's page is now writable at stage 2: write the stage-1 leaf.
        this.tblS2Perms |= PERM_W1 | PERM_W0;
        this.tblS2Lo = this.casNewLo;
        this.update(this.s1UpdPa, 1, this.s1Lvl, this.s1UpdAttrs, this.s1UpdOldLo, this.s1UpdHi, this.s1UpdNewLo, this.s1UpdThen);
        return;
      default:                                                  // AFTER_FAULT: the AF is set, the fault stands
        if (this.afterFaultStage === 1) this.s1Fault(FaultType.Permission, this.afterFaultLevel, this.afterFaultWnr === 1);
        else this.s2Fault(FaultType.Permission, this.afterFaultLevel, this.afterFaultWnr);
    }
  }

  private s1Fault(type: FaultType, level: number, write: boolean): void {
    this.fault.set(type, level, 1, false, -1, write, this.isFetch);
    this.end(true);
  }

  // -------------------------------------------------------------------------------------------
  // Stage 2
  // -------------------------------------------------------------------------------------------

  private beginS2(ipa: number, purpose: number): void {
    const s2 = this.rg!.s2;
    this.s2Purpose = purpose;
    this.s2In = ipa;
    // AArch64.S2InvalidSL / S2InconsistentSL / TxSZ, then the IPA range: Translation, level 0.
    if (s2.configFault || ipa >= POW2[s2.inputBits]!) { this.s2Fault(FaultType.Translation, 0, -1); return; }
    if (s2.baseOutOfRange) { this.s2Fault(FaultType.AddressSize, 0, -1); return; }
    this.s2Lvl = s2.startLevel;
    this.s2Table = s2.tableBase;
    const wc = this.walkCache;
    if (wc !== undefined) {
      const slot = wc.lookupDeepest(2, ipa, 0, 0, s2.vmid, s2.startLevel, s2.granuleBits);
      if (slot >= 0) {
        const lvl = wc.levelOf(slot) + 1;
        this.walkCacheHits += lvl - s2.startLevel;
        this.s2Lvl = lvl;
        this.s2Table = wc.nextTable[slot]!;
      }
    }
    this.s2Next();
  }

  private s2Next(): void {
    const s2 = this.rg!.s2;
    const gb = s2.granuleBits;
    const entries = this.s2Lvl === s2.startLevel ? POW2[s2.startIndexBits]! : POW2[gb - 3]!;
    const index = Math.floor(this.s2In / POW2[levelShift(gb, this.s2Lvl)]!) % entries;
    this.setRead(this.s2Table + index * 8, 2, this.s2Lvl, s2.walkAttrs);
  }

  private s2Descriptor(lo: number, hi: number): void {
    const rg = this.rg!, s2 = rg.s2;
    const descPa = this.readPa, descAttrs = this.readAttrs;
    const gb = s2.granuleBits, lvl = this.s2Lvl;
    const type = descType(lo, lvl, blockSupported(gb, lvl, rg.features.paBits === 52));
    if (type === DescType.Invalid) { this.s2Fault(FaultType.Translation, lvl, -1); return; }
    if (type === DescType.Table) {
      // Stage-2 table descriptors carry no hierarchical attributes.
      const next = descAddress(lo, hi, gb, gb);
      if (next >= POW2[s2.outputBits]!) { this.s2Fault(FaultType.AddressSize, lvl, -1); return; }
      this.s2Table = next;
      this.s2Lvl = lvl + 1;
      this.walkCache?.insert(2, lvl, gb, this.s2In, 0, 0, s2.vmid, next, 0);
      this.s2Next();
      return;
    }
    const shift = levelShift(gb, lvl);
    if (descContiguous(hi) === 1 && rg.features.contiguousBitFault && shift + contiguousLog2(gb, lvl) > s2.inputBits) {
      this.s2Fault(FaultType.Translation, lvl, -1);
      return;
    }
    const oa = descAddress(lo, hi, gb, shift);
    if (oa >= POW2[s2.outputBits]!) { this.s2Fault(FaultType.AddressSize, lvl, -1); return; }
    // FEAT_HAFDBS at stage 2 (AArch64.S2Translate): with VTCR_EL2.HA the walk sets AF; with HD
    // a write through a writable-clean leaf (DBM=1, S2AP[1]=0) is permitted and sets S2AP[1]. A
    // stage-1 table read is a read here (its page is made dirty only if a stage-1 update writes it).
    const table = this.s2Purpose === FOR_TABLE;
    const afSet = descAF(lo) === 0;
    if (afSet && !s2.ha) { this.s2Fault(FaultType.AccessFlag, lvl, -1); return; }
    const dirty = !table && s2.hd && (this.access === AccessType.Write || this.access === AccessType.ReadWrite) && descDBM(hi) === 1 && (lo & BIT_7) === 0;
    const newLo = (lo | (afSet ? BIT_AF : 0) | (dirty ? BIT_7 : 0)) >>> 0;
    const perms = s2Permissions(descS2AP(newLo), descS2XN(hi, rg.features.featXNX));
    const opts = rg.attrOpts;
    const s2Attrs = decodeS2MemAttr(descS2MemAttr(lo), descSH(lo), rg.hcrFWB, opts.featXS && descFnXS(lo) === 1, opts);
    const pa = oa + this.s2In % POW2[shift]!;
    const c = this.ctx;
    if (table) {
      // A stage-1 table access is checked as a read at stage 2, whatever the original access.
      if ((perms & PERM_R1) === 0) { this.s2PermissionFault(lvl, 0, afSet, descPa, descAttrs, lo, hi); return; }
      c.access = AccessKind.Walk;
      c.s1 = this.h!.walkS1Attrs;
      c.s2 = s2Attrs;
      const a = effectiveAttrs(c, opts);
      // HCR_EL2.PTW=1 and the table is in stage-2 Device memory: stage-2 Permission fault at
      // the level of the stage-2 leaf (AArch64.S2CheckPermissions).
      if (a === ATTR_FAULT_S2_PERMISSION) { this.s2PermissionFault(lvl, 0, afSet, descPa, descAttrs, lo, hi); return; }
      this.tblS2Pa = descPa; this.tblS2Lo = newLo; this.tblS2Hi = hi >>> 0; this.tblS2Lvl = lvl;
      this.tblS2Perms = perms;
      if (newLo !== lo) { this.afterPa = pa; this.afterAttrs = a; this.update(descPa, 2, lvl, descAttrs, lo, hi, newLo, AFTER_S2_TABLE); return; }
      this.setRead(pa, 1, this.s1Lvl, a);
      return;
    }
    const wnr = permissionFault(perms, this.access, this.el);
    if (wnr >= 0) { this.s2PermissionFault(lvl, wnr, afSet, descPa, descAttrs, lo, hi); return; }
    const a = this.finalAttrs(this.result.s1Attrs, s2Attrs);
    if (a === ATTR_FAULT_S2_PERMISSION) { this.s2PermissionFault(lvl, 0, afSet, descPa, descAttrs, lo, hi); return; }
    // FEAT_MTE_PERM: a tag-checked data access to Allocation Tagged memory through a stage-2
    // NoTagAccess mapping is a stage-2 Permission fault (AArch64.S2CheckPermissions, s2tag_na).
    // Every access to Tagged memory counts as tag-checked here (the PE has no tag-check control).
    if (a >= 0 && (a & ATTR_NOTAGACCESS) !== 0) { this.s2PermissionFault(lvl, -1, afSet, descPa, descAttrs, lo, hi); return; }
    if (a === ATTR_FAULT_S1_PERMISSION) { this.s1Fault(FaultType.Permission, this.result.s1Level, false); return; }
    const r = this.result;
    r.s2Level = lvl;
    r.s2BlockBytes = POW2[shift]!;
    r.s2Contiguous = descContiguous(hi) === 1;
    r.s2Dbm = descDBM(hi) === 1;
    r.s2Attrs = s2Attrs;
    if (newLo !== lo) { this.afterPa = pa; this.afterAttrs = a; this.afterPerms = perms; this.update(descPa, 2, lvl, descAttrs, lo, hi, newLo, AFTER_S2_FINAL); return; }
    this.finish(pa, a, perms);
  }

  /** s1PermissionFault at stage 2 (`wnr` as s2Fault takes it). */
  private s2PermissionFault(lvl: number, wnr: number, afSet: boolean, pa: number, attrs: number, lo: number, hi: number): void {
    if (afSet && this.rg!.features.afUpdateOnPermissionFault) {
      this.afterFaultStage = 2; this.afterFaultLevel = lvl; this.afterFaultWnr = wnr;
      this.update(pa, 2, lvl, attrs, lo, hi, (lo | BIT_AF) >>> 0, AFTER_FAULT);
      return;
    }
    this.s2Fault(FaultType.Permission, lvl, wnr);
  }

  /**
   * `wnr`: -1 = the access's own write-ness (final IPA), else 0/1 as given. A fault on a stage-1
   * table's page (S1PTW) has WnR 0 for the table read and 1 for a hardware update's write.
   */
  private s2Fault(type: FaultType, level: number, wnr: number): void {
    const s1ptw = this.s2Purpose === FOR_TABLE;
    const write = s1ptw ? wnr === 1 : wnr === -1 ? this.access === AccessType.Write : wnr === 1;
    this.fault.set(type, level, 2, s1ptw, this.s2In, write, this.isFetch);
    this.end(true);
  }

  // -------------------------------------------------------------------------------------------

  private finalAttrs(s1Attrs: number, s2Attrs: number): number {
    const c = this.ctx;
    c.access = this.isFetch ? AccessKind.Fetch : AccessKind.Data;
    c.s1 = s1Attrs;
    c.s2 = s2Attrs;
    return effectiveAttrs(c, this.rg!.attrOpts);
  }

  private setRead(pa: number, stage: number, level: number, attrs: number): void {
    this.phase = stage === 1 ? PH_S1 : PH_S2;
    this.readPa = pa;
    this.readStage = stage;
    this.readLevel = level;
    this.readAttrs = attrs;
  }

  private finish(pa: number, attrs: number, s2Perms = PERM_ALL): void {
    const r = this.result;
    r.pa = pa;
    r.ipa = this.ipa;
    r.attrs = attrs;
    r.perms = this.s1Perms & s2Perms;
    r.pageBytes = r.s1BlockBytes === 0 ? r.s2BlockBytes : r.s2BlockBytes === 0 ? r.s1BlockBytes : Math.min(r.s1BlockBytes, r.s2BlockBytes);
    this.end(false);
  }

  private end(faulted: boolean): void {
    this.faulted = faulted;
    this.done = true;
    this.phase = PH_DONE;
    this.readPa = -1;
  }
}

// ---------------------------------------------------------------------------------------------
// Functional driver
// ---------------------------------------------------------------------------------------------

const SCRATCH = new Uint8Array(8);
const SCRATCH_VIEW = new DataView(SCRATCH.buffer);

/** Reads the little-endian descriptor at `pa` as two halves into `out` (allocation-free). */
export function readDescriptor(store: PhysicalStore, pa: number, out: { lo: number; hi: number }): void {
  store.read(pa, SCRATCH, 0, 8);
  out.lo = SCRATCH_VIEW.getUint32(0, true);
  out.hi = SCRATCH_VIEW.getUint32(4, true);
}

/**
 * Runs a whole walk with untimed reads from `store` (and the descriptor updates FEAT_HAFDBS asks
 * for, as untimed writes). Returns true on success (`w.result`), false on a fault (`w.fault`).
 */
export function translateFunctional(
  w: TranslationWalker, regime: Regime, store: PhysicalStore, vaHi: number, vaLo: number, access: AccessType, el: 0 | 1,
): boolean {
  w.start(regime, vaHi, vaLo, access, el);
  while (!w.done) {
    store.read(w.readPa, SCRATCH, 0, 8);
    const lo = SCRATCH_VIEW.getUint32(0, true), hi = SCRATCH_VIEW.getUint32(4, true);
    if (w.writeNeeded && lo === w.casOldLo && hi === w.casOldHi) {
      SCRATCH_VIEW.setUint32(0, w.casNewLo, true); SCRATCH_VIEW.setUint32(4, w.casNewHi, true);
      store.write(w.readPa, SCRATCH, 0, 8);
    }
    w.supply(lo, hi);
  }
  return !w.faulted;
}
