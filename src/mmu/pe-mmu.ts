/**
 * A PE's MMU: the system registers it reads, the decoded regimes, the TLBs and the walker. The PE
 * drives it: `translate` on every access (the TLB-hit path), a walk through the caches on a miss
 * (the PE sends the walker's reads as memory requests and hands the data back), `fill` when the
 * walk succeeds, and `queueTlbi` / `completeTlbis` for TLB maintenance (done at the next DSB).
 *
 * Regimes: EL1&0 (stage 1 from SCTLR_EL1/TCR_EL1/TTBRn_EL1/MAIR_EL1, stage 2 from HCR_EL2/VTCR_EL2/
 * VTTBR_EL2) and EL2 (the hypervisor's own stage 1, non-VHE: SCTLR_EL2/TCR_EL2/TTBR0_EL2/MAIR_EL2,
 * no stage 2, no ASID). Register writes take effect at a context synchronization event (ISB,
 * exception entry or return): `contextSync`.
 *
 * TLBs: an L1 DTLB and ITLB and a unified L2 TLB hold combined stage-1+stage-2 translations tagged
 * by VMID and ASID (global entries by VMID only); the EL2 regime's entries sit in a TLB of their
 * own. A permission check fails on a hit: the PE walks again, so the fault is reported with the
 * right stage and level (the Arm ARM lets a TLB cache only translations that do not fault, so a
 * walk finds the same fault unless the tables changed without maintenance).
 *
 * Not modelled: the EL2 regime's PXN/XN split (it uses the EL1 checks with UXN as XN), VHE
 * (HCR_EL2.E2H), hardware AF/dirty updates, AT instructions, PAR_EL1.
 */
import { DEFAULT_ATTR_OPTIONS, type AttrOptions } from './attrs.js';
import { abortEsr, hpfarEl2, AccessType, type WalkFault } from './faults.js';
import { decodeRegime, regimeRegisters, DEFAULT_MMU_FEATURES, type MmuFeatures, type Regime, type RegimeRegisters } from './regime.js';
import { MmuReg, tlbiIsBroadcast, tlbiScope, TlbiOp } from './sysregs.js';
import { TranslationWalker, permissionFault } from './walk.js';
import { Tlb, TlbStats, WalkCache } from './tlb.js';

export interface TlbGeometry {
  entries: number;
  ways: number;
}

export interface MmuConfig {
  features: MmuFeatures;
  attrOpts: AttrOptions;
  /** EL2 is implemented (and enabled: Non-secure state only here). */
  el2: boolean;
  /** FEAT_S2FWB: without it HCR_EL2.FWB is RES0 (a write of 1 is ignored). */
  featS2FWB: boolean;
  l1d: TlbGeometry;
  l1i: TlbGeometry;
  l2: TlbGeometry & { hitCycles: number };
  /** Entries of the walk cache (intermediate descriptors of both stages); 0 = none. */
  walkCacheEntries: number;
  /** Cycles a TLBI costs at the DSB that completes it (local invalidation). */
  tlbiCycles: number;
  /** Extra cycles for a broadcast (IS) TLBI to reach every PE of the domain and be acknowledged. */
  tlbiBroadcastCycles: number;
  /** IPAS2E1 also removes combined stage-1+2 entries of that IPA (Arm ARM D8.13.2 lets it keep them). */
  ipaInvalidatesCombined: boolean;
}

export const DEFAULT_MMU_CONFIG: MmuConfig = Object.freeze({
  features: DEFAULT_MMU_FEATURES,
  attrOpts: DEFAULT_ATTR_OPTIONS,
  el2: true,
  featS2FWB: true,
  l1d: { entries: 48, ways: 48 },
  l1i: { entries: 48, ways: 48 },
  l2: { entries: 1280, ways: 5, hitCycles: 3 },
  walkCacheEntries: 64,
  tlbiCycles: 20,
  tlbiBroadcastCycles: 200,
  ipaInvalidatesCombined: false,
});

/** `translate` outcomes. */
export const TR_HIT = 0;
/** An L2 TLB hit: the L1 TLB is filled; the access may go after `l2.hitCycles`. */
export const TR_L2_HIT = 1;
/** No usable entry (or a permission check failed on one): walk. */
export const TR_WALK = 2;

