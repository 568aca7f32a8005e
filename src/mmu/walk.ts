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
 * Not modelled (named so nobody relies on them): hardware Access flag and dirty state updates
 * (TCR_EL1.HA/HD, VTCR_EL2.HA/HD are decoded but the walk behaves as with HA=HD=0), PAN,
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

const PH_DONE = 0, PH_S1 = 1, PH_S2 = 2;
const FOR_TABLE = 0, FOR_FINAL = 1;

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
    r.s1Contiguous = false; r.s2Contiguous = false; r.s1Dbm = false; r.s2Dbm = false; r.reads = 0;
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
    if (descAF(lo) === 0) { this.s1Fault(FaultType.AccessFlag, lvl, wr); return; }
    const perms = s1Permissions(descAP(lo), this.tblAp, descUXN(hi) | this.tblUxn, descPXN(hi) | this.tblPxn, rg.sctlrWXN);
    const wnr = permissionFault(perms, this.access, this.el);
    if (wnr >= 0) { this.s1Fault(FaultType.Permission, lvl, wnr === 1); return; }
    const s1Attrs = decodeMair(rg.mair[descAttrIndx(lo)]!, descSH(lo), rg.attrOpts);
    // S1CheckPermissions: an instruction fetch from stage-1 Device may be a Permission fault
    // (CONSTRAINED UNPREDICTABLE, AttrOptions.instrFetchFromDevice).
    if (this.isFetch && (s1Attrs & ATTR_NORMAL) === 0 && rg.attrOpts.instrFetchFromDevice === 'fault') {
      this.s1Fault(FaultType.Permission, lvl, false);
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
    if (rg.s2Enabled) this.beginS2(this.ipa, FOR_FINAL);
    else this.finish(this.ipa, this.finalAttrs(s1Attrs, 0));
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
    if (descAF(lo) === 0) { this.s2Fault(FaultType.AccessFlag, lvl, -1); return; }
    const perms = s2Permissions(descS2AP(lo), descS2XN(hi, rg.features.featXNX));
    const opts = rg.attrOpts;
    const s2Attrs = decodeS2MemAttr(descS2MemAttr(lo), descSH(lo), rg.hcrFWB, opts.featXS && descFnXS(lo) === 1, opts);
    const pa = oa + this.s2In % POW2[shift]!;
    const c = this.ctx;
    if (this.s2Purpose === FOR_TABLE) {
      // A stage-1 table access is checked as a read at stage 2, whatever the original access.
      if ((perms & PERM_R1) === 0) { this.s2Fault(FaultType.Permission, lvl, 0); return; }
      c.access = AccessKind.Walk;
      c.s1 = this.h!.walkS1Attrs;
      c.s2 = s2Attrs;
      const a = effectiveAttrs(c, opts);
      // HCR_EL2.PTW=1 and the table is in stage-2 Device memory: stage-2 Permission fault at
      // the level of the stage-2 leaf (AArch64.S2CheckPermissions).
      if (a === ATTR_FAULT_S2_PERMISSION) { this.s2Fault(FaultType.Permission, lvl, 0); return; }
      this.setRead(pa, 1, this.s1Lvl, a);
      return;
    }
    const wnr = permissionFault(perms, this.access, this.el);
    if (wnr >= 0) { this.s2Fault(FaultType.Permission, lvl, wnr); return; }
    const a = this.finalAttrs(this.result.s1Attrs, s2Attrs);
    if (a === ATTR_FAULT_S2_PERMISSION) { this.s2Fault(FaultType.Permission, lvl, 0); return; }
    // FEAT_MTE_PERM: a tag-checked data access to Allocation Tagged memory through a stage-2
    // NoTagAccess mapping is a stage-2 Permission fault (AArch64.S2CheckPermissions, s2tag_na).
    // Every access to Tagged memory counts as tag-checked here (the PE has no tag-check control).
    if (a >= 0 && (a & ATTR_NOTAGACCESS) !== 0) { this.s2Fault(FaultType.Permission, lvl, -1); return; }
    if (a === ATTR_FAULT_S1_PERMISSION) { this.s1Fault(FaultType.Permission, this.result.s1Level, false); return; }
    const r = this.result;
    r.s2Level = lvl;
    r.s2BlockBytes = POW2[shift]!;
    r.s2Contiguous = descContiguous(hi) === 1;
    r.s2Dbm = descDBM(hi) === 1;
    r.s2Attrs = s2Attrs;
    this.finish(pa, a, perms);
  }

  /** `wnr`: -1 = the access's own write-ness (final IPA), else 0/1 as given (table access: 0). */
  private s2Fault(type: FaultType, level: number, wnr: number): void {
    const s1ptw = this.s2Purpose === FOR_TABLE;
    const write = s1ptw ? false : wnr === -1 ? this.access === AccessType.Write : wnr === 1;
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
 * Runs a whole walk with untimed reads from `store`. Returns true on success (`w.result`), false
 * on a fault (`w.fault`).
 */
export function translateFunctional(
  w: TranslationWalker, regime: Regime, store: PhysicalStore, vaHi: number, vaLo: number, access: AccessType, el: 0 | 1,
): boolean {
  w.start(regime, vaHi, vaLo, access, el);
  while (!w.done) {
    store.read(w.readPa, SCRATCH, 0, 8);
    w.supply(SCRATCH_VIEW.getUint32(0, true), SCRATCH_VIEW.getUint32(4, true));
  }
  return !w.faulted;
}