/** PEs whose TLBs an IS TLBI reaches (the Inner Shareable domain). */
export class TlbDomain {
  readonly members: PeMmu[] = [];
  /**
   * Another agent in the domain that IS TLBIs reach, e.g. an SMMU with IDR0.BTM (IHI 0070 3.17):
   * told of each broadcast op when the issuing PE's DSB completes it, with the op's scope (a
   * `TlbiOp` without the IS flag), VA[51:0] or IPA, VA[63:52], ASID and the issuer's VMID. The
   * platform sets it; unset costs one test per broadcast op.
   */
  onBroadcast: ((scope: number, addr: number, vaTop: number, asid: number, vmid: number) => void) | undefined = undefined;
}

class MmuStats {
  walks = 0; walkReads = 0; walkCycles = 0; walkCacheHits = 0; walkUpdates = 0; walkRestarts = 0; faults = 0; stage2Faults = 0;
  tlbiOps = 0; tlbiBroadcasts = 0; tlbiEntriesRemoved = 0; contextSyncs = 0;
}

const TWO32 = 4294967296;
const SCTLR_M = 1;
/** HCR_EL2.FWB, bit 46: bit 14 of the high half. */
const HCRH_FWB = 1 << 14;

/** Pending TLBI record: op, address, VA[63:52], ASID. */
const TLBI_QUEUE = 64;

export class PeMmu {
  /** The PE's current Exception level (change it with `setEl`). */
  el: 0 | 1 | 2 = 1;
  /**
   * The last data and the last instruction translation used, a one-entry micro TLB each in front
   * of the L1 TLBs (as real cores have): page bounds, output, attributes and permissions. Emptied
   * by every TLBI this PE performs, every context synchronization that changed a register, and
   * every EL change, so it never outlives what the L1 TLB entry it came from would. The data one
   * is public: the PE's issue path reads it without a call (page bounds, VA[63:52], output page,
   * attributes, and whether the current EL may read / write through it).
   */
  microVa = -1; microEnd = -1; microTop = 0; microPa = 0; microAttrs = 0; microRead = false; microWrite = false;
  /** The TLB whose hits the micro TLB's count as (the DTLB, or the EL2 TLB at EL2). */
  microStats: TlbStats;
  /**
   * The instruction one, public for the same reason: page bounds, VA[63:52], output page,
   * attributes, permissions, whether the current EL may fetch through it, and the TLB its hits
   * count in (the ITLB, or the EL2 TLB at EL2).
   */
  iVa = -1; iEnd = -1; iTop = 0; iPa = 0; iAttrs = 0; private iPerms = 0; iExec = false;
  iStats: TlbStats;
  readonly walker = new TranslationWalker();
  readonly stats = new MmuStats();
  readonly dtlb: Tlb;
  readonly itlb: Tlb;
  readonly l2tlb: Tlb;
  /** The EL2 regime's translations (no VMID, no ASID). */
  readonly el2tlb: Tlb;
  readonly walkCache: WalkCache | undefined;
  /** The EL1&0 regime's TLBs, which the EL1 TLBI scopes act on. */
  private readonly el1Tlbs: readonly Tlb[];

  // Outputs of `translate`.
  /** The PA of the translated address. */
  outPa = 0;
  outAttrs = 0;
  /** Bytes from the translated address to the end of its page (an access crossing it translates twice). */
  outPageLeft = 0;
  /** Cycles the TLB lookup added (L2 TLB hit). */
  outCycles = 0;

  private readonly regs: RegimeRegisters;
  /** Written register values (halves) by register number, for MRS and for re-decoding. */
  private readonly written = new Map<number, { lo: number; hi: number }>();
  private dirty = true;
  private regime!: Regime;
  private regimeEl2!: Regime;
  private readonly tlbiOp = new Int32Array(TLBI_QUEUE);
  private readonly tlbiAddr = new Float64Array(TLBI_QUEUE);
  private readonly tlbiTop = new Int32Array(TLBI_QUEUE);
  private readonly tlbiAsid = new Int32Array(TLBI_QUEUE);
  private tlbiLen = 0;
  /** The queue overflowed: complete as a TLBI ALLE1 (a broader invalidation is always allowed). */
  private tlbiOverflow = false;
  private tlbiOverflowIs = false;

  constructor(readonly cfg: MmuConfig, readonly domain: TlbDomain) {
    this.regs = regimeRegisters({ el2Enabled: cfg.el2 });
    this.dtlb = new Tlb({ entries: cfg.l1d.entries, ways: cfg.l1d.ways, ipaInvalidatesCombined: cfg.ipaInvalidatesCombined });
    this.itlb = new Tlb({ entries: cfg.l1i.entries, ways: cfg.l1i.ways, ipaInvalidatesCombined: cfg.ipaInvalidatesCombined });
    this.l2tlb = new Tlb({ entries: cfg.l2.entries, ways: cfg.l2.ways, ipaInvalidatesCombined: cfg.ipaInvalidatesCombined });
    this.el2tlb = new Tlb({ entries: cfg.l1d.entries, ways: cfg.l1d.ways, ipaInvalidatesCombined: false });
    this.microStats = this.dtlb.stats;
    this.iStats = this.itlb.stats;
    this.el1Tlbs = [this.dtlb, this.itlb, this.l2tlb];
    this.walkCache = cfg.walkCacheEntries > 0 ? new WalkCache({ entries: cfg.walkCacheEntries }) : undefined;
    this.walker.walkCache = this.walkCache;
    domain.members.push(this);
    this.contextSync();
  }

  // -------------------------------------------------------------------------------------------
  // System registers
  // -------------------------------------------------------------------------------------------

  /** True if `reg` is a register this MMU holds. */
  owns(reg: number): boolean {
    switch (reg) {
      case MmuReg.SCTLR_EL1: case MmuReg.TTBR0_EL1: case MmuReg.TTBR1_EL1: case MmuReg.TCR_EL1: case MmuReg.MAIR_EL1:
      case MmuReg.HCR_EL2: case MmuReg.VTTBR_EL2: case MmuReg.VTCR_EL2:
      case MmuReg.SCTLR_EL2: case MmuReg.TTBR0_EL2: case MmuReg.TCR_EL2: case MmuReg.MAIR_EL2:
      case MmuReg.ESR_EL1: case MmuReg.FAR_EL1: case MmuReg.ESR_EL2: case MmuReg.FAR_EL2: case MmuReg.HPFAR_EL2:
        return true;
      default: return false;
    }
  }

  /** MSR to an owned register: held until `contextSync`. */
  write(reg: number, lo: number, hi: number): void {
    this.written.set(reg, { lo: lo >>> 0, hi: hi >>> 0 });
    this.dirty = true;
  }

  /** MRS of an owned register (as written; fault registers as the last fault left them). */
  read(reg: number): { lo: number; hi: number } {
    return this.written.get(reg) ?? { lo: 0, hi: 0 };
  }

  /** Exception entry or return: translations now use the regime of `el`. */
  setEl(el: 0 | 1 | 2): void {
    this.el = el;
    this.dropMicro();
  }

  private dropMicro(): void { this.iVa = -1; this.iEnd = -1; this.microVa = -1; this.microEnd = -1; }

  /** A context synchronization event: written registers take effect. */
  contextSync(): void {
    if (!this.dirty) return;
    this.dirty = false;
    this.dropMicro();
    this.stats.contextSyncs++;
    const r = this.regs, g = (reg: number): { lo: number; hi: number } => this.read(reg);
    const tcr = g(MmuReg.TCR_EL1), t0 = g(MmuReg.TTBR0_EL1), t1 = g(MmuReg.TTBR1_EL1), mair = g(MmuReg.MAIR_EL1);
    const hcr = g(MmuReg.HCR_EL2), vtcr = g(MmuReg.VTCR_EL2), vttbr = g(MmuReg.VTTBR_EL2);
    r.tcrLo = tcr.lo; r.tcrHi = tcr.hi; r.ttbr0Lo = t0.lo; r.ttbr0Hi = t0.hi; r.ttbr1Lo = t1.lo; r.ttbr1Hi = t1.hi;
    r.mairLo = mair.lo; r.mairHi = mair.hi; r.sctlr = g(MmuReg.SCTLR_EL1).lo;
    r.hcrLo = hcr.lo; r.hcrHi = this.cfg.featS2FWB ? hcr.hi : hcr.hi & ~HCRH_FWB; r.vtcrLo = vtcr.lo; r.vtcrHi = vtcr.hi; r.vttbrLo = vttbr.lo; r.vttbrHi = vttbr.hi;
    r.el2Enabled = this.cfg.el2;
    this.regime = decodeRegime(r, this.cfg.features, this.cfg.attrOpts);
    this.regimeEl2 = decodeRegime(el2AsStage1(g(MmuReg.SCTLR_EL2).lo, g(MmuReg.TCR_EL2), g(MmuReg.TTBR0_EL2), g(MmuReg.MAIR_EL2)), this.cfg.features, this.cfg.attrOpts);
  }

  /** The regime the current EL translates in. */
  get currentRegime(): Regime { return this.el === 2 ? this.regimeEl2 : this.regime; }

  /** Whether SCTLR_EL1.M (or SCTLR_EL2.M at EL2) is set in the registers in effect. */
  get stage1On(): boolean { return this.currentRegime.s1Enabled; }

  // -------------------------------------------------------------------------------------------
  // Translation
  // -------------------------------------------------------------------------------------------

  /**
   * Looks `va` (VA[51:0]; VA[63:52] in `top`) up for `access` in the TLBs. TR_HIT / TR_L2_HIT: the
   * result is in outPa/outAttrs/outPageLeft (outCycles extra). TR_WALK: call `beginWalk`.
   */
  translate(va: number, top: number, access: AccessType): number {
    const fetch = access === AccessType.Fetch;
    const el = this.el;
    if (fetch) {
      if (va >= this.iVa && va < this.iEnd && top === this.iTop && permissionFault(this.iPerms, access, el === 0 ? 0 : 1) < 0) {
        this.outPa = this.iPa + (va - this.iVa); this.outAttrs = this.iAttrs; this.outPageLeft = this.iEnd - va; this.outCycles = 0;
        (el === 2 ? this.el2tlb : this.itlb).stats.hits++;
        return TR_HIT;
      }
    } else if (va >= this.microVa && va < this.microEnd && top === this.microTop
      && (access === AccessType.Read ? this.microRead : access === AccessType.Write ? this.microWrite : this.microRead && this.microWrite)) {
      this.outPa = this.microPa + (va - this.microVa); this.outAttrs = this.microAttrs; this.outPageLeft = this.microEnd - va; this.outCycles = 0;
      this.microStats.hits++;
      return TR_HIT;
    }
    const rg = el === 2 ? this.regimeEl2 : this.regime;
    const tag = top & 0xf;                                  // VA[55:52]: the TTBR half and the VA's top bits
    if (top > 0xf && rg.s1Enabled && this.topByteFaults(rg, top, fetch)) return TR_WALK;
    const asid = rg.s1.asid, vmid = el === 2 ? 0 : rg.el2Enabled ? rg.s2.vmid : 0;
    const l1 = el === 2 ? this.el2tlb : fetch ? this.itlb : this.dtlb;
    let e = l1.lookup(va, tag, asid, vmid);
    this.outCycles = 0;
    if (e >= 0) {
      if (permissionFault(l1.perms(e), access, el === 0 ? 0 : 1) >= 0) return TR_WALK;
      this.hitOutput(l1, e, va, top, fetch);
      return TR_HIT;
    }
    if (el === 2) return TR_WALK;
    const l2 = this.l2tlb;
    e = l2.lookup(va, tag, asid, vmid);
    if (e < 0) return TR_WALK;
    if (permissionFault(l2.perms(e), access, el === 0 ? 0 : 1) >= 0) return TR_WALK;
    l1.copyFrom(l2, e);
    this.hitOutput(l2, e, va, top, fetch);
    this.outCycles = this.cfg.l2.hitCycles;
    return TR_L2_HIT;
  }

  /**
   * VA[63:56] must equal VA[55] unless TBI ignores them (AArch64.VAIsOutOfRange, AddrTop): the TLB
   * keys on VA[55:0], so such a VA must walk (and fault) rather than hit.
   */
  private topByteFaults(rg: Regime, top: number, fetch: boolean): boolean {
    const bit55 = (top >>> 3) & 1;
    const h = bit55 === 1 ? rg.s1.half1 : rg.s1.half0;
    if (h.tbi && !(fetch && h.tbid)) return false;
    return (top >>> 4) !== (bit55 === 1 ? 0xff : 0);
  }

  private hitOutput(t: Tlb, e: number, va: number, top: number, fetch: boolean): void {
    const base = t.vaBase(e), page = t.pageBytes(e), pa = t.paBase(e), attrs = t.attrs(e);
    const off = va - base;
    this.outPa = pa + off;
    this.outAttrs = attrs;
    this.outPageLeft = page - off;
    this.setMicro(fetch, base, page, top, pa, attrs, t.perms(e));
  }

  private setMicro(fetch: boolean, base: number, page: number, top: number, pa: number, attrs: number, perms: number): void {
    if (fetch) {
      this.iVa = base; this.iEnd = base + page; this.iTop = top; this.iPa = pa; this.iAttrs = attrs; this.iPerms = perms;
      this.iExec = permissionFault(perms, AccessType.Fetch, this.el === 0 ? 0 : 1) < 0;
      this.iStats = this.el === 2 ? this.el2tlb.stats : this.itlb.stats;
    }
    else {
      const el = this.el === 0 ? 0 : 1;
      this.microVa = base; this.microEnd = base + page; this.microTop = top; this.microPa = pa; this.microAttrs = attrs;
      this.microRead = permissionFault(perms, AccessType.Read, el) < 0;
      this.microWrite = permissionFault(perms, AccessType.Write, el) < 0;
      this.microStats = this.el === 2 ? this.el2tlb.stats : this.dtlb.stats;
    }
  }

  /** Starts a walk for the access; the PE feeds the walker its reads. */
  beginWalk(va: number, top: number, access: AccessType): void {
    this.stats.walks++;
    const vaHi = ((top << 20) | Math.floor(va / TWO32)) >>> 0;
    const vaLo = (va % TWO32) >>> 0;
    const el = this.el;
    // The walk cache holds EL1&0 entries only (its tags have no room for the EL2 regime).
    this.walker.walkCache = el === 2 ? undefined : this.walkCache;
    this.walker.start(el === 2 ? this.regimeEl2 : this.regime, vaHi, vaLo, access, el === 0 ? 0 : 1);
  }

  /** The walker's running counts into the stats. */
  private syncWalkStats(): void {
    const w = this.walker;
    this.stats.walkCacheHits = w.walkCacheHits; this.stats.walkUpdates = w.updates; this.stats.walkRestarts = w.restarts;
  }

  /** After a successful walk of `va`: fills the TLBs, and sets the outputs as `translate` does. */
  fill(va: number, top: number, access: AccessType): void {
    const w = this.walker.result;
    const tag = top & 0xf;
    this.syncWalkStats();
    if (w.pageBytes === 0) {
      // No stage enabled: VA = PA with the stage-1-off attributes; nothing is cached (the
      // architecture has no TLB entry for a disabled stage 1 without stage 2). One 4KB "page".
      this.outPa = w.pa; this.outAttrs = w.attrs; this.outPageLeft = 4096 - (va % 4096); this.outCycles = 0;
      return;
    }
    if (this.el === 2) this.el2tlb.insert(va, tag, w);
    else {
      (access === AccessType.Fetch ? this.itlb : this.dtlb).insert(va, tag, w);
      this.l2tlb.insert(va, tag, w);
    }
    const off = va % w.pageBytes;
    this.outPa = w.pa; this.outAttrs = w.attrs; this.outPageLeft = w.pageBytes - off; this.outCycles = 0;
    this.setMicro(access === AccessType.Fetch, va - off, w.pageBytes, top, w.pa - off, w.attrs, w.perms);
  }

  /**
   * Records the fault the walker ended with in ESR/FAR (and HPFAR for stage 2) of the EL it is
   * taken to, and returns ESR. `cm`: the access was cache maintenance (ISS.CM).
   */
  recordFault(va: number, top: number, cm: boolean, isv = 0): number {
    const f: WalkFault = this.walker.fault;
    this.stats.faults++;
    this.syncWalkStats();
    const fromEl = this.el === 0 ? 0 : 1;
    let esr = abortEsr(f, fromEl);
    // ISV and the instruction syndrome (SAS, SF, AR) for a stage-2 Data Abort on a single load or
    // store (Arm ARM D19.2.42 ESR_EL2, "ISV": valid only for stage-2 aborts that are not on a
    // stage-1 walk); SRT stays 0: the model has no registers.
    if (isv !== 0 && f.stage === 2 && !f.s1ptw && !f.fetch && !cm) esr = (esr | isv) >>> 0;
    // ISS.CM (bit 8): a fault on a cache maintenance instruction; WnR is then 1 (Arm ARM D19.2.41: "CM ... WnR is set to 1").
    if (cm && !f.fetch) esr = (esr | (1 << 8) | (1 << 6)) >>> 0;
    const farHi = ((top << 20) | Math.floor(va / TWO32)) >>> 0, farLo = (va % TWO32) >>> 0;
    if (f.stage === 2) {
      this.stats.stage2Faults++;
      this.written.set(MmuReg.ESR_EL2, { lo: esr, hi: 0 });
      this.written.set(MmuReg.FAR_EL2, { lo: farLo, hi: farHi });
      const hp = hpfarEl2(f.ipa);
      this.written.set(MmuReg.HPFAR_EL2, { lo: (hp % TWO32) >>> 0, hi: Math.floor(hp / TWO32) });
    } else {
      const esrReg = this.el === 2 ? MmuReg.ESR_EL2 : MmuReg.ESR_EL1, farReg = this.el === 2 ? MmuReg.FAR_EL2 : MmuReg.FAR_EL1;
      this.written.set(esrReg, { lo: esr, hi: 0 });
      this.written.set(farReg, { lo: farLo, hi: farHi });
    }
    return esr;
  }

  /** Records a fault found outside the walk (an Alignment fault) in ESR/FAR of the current EL's target. */
  recordOtherFault(esr: number, farLo: number, farHi: number): void {
    this.stats.faults++;
    this.written.set(this.el === 2 ? MmuReg.ESR_EL2 : MmuReg.ESR_EL1, { lo: esr >>> 0, hi: 0 });
    this.written.set(this.el === 2 ? MmuReg.FAR_EL2 : MmuReg.FAR_EL1, { lo: farLo >>> 0, hi: farHi >>> 0 });
  }

  // -------------------------------------------------------------------------------------------
  // TLB maintenance
  // -------------------------------------------------------------------------------------------

  /** A TLBI issued by this PE: performed at its next DSB (`completeTlbis`). */
  queueTlbi(op: number, addr: number, top: number, asid: number): void {
    this.stats.tlbiOps++;
    if (this.tlbiLen === TLBI_QUEUE) { this.tlbiOverflow = true; this.tlbiOverflowIs ||= tlbiIsBroadcast(op); return; }
    const i = this.tlbiLen++;
    this.tlbiOp[i] = op; this.tlbiAddr[i] = addr; this.tlbiTop[i] = top; this.tlbiAsid[i] = asid;
  }

  get hasPendingTlbi(): boolean { return this.tlbiLen > 0 || this.tlbiOverflow; }

  /** Completes the queued TLBIs (the DSB after them); returns the cycles the DSB waits for them. */
  completeTlbis(): number {
    let cycles = 0, broadcast = false;
    const vmid = this.regime.el2Enabled ? this.regime.s2.vmid : 0;
    for (let i = 0; i < this.tlbiLen; i++) {
      const op = this.tlbiOp[i]!, is = tlbiIsBroadcast(op);
      cycles += this.cfg.tlbiCycles;
      if (is) {
        broadcast = true;
        this.stats.tlbiBroadcasts++;
        for (const m of this.domain.members) this.stats.tlbiEntriesRemoved += m.invalidate(tlbiScope(op), this.tlbiAddr[i]!, this.tlbiTop[i]!, this.tlbiAsid[i]!, vmid);
        this.domain.onBroadcast?.(tlbiScope(op), this.tlbiAddr[i]!, this.tlbiTop[i]!, this.tlbiAsid[i]!, vmid);
      } else {
        this.stats.tlbiEntriesRemoved += this.invalidate(tlbiScope(op), this.tlbiAddr[i]!, this.tlbiTop[i]!, this.tlbiAsid[i]!, vmid);
      }
    }
    this.tlbiLen = 0;
    if (this.tlbiOverflow) {
      const targets = this.tlbiOverflowIs ? this.domain.members : [this];
      for (const m of targets) m.invalidate(TlbiOp.ALLE1, 0, 0, 0, 0);
      for (const m of targets) m.invalidate(TlbiOp.ALLE2, 0, 0, 0, 0);
      if (this.tlbiOverflowIs) { this.domain.onBroadcast?.(TlbiOp.ALLE1, 0, 0, 0, 0); this.domain.onBroadcast?.(TlbiOp.ALLE2, 0, 0, 0, 0); }
      broadcast ||= this.tlbiOverflowIs;
      this.tlbiOverflow = false; this.tlbiOverflowIs = false;
    }
    return cycles + (broadcast ? this.cfg.tlbiBroadcastCycles : 0);
  }

  /**
   * Performs one TLBI scope on this PE's TLBs (Arm ARM D8.13.2 "TLB maintenance instructions").
   * `vmid`: the issuer's current VMID (VTTBR_EL2.VMID), which the EL1 operations are scoped to.
   * Returns the entries removed.
   */
  invalidate(scope: number, addr: number, top: number, asid: number, vmid: number): number {
    const tag = top & 0xf;
    let n = 0;
    this.dropMicro();
    const tlbs = this.el1Tlbs;
    const wc = this.walkCache;
    switch (scope) {
      case TlbiOp.VMALLE1:
      case TlbiOp.VMALLS12E1:
        for (const t of tlbs) n += t.invalidateVmid(vmid);
        wc?.invalidateVmid(vmid, scope === TlbiOp.VMALLS12E1);
        break;
      case TlbiOp.VAE1: case TlbiOp.VALE1: {
        const last = scope === TlbiOp.VALE1;
        for (const t of tlbs) n += t.invalidateVa(addr, tag, asid, vmid, last);
        wc?.invalidateVa(addr, tag, vmid, last);
        break;
      }
      case TlbiOp.VAAE1:
        for (const t of tlbs) n += t.invalidateVaAllAsid(addr, tag, vmid, false);
        wc?.invalidateVa(addr, tag, vmid);
        break;
      case TlbiOp.ASIDE1:
        for (const t of tlbs) n += t.invalidateAsid(asid, vmid);
        wc?.invalidateAsid(asid, vmid);
        break;
      case TlbiOp.IPAS2E1: case TlbiOp.IPAS2LE1: {
        const last = scope === TlbiOp.IPAS2LE1;
        for (const t of tlbs) n += t.invalidateIpa(addr, vmid, last);
        wc?.invalidateIpa(addr, vmid, last);
        break;
      }
      case TlbiOp.ALLE1:
        for (const t of tlbs) n += t.invalidateAll();
        wc?.invalidateAll();
        break;
      case TlbiOp.ALLE2:
        n += this.el2tlb.invalidateAll();
        break;
      case TlbiOp.VAE2:
        n += this.el2tlb.invalidateVaAllAsid(addr, tag, 0, false);
        break;
      default:
        break;
    }
    return n;
  }

  /** The TLBs' statistics, for the stats tree. */
  tlbStats(): { dtlb: TlbStats; itlb: TlbStats; l2tlb: TlbStats; el2tlb: TlbStats } {
    return { dtlb: this.dtlb.stats, itlb: this.itlb.stats, l2tlb: this.l2tlb.stats, el2tlb: this.el2tlb.stats };
  }
}

/**
 * The EL2 regime's registers (non-VHE, HCR_EL2.E2H=0) recast as an EL1&0 stage 1 without stage 2:
 * TCR_EL2 has one half — T0SZ [5:0], IRGN0 [9:8], ORGN0 [11:10], SH0 [13:12], TG0 [15:14] at the
 * TCR_EL1 positions; PS [18:16] goes to IPS, TBI [20] to TBI0, HA [21] / HD [22] to HA/HD, HPD [24]
 * to HPD0 — and EPD1 is set so that the upper half faults (Arm ARM D19.2 "TCR_EL2").
 */
function el2AsStage1(sctlr: number, tcr: { lo: number; hi: number }, ttbr0: { lo: number; hi: number }, mair: { lo: number; hi: number }): RegimeRegisters {
  const t = tcr.lo;
  const lo = (t & 0xffff) | (1 << 23);
  const hi = ((t >>> 16) & 7) | (((t >>> 20) & 1) << 5) | (((t >>> 21) & 1) << 7) | (((t >>> 22) & 1) << 8) | (((t >>> 24) & 1) << 9);
  return regimeRegisters({
    tcrLo: lo >>> 0, tcrHi: hi >>> 0, ttbr0Lo: ttbr0.lo, ttbr0Hi: ttbr0.hi & 0xffff, mairLo: mair.lo, mairHi: mair.hi,
    sctlr: sctlr & (SCTLR_M | (1 << 2) | (1 << 12) | (1 << 19)), el2Enabled: false,
  });
}
