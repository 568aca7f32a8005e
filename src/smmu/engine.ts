/**
 * The SMMUv3 translation engine, functional (no timing): register file, stream-table and CD
 * fetch, stage-1 / stage-2 / nested translation through the MMU's walker, the IOTLB and walk
 * cache, the configuration cache, command queue consumption, event queue writes, GERROR, and the
 * stall model.
 *
 * Worker-ready by construction: plain data in (`SmmuRequest`, register writes), plain data out
 * (`SmmuResult`, `EventRecord`s in the queue in memory, stats objects), all memory through
 * `SmmuMemory`; no reference to PEs, caches or the platform.
 *
 * Contract:
 * - `translate` never throws for architectural input: bad STEs/CDs, faults and aborts become the
 *   result's status and the event record (written to the event queue when the rules say so).
 * - Translations can also be stepped (`begin` / `supply` / `release`): each stops at every 8-byte
 *   read (STE, L1STD, CD, L1CD, descriptors) until its answer is supplied, so a timed front end
 *   answers each read at its own simulated time and keeps many walks outstanding; `translate` is
 *   the same steps answered at once through `mem`, with the same results.
 * - Caches (STE, CD, IOTLB, walk cache) are filled by translations and emptied ONLY by commands
 *   (and by capacity eviction), so a driver that forgets CFGI_* or TLBI_* sees stale data.
 * - `processCommands` consumes CMDQ_CONS..CMDQ_PROD at once when called (phase 2 gives commands
 *   time); nothing runs on a register write by itself.
 *
 * Architecture: SMMUv3 IHI 0070 (3.x translation flow, 4 commands, 5 STE/CD, 7 events); nested
 * CLASS/S2 rules from ../shared/reference/smmuv3.md §4-5 (QEMU smmuv3_do_translate,
 * translate_table_addr_ipa; gem5 doReadCD).
 *
 * HTTU (`SmmuConfig.httu`, IDR0.HTTU): CD.HA/HD and STE.S2HA/S2HD within it drive the walker's
 * FEAT_HAFDBS updates, each a compare-and-swap the transaction names in place of a read
 * (`SmmuTxn.cas`, performed by `readOrSwap`); beyond it they are C_BAD_CD / C_BAD_STE.
 *
 * Not modelled here: timing, ATS/ATC (ATC_INV only counted), PRI queue (PRI_RESP counted),
 * AFFD/S2AFFD (decoded; the walker checks the Access flag, or with HA sets it), AArch32 tables,
 * big-endian tables, Secure/Realm streams, TLB/config conflict events, event merging (MEV), STE
 * ALLOCCFG/NSCFG, MSIs for GERROR and the event queue (counted as wired interrupts), CR0.VMW.
 */
import {
  ATTR_SH_MASK, ATTR_SH_SHIFT, AccessType, FaultType, NORMAL_WB_RWA_OSH, Shareability, TLB_GLOBAL, TLB_NONSHARED, TLB_S1, TLB_S2,
  TranslationWalker, Tlb, WalkCache, combineS1S2, decodeRegime, decodeS2MemAttr, encodeHcr, encodeSctlr, encodeTcr, encodeTtbr,
  encodeVtcr, permissionFault, regimeRegisters, resolveMmuFeatures, tlbTop, tlbVa, TlbiOp, tlbiScope,
  type MmuFeatures, type Regime, type WalkFault,
} from '../mmu/index.js';
import { packAttrs } from '../mem/index.js';
import { type Dword } from './bits.js';
import { CError, CmdOp, ResumeAction, SyncCs, decodeCommand, type SmmuCommand } from './commands.js';
import type { SmmuConfig } from './config.js';
import { DEFAULT_SMMU_CONFIG, OAS_BITS } from './config.js';
import { EvtClass, EvtType, encodeEvent, newEvent, type EventRecord } from './events.js';
import {
  S1Dss, cdLeafSplit, decodeCd, decodeL1Cd, decodeL1Std, decodeSte, type Cd, type Ste,
} from './formats.js';
import type { SmmuMemory } from './memory.js';
import {
  CONS_ERR_SHIFT, CR0_CMDQEN, CR0_EVENTQEN, CR0_SMMUEN, GBPA_ABORT, GERROR_CMDQ_ERR, GERROR_EVENTQ_ABT_ERR,
  GERROR_MSI_CMDQ_ABT_ERR, IRQ_CTRL_EVENTQ_IRQEN, IRQ_CTRL_GERROR_IRQEN, Q_OVERFLOW_FLAG, Reg, SmmuRegisters,
  qEmpty, qFull, qInc, qIndex,
} from './registers.js';

// ---------------------------------------------------------------------------------------------
// Requests and results
// ---------------------------------------------------------------------------------------------

export const SmmuAccess = { Read: 0, Write: 1, Exec: 2 } as const;
export type SmmuAccess = (typeof SmmuAccess)[keyof typeof SmmuAccess];

export interface SmmuRequest {
  streamId: number;
  /** With `ssv`; ignored otherwise. */
  substreamId?: number;
  ssv?: boolean;
  /** The device address: a number below 2^53, or 64-bit halves. */
  iova: number | Dword;
  access: SmmuAccess;
  /** PnU of the transaction (default false: unprivileged). */
  privileged?: boolean;
  /** Incoming memory attributes (packed word, mem/mem-attrs.ts); default Normal WB RWA Outer Shareable (assumed). */
  attrs?: number;
}

/**
 * ok: `pa`/`attrs` valid. abort: the transaction is terminated with an abort to the device.
 * raz-wi: terminated, reads as zero and writes ignored (stage-1 fault with CD.A=0).
 * stalled: held until CMD_RESUME / CMD_STALL_TERM (`stag`); the answer comes from `takeCompletions`.
 */
export type SmmuStatus = 'ok' | 'abort' | 'raz-wi' | 'stalled';

export interface SmmuResult {
  status: SmmuStatus;
  pa: number;
  attrs: number;
  /** PERM_* (mmu/walk.ts) of the translation used; 0 for bypass. */
  perms: number;
  /** How it was answered: 'gbpa' (SMMUEN=0), 'bypass' (STE or S1DSS), 'tlb', 'walk', 'fault', 'abort-ste'. */
  via: 'gbpa' | 'bypass' | 'tlb' | 'walk' | 'fault' | 'abort-ste';
  /** The event the transaction raised (recorded or not), else null. */
  event: EventRecord | null;
  /** The event was written to the event queue (false if suppressed by CD.R/STE.S2R, queue disabled, full or aborted). */
  recorded: boolean;
  stag: number;
  /** Memory reads made for this transaction (STE, CD and table descriptors). */
  reads: number;
  /** Descriptor reads of the data address walk alone (24 for a cold 4x4 nested walk). */
  walkReads: number;
}

export interface SmmuCompletion { streamId: number; stag: number; result: SmmuResult }

/**
 * One translation in flight (`SmmuEngine.begin`): it carries its own walker and scratch state, so
 * several translations can wait for their memory reads at the same time, each answered when its
 * read completes (`SmmuEngine.supply`). This is what lets a timed front end (a device port, a
 * worker host) keep many walks outstanding and answer each descriptor read at its own simulated
 * time; `SmmuEngine.translate` is the same steps with every read answered at once.
 */
export class SmmuTxn {
  /** No read is pending: `result` is final. */
  done = true;
  /** The 8-byte read the translation waits for (PA and packed attributes), while not done. */
  readPa = 0;
  readAttrs = 0;
  /**
   * The pending read is a descriptor update (IDR0.HTTU): compare the 8 bytes with casOld and, if
   * equal, write casNew, atomically at the read's cycle; answer with what memory held (readOrSwap).
   */
  cas = false;
  casOldLo = 0; casOldHi = 0; casNewLo = 0; casNewHi = 0;
  /** @internal Compare-and-swaps this translation made (in `result.reads`, which counts every access). */ casCount = 0;
  req: SmmuRequest = { streamId: 0, iova: 0, access: 0 };
  result: SmmuResult = newSmmuResult();
  // Engine-private state below (the engine reads and writes it; callers do not).
  /** @internal */ readonly walker = new TranslationWalker();
  /** @internal The answer to the pending read. */ readonly d: Dword = { lo: 0, hi: 0 };
  /** @internal */ readOk = false;
  /** @internal A 64-byte record being read (STE, CD). */ readonly words = new Uint32Array(16);
  /** @internal The STE and CD of the transaction (fault records and the stall decision). */ ste: SteEntry | null = null;
  /** @internal */ cd: CdEntry | null = null;
  /** @internal The PA of the read that aborted (F_WALK_EABT FetchAddr). */ lastReadPa = 0;
  /** @internal */ steps: Generator<void, void, void> | null = null;
  /** @internal The walk (R_WALK_S1 / R_WALK_S2) run without `steps` (configuration cached), or 0. */ direct = 0;
  /** @internal The substream whose CD `resolve` wants fetched. */ cdSsid = 0;
  /** @internal The walk `resolve` wants: input address, access, EL, and the incoming attributes (stage 2 only). */
  wVaHi = 0; wVaLo = 0; wAccess: AccessType = AccessType.Read; wEl: 0 | 1 = 0; wIncoming = 0;
  /** @internal */ st: SmmuStreamStats | null = null;
}

/**
 * Performs the access a waiting transaction names (`readPa`, `readAttrs`): a read into `out`, or
 * with `cas` the descriptor update's compare-and-swap (the write only when memory holds casOld),
 * answering with what memory held. False: an External abort on it.
 */
export function readOrSwap(mem: SmmuMemory, a: Pick<SmmuTxn, 'readPa' | 'readAttrs' | 'cas' | 'casOldLo' | 'casOldHi' | 'casNewLo' | 'casNewHi'>, out: Dword): boolean {
  if (!mem.read64(a.readPa, out, a.readAttrs)) return false;
  if (!a.cas || (out.lo >>> 0) !== a.casOldLo || (out.hi >>> 0) !== a.casOldHi) return true;
  return mem.write64(a.readPa, a.casNewLo, a.casNewHi, a.readAttrs);
}

/** What `SmmuEngine.resolve` needs next: nothing (the result is set), the STE, the CD, a stage-1 (or nested) walk, a stage-2 walk. */
const R_DONE = 0, R_STE = 1, R_CD = 2, R_WALK_S1 = 3, R_WALK_S2 = 4;

/** A blank result (status ok, nothing translated yet): what a translation fills in. */
export function newSmmuResult(): SmmuResult {
  return { status: 'ok', pa: 0, attrs: 0, perms: 0, via: 'walk', event: null, recorded: false, stag: -1, reads: 0, walkReads: 0 };
}

/** Makes `x` blank again (as newSmmuResult), for its next use (a pooled transaction's, a host's reused answer). */
export function resetSmmuResult(x: SmmuResult): void {
  x.status = 'ok'; x.pa = 0; x.attrs = 0; x.perms = 0; x.via = 'walk'; x.event = null; x.recorded = false; x.stag = -1; x.reads = 0; x.walkReads = 0;
}

// ---------------------------------------------------------------------------------------------
// Stats
// ---------------------------------------------------------------------------------------------

export class SmmuStreamStats {
  translations = 0; tlbHits = 0; tlbMisses = 0;
  steHits = 0; steMisses = 0; cdHits = 0; cdMisses = 0;
  /** Cached STEs/CDs of this stream removed by CFGI_* commands. */
  configInvalidations = 0;
  faults = 0; walkReads = 0; configReads = 0;
  /** Descriptor updates by this stream's walks (IDR0.HTTU): compare-and-swaps, not counted in walkReads or configReads. */
  descriptorUpdates = 0;
}
export class SmmuVmidStats {
  tlbHits = 0; tlbMisses = 0;
  /** IOTLB and walk-cache entries removed by TLBI commands naming this VMID. */
  invalidations = 0;
  tlbiCommands = 0;
}
export class SmmuStats {
  commands = 0;
  commandsByName: Record<string, number> = {};
  commandErrors = 0;
  syncs = 0;
  eventsWritten = 0;
  /** Lost because the queue was full (EVENTQ_PROD.OVFLG). */
  eventsOverflowed = 0;
  /** Not written: EVENTQEN=0, SMMUEN=0, or a write abort. */
  eventsDiscarded = 0;
  /** Faults whose record CD.R / STE.S2R suppressed. */
  eventsSuppressed = 0;
  stalls = 0; resumes = 0; stallTerminations = 0;
  atcInvalidations = 0; priResponses = 0;
  /** PE broadcast TLBIs received (IDR0.BTM; `broadcastTlbi`), and the IOTLB and walk-cache entries they removed. */
  broadcastTlbis = 0; broadcastTlbiEntries = 0;
  irqEventq = 0; irqGerror = 0; irqCmdSync = 0; sev = 0; msiWrites = 0;
}

// ---------------------------------------------------------------------------------------------
// Configuration cache entries
// ---------------------------------------------------------------------------------------------

interface SteEntry {
  readonly ste: Ste;
  readonly s1: boolean;
  readonly s2: boolean;
  readonly abort: boolean;
  readonly bypass: boolean;
  readonly el2: boolean;
  readonly vmid: number;
  /** Stage 2 alone (stage 1 off): CD/L1CD address translation and S1-bypass traffic; null without stage 2. */
  readonly s2Regime: Regime | null;
}

interface CdEntry {
  readonly cd: Cd;
  readonly regime: Regime;
  readonly asid: number;
}

const SILENT = 0, CONFIG = 1, TRANSLATION = 2;

/** A fault found during a translation (thrown inside the engine only; never escapes `translate`). */
class Fault {
  constructor(readonly ev: EventRecord, readonly kind: number, readonly stage: 0 | 1 | 2) {}
}

const FAULT_EVENT: Record<number, number> = {
  [FaultType.Translation]: EvtType.F_TRANSLATION, [FaultType.AddressSize]: EvtType.F_ADDR_SIZE,
  [FaultType.AccessFlag]: EvtType.F_ACCESS, [FaultType.Permission]: EvtType.F_PERMISSION,
  [FaultType.WalkExternalAbort]: EvtType.F_WALK_EABT,
};
const GRANULE_BY_TG0: Record<number, '4K' | '64K' | '16K'> = { 0: '4K', 1: '64K', 2: '16K' };
const GRANULE_BY_TG1: Record<number, '16K' | '4K' | '64K'> = { 1: '16K', 2: '4K', 3: '64K' };
const TWO_32 = 4294967296;
/** codeAttrs results by IC*16 + OC*4 + SH. */
const CODE_ATTRS: Array<number | undefined> = new Array(64);

function bitsEqual(hi: number, lo: number, msb: number, lsb: number, v: number): boolean {
  for (let b = lsb; b <= msb; b++) if (((b >= 32 ? hi >>> (b - 32) : lo >>> b) & 1) !== v) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// The engine
// ---------------------------------------------------------------------------------------------

export class SmmuEngine {
  readonly config: SmmuConfig;
  readonly regs: SmmuRegisters;
  readonly stats = new SmmuStats();
  readonly streamStats = new Map<number, SmmuStreamStats>();
  readonly vmidStats = new Map<number, SmmuVmidStats>();
  /** IOTLBs: NS-EL1 stage-1 and combined entries; EL2 (STRW=EL2) entries; stage-2-only entries (keyed by IPA). */
  readonly tlbNh: Tlb;
  readonly tlbEl2: Tlb;
  readonly tlbS2: Tlb;
  readonly walkCacheNh: WalkCache;
  readonly walkCacheEl2: WalkCache;
  readonly features: MmuFeatures;
  private readonly useWalkCache: boolean;
  private readonly steCache = new Map<number, SteEntry>();
  private readonly cdCache = new Map<number, CdEntry>();
  /** Command reads (the queue is consumed synchronously). */
  private readonly d: Dword = { lo: 0, hi: 0 };
  private readonly words = new Uint32Array(16);
  private nextStag = 0;
  private readonly stalled: Array<{ stag: number; req: SmmuRequest }> = [];
  private completions: SmmuCompletion[] = [];
  /** Finished transactions kept for reuse (`release`), so a translation allocates no walker. */
  private readonly txnPool: SmmuTxn[] = [];

  constructor(readonly mem: SmmuMemory, config: SmmuConfig = DEFAULT_SMMU_CONFIG) {
    this.config = config;
    this.regs = new SmmuRegisters(config);
    const tlbCfg = { entries: config.tlbEntries, ways: config.tlbWays };
    this.tlbNh = new Tlb(tlbCfg);
    this.tlbEl2 = new Tlb(tlbCfg);
    this.tlbS2 = new Tlb(tlbCfg);
    this.walkCacheNh = new WalkCache({ entries: Math.max(1, config.walkCacheEntries) });
    this.walkCacheEl2 = new WalkCache({ entries: Math.max(1, config.walkCacheEntries) });
    this.useWalkCache = config.walkCacheEntries > 0;
    this.features = resolveMmuFeatures({ paBits: config.oasBits, granules: [...config.granules], reservedGranule: config.granules[0], hafdbs: config.httu });
  }

  // -------------------------------------------------------------------------------------------
  // Registers
  // -------------------------------------------------------------------------------------------

  /** A software register read (`size` 4 or 8): [bits 31:0, bits 63:32]. */
  mmioRead(offset: number, size: 4 | 8 = 4): [number, number] { return this.regs.read(offset, size); }

  /** A software register write. Commands are consumed by `processCommands`, not here. */
  mmioWrite(offset: number, size: 4 | 8, lo: number, hi = 0): void { this.regs.write(offset, size, lo, hi); }

  // -------------------------------------------------------------------------------------------
  // Translation
  // -------------------------------------------------------------------------------------------

  /**
   * Called after each command is executed (`error`: its CERROR code, 0 when done). The engine has
   * no clock: the platform stamps these (the timeline's SMMU command track). Unset costs nothing.
   */
  onCommand: ((command: SmmuCommand, error: number) => void) | undefined = undefined;

  /** Translates one transaction, every memory read answered at once through `mem`. See `SmmuResult`. */
  translate(req: SmmuRequest): SmmuResult {
    const tx = this.begin(req);
    while (!tx.done) {
      tx.readOk = readOrSwap(this.mem, tx, tx.d);
      this.advance(tx);
    }
    const res = { ...tx.result };   // the pooled transaction's result is reused by the next begin()
    this.release(tx);
    return res;
  }

  /**
   * Starts translating `req` and runs it to its first memory read (or to its end: `tx.done`).
   * While `tx.done` is false, `tx.readPa`/`tx.readAttrs` name the 8-byte read it waits for;
   * answer it with `supply`. Transactions are independent: any number may wait at once, and the
   * engine's caches are shared among them as an SMMU's walkers share its TLBs. Give the
   * transaction back with `release` once its `result` has been taken.
   */
  begin(req: SmmuRequest): SmmuTxn {
    const tx = this.txnPool.pop() ?? new SmmuTxn();
    tx.req = req;
    resetSmmuResult(tx.result);      // pooled with the transaction: nothing allocated per translation
    tx.casCount = 0;
    tx.ste = null;
    tx.cd = null;
    tx.done = false;
    tx.direct = 0;
    const st = this.streamStat(req.streamId >>> 0);
    st.translations++;
    tx.st = st;
    let r: number;
    try {
      r = this.resolve(tx);
    } catch (e) {
      this.faulted(tx, e);
      r = R_DONE;
    }
    if (r === R_DONE) { tx.done = true; return tx; }    // no read needed (and none counted)
    if (r === R_WALK_S1 || r === R_WALK_S2) {
      // The configuration is cached: the walk runs as a state machine, no generator per miss.
      tx.direct = r;
      this.startWalk(tx, r);
      this.nextDirect(tx);
      return tx;
    }
    tx.steps = this.steps(tx, r);
    this.advance(tx);
    return tx;
  }

  /** Answers the read `tx` waits for (`ok` false: an External abort on it) and runs it to its next read or its end. */
  supply(tx: SmmuTxn, ok: boolean, lo = 0, hi = 0): void {
    if (tx.done) throw new Error('supply: the transaction is not waiting for a read');
    tx.readOk = ok;
    tx.d.lo = lo >>> 0;
    tx.d.hi = hi >>> 0;
    this.advance(tx);
  }

  /** Returns a finished transaction to the pool; its `result` object is reused by a later begin(): take what you keep first. */
  release(tx: SmmuTxn): void {
    if (!tx.done) throw new Error('release: the transaction is still waiting for a read');
    tx.steps = null;
    tx.st = null;
    this.txnPool.push(tx);
  }

  private advance(tx: SmmuTxn): void {
    if (tx.direct !== 0) { this.feed(tx); this.nextDirect(tx); return; }
    if (tx.steps!.next().done === true) tx.done = true;
  }

  /** A direct walk (see `begin`): names its next read, or ends the translation as `steps` would. */
  private nextDirect(tx: SmmuTxn): void {
    const w = tx.walker;
    if (!w.done) { this.wantWalk(tx); return; }
    try {
      this.endWalk(tx, tx.direct);
    } catch (e) {
      this.faulted(tx, e);
    }
    this.countReads(tx);
    tx.done = true;
  }

  /** The whole translation as steps that yield at each memory read (the read is in `tx.readPa`). */
  private *steps(tx: SmmuTxn, r: number): Generator<void, void, void> {
    try {
      yield* this.doTranslate(tx, r);
    } catch (e) {
      this.faulted(tx, e);
    }
    this.countReads(tx);
  }

  /** A translation step threw `e`: an architectural Fault ends `tx` with its outcome (onFault); anything else is a simulator error and goes on up. */
  private faulted(tx: SmmuTxn, e: unknown): void {
    if (!(e instanceof Fault)) throw e;
    this.onFault(tx, e);
  }

  /** Adds a finished translation's reads to its stream's stats. */
  private countReads(tx: SmmuTxn): void {
    const res = tx.result, st = tx.st!;
    st.walkReads += res.walkReads;
    st.configReads += res.reads - res.walkReads - tx.casCount;
    st.descriptorUpdates += tx.casCount;
  }

  /** Completions of stalled transactions resolved by RESUME / STALL_TERM since the last call. */
  takeCompletions(): SmmuCompletion[] {
    const c = this.completions;
    this.completions = [];
    return c;
  }

  /** Stalled transactions waiting for software (STAG, StreamID). */
  stalledTransactions(): Array<{ stag: number; streamId: number }> {
    return this.stalled.map((s) => ({ stag: s.stag, streamId: s.req.streamId }));
  }

  /**
   * The translation as far as the engine's caches take it, without reading memory: sets
   * `tx.result` and returns R_DONE (a hit, a bypass, or a Fault thrown), or says what must be
   * read first: the STE (R_STE), the CD (R_CD, for `tx.cdSsid`) or a walk (R_WALK_S1 / R_WALK_S2,
   * its operands in tx.w*; the miss is already counted). Run again after each fetch: the STE and
   * CD found are kept in `tx`, so a hit is counted once. An IOTLB hit with cached STE and CD
   * (most transactions) thus needs no steps at all (`begin`).
   */
  private resolve(tx: SmmuTxn): number {
    const req = tx.req, res = tx.result, st = tx.st!;
    const sid = req.streamId >>> 0;
    let vaHi: number, vaLo: number;
    if (typeof req.iova === 'number') { vaHi = Math.floor(req.iova / TWO_32); vaLo = req.iova % TWO_32; }
    else { vaHi = req.iova.hi >>> 0; vaLo = req.iova.lo >>> 0; }
    let se = tx.ste;
    if (se === null) {
      // (Decided once, at the start: a fetch that follows does not look at CR0 again.)
      const regs = this.regs;
      if ((regs.get(Reg.CR0) & CR0_SMMUEN) === 0) {
        // SMMUEN=0: GBPA decides for all traffic (IHI 0070 6.3.14); no events.
        const gbpa = regs.get(Reg.GBPA);
        if ((gbpa & GBPA_ABORT) !== 0 || vaHi >= 2 ** (this.config.oasBits - 32)) throw new Fault(newEvent(0), SILENT, 0);
        res.via = 'gbpa';
        res.pa = vaHi * TWO_32 + vaLo;
        res.attrs = this.overrideAttrs(req.attrs ?? NORMAL_WB_RWA_OSH, (gbpa >>> 4) & 1, gbpa & 0xf, (gbpa >>> 12) & 3);
        return R_DONE;
      }
      const hit = this.steCache.get(sid);
      if (hit === undefined) return R_STE;
      st.steHits++;
      se = tx.ste = hit;
    }
    if (se.abort) throw new Fault(newEvent(0), SILENT, 0); // Config 0b0xx: abort, no event (IHI 0070 5.2)
    const ste = se.ste;
    let priv = req.privileged === true;
    let exec = req.access === SmmuAccess.Exec;
    if (this.config.attrPermsOvr) {
      if (ste.PRIVCFG === 2) priv = false; else if (ste.PRIVCFG === 3) priv = true;
      if (req.access !== SmmuAccess.Write) { if (ste.INSTCFG === 2) exec = false; else if (ste.INSTCFG === 3) exec = true; }
    }
    const incoming = this.overrideAttrs(req.attrs ?? NORMAL_WB_RWA_OSH, ste.MTCFG, ste.MemAttr, ste.SHCFG);
    if (se.bypass) {
      if (vaHi >= 2 ** (this.config.oasBits - 32)) throw this.fault(EvtType.F_ADDR_SIZE, CONFIG, 0);
      res.via = 'bypass'; res.pa = vaHi * TWO_32 + vaLo; res.attrs = incoming;
      return R_DONE;
    }
    // Stage 1: which CD (IHI 0070 5.2 S1CDMax/S1DSS; 3.9 "Substreams").
    let ce: CdEntry | null = tx.cd;
    if (se.s1 && ce === null) {
      const ssv = req.ssv === true, ssid = ssv ? (req.substreamId ?? 0) >>> 0 : 0;
      let want = -1;                                        // -1: no CD (S1DSS=bypass)
      if (ste.S1CDMax === 0) {
        if (ssv) throw this.fault(EvtType.C_BAD_SUBSTREAMID, CONFIG, 0);
        want = 0;
      } else if (!ssv) {
        if (ste.S1DSS === S1Dss.Terminate) throw this.fault(EvtType.F_STREAM_DISABLED, CONFIG, 0);
        if (ste.S1DSS === S1Dss.Substream0) want = 0;
      } else {
        if (ssid >= 2 ** ste.S1CDMax || (ste.S1DSS === S1Dss.Substream0 && ssid === 0)) throw this.fault(EvtType.C_BAD_SUBSTREAMID, CONFIG, 0);
        want = ssid;
      }
      if (want >= 0) {
        const hit = this.cdCache.get(sid * 2 ** 20 + want);
        if (hit === undefined) { tx.cdSsid = want; return R_CD; }
        st.cdHits++;
        ce = tx.cd = hit;
      }
    }
    const access = req.access === SmmuAccess.Write ? AccessType.Write : exec ? AccessType.Fetch : AccessType.Read;
    const el: 0 | 1 = priv ? 1 : 0;
    const vs = this.vmidStat(se.vmid);
    if (ce === null && !se.s2) {
      // S1DSS=bypass with stage 2 off: the stream is in bypass for this transaction.
      if (vaHi >= 2 ** (this.config.oasBits - 32)) throw this.fault(EvtType.F_ADDR_SIZE, CONFIG, 0);
      res.via = 'bypass'; res.pa = vaHi * TWO_32 + vaLo; res.attrs = incoming;
      return R_DONE;
    }
    tx.wVaHi = vaHi; tx.wVaLo = vaLo; tx.wAccess = access; tx.wEl = el; tx.wIncoming = incoming;
    if (ce !== null) {
      const rg = ce.regime;
      const tlb = se.el2 ? this.tlbEl2 : this.tlbNh;
      const va = tlbVa(vaHi, vaLo), top = tlbTop(vaHi);
      if (this.inRange(rg, vaHi, vaLo, access === AccessType.Fetch)) {
        const slot = tlb.lookup(va, top, ce.asid, se.vmid);
        if (slot >= 0 && permissionFault(tlb.perms(slot), access, el) < 0) {
          st.tlbHits++; vs.tlbHits++;
          res.via = 'tlb'; res.pa = tlb.output(slot, va); res.attrs = tlb.attrs(slot); res.perms = tlb.perms(slot);
          return R_DONE;
        }
        // A permission failure on a hit is walked again so that the fault names the stage that
        // denied it (the TLB keeps only the combined permissions).
      }
      st.tlbMisses++; vs.tlbMisses++;
      return R_WALK_S1;
    }
    // Stage 2 only (Config 0b110, or S1DSS=bypass in a nested stream): the input is the IPA.
    const rg = se.s2Regime!;
    if (vaHi >= 2 ** 20 || vaHi * TWO_32 + vaLo >= 2 ** rg.s2.inputBits) {
      const ev = this.fault(EvtType.F_TRANSLATION, TRANSLATION, 2);
      ev.ev.S2 = 1; ev.ev.CLASS = EvtClass.IN; ev.ev.IPA = vaHi < 2 ** 20 ? vaHi * TWO_32 + vaLo : 0;
      throw ev;
    }
    const ipa = vaHi * TWO_32 + vaLo;
    const slot = this.tlbS2.lookup(ipa, 0, 0, se.vmid);
    if (slot >= 0 && permissionFault(this.tlbS2.perms(slot), access, el) < 0) {
      st.tlbHits++; vs.tlbHits++;
      res.via = 'tlb'; res.pa = this.tlbS2.output(slot, ipa); res.perms = this.tlbS2.perms(slot);
      res.attrs = combineS1S2(incoming, this.tlbS2.attrs(slot), rg.attrOpts);
      return R_DONE;
    }
    st.tlbMisses++; vs.tlbMisses++;
    return R_WALK_S2;
  }

  /** The steps after `resolve` answered `r` (not R_DONE): fetch what it asked for, resolve again, walk and fill the IOTLB. */
  private *doTranslate(tx: SmmuTxn, r: number): Generator<void, void, void> {
    const sid = tx.req.streamId >>> 0, st = tx.st!;
    while (r === R_STE || r === R_CD) {
      if (r === R_STE) tx.ste = yield* this.steFor(tx, sid, st);
      else tx.cd = yield* this.cdFor(tx, tx.ste!, sid, tx.cdSsid, st);
      r = this.resolve(tx);
    }
    if (r === R_DONE) return;
    this.startWalk(tx, r);
    yield* this.pump(tx);
    this.endWalk(tx, r);
  }

  /** Starts `tx`'s walker on the walk `resolve` asked for (`r`: R_WALK_S1, a stage-1 or nested walk, or R_WALK_S2). */
  private startWalk(tx: SmmuTxn, r: number): void {
    const se = tx.ste!;
    this.beginWalk(tx, r === R_WALK_S1 ? tx.cd!.regime : se.s2Regime!, r === R_WALK_S1 && se.el2 ? this.walkCacheEl2 : this.walkCacheNh,
      tx.wVaHi, tx.wVaLo, tx.wAccess, tx.wEl);
  }

  /** Starts `tx`'s walker in regime `rg` with walk cache `wc` (when walk caching is on). */
  private beginWalk(tx: SmmuTxn, rg: Regime, wc: WalkCache, vaHi: number, vaLo: number, access: AccessType, el: 0 | 1): void {
    const w = tx.walker;
    w.walkCache = this.useWalkCache ? wc : undefined;
    w.start(rg, vaHi, vaLo, access, el);
  }

  /** After a walk: counts its reads, and throws its fault (mapped with CLASS `cls` for a fault on the final input). */
  private walkEnded(tx: SmmuTxn, cls: number): void {
    const w = tx.walker;
    tx.result.walkReads += w.result.reads;
    if (w.faulted) throw this.walkFault(tx, w.fault, cls);
  }

  /** After the walk `startWalk` began has ended: throws its fault (CLASS IN), else sets the result and fills the IOTLB. */
  private endWalk(tx: SmmuTxn, r: number): void {
    const se = tx.ste!, res = tx.result, vaHi = tx.wVaHi, vaLo = tx.wVaLo;
    this.walkEnded(tx, EvtClass.IN);
    const w = tx.walker.result;
    res.via = 'walk'; res.pa = w.pa; res.perms = w.perms;
    if (r === R_WALK_S1) {
      const ce = tx.cd!;
      res.attrs = w.attrs;
      const flags = TLB_S1 | (w.global ? TLB_GLOBAL : 0) | (w.s2Level >= 0 ? TLB_S2 : 0) | (ce.cd.ASET === 1 ? TLB_NONSHARED : 0);
      const tlb = se.el2 ? this.tlbEl2 : this.tlbNh;
      if (w.pageBytes >= 4096) tlb.insertEntry(tlbVa(vaHi, vaLo), tlbTop(vaHi), ce.asid, se.vmid, w.pageBytes, w.pa, w.ipa, w.attrs, w.perms, flags, w.s2BlockBytes || w.pageBytes);
      return;
    }
    const ipa = vaHi * TWO_32 + vaLo;
    // Stage 1 bypassed: the incoming attributes (after the STE overrides) stand in for stage 1.
    res.attrs = combineS1S2(tx.wIncoming, w.s2Attrs, se.s2Regime!.attrOpts);
    this.tlbS2.insertEntry(ipa, 0, 0, se.vmid, w.s2BlockBytes, w.pa, ipa, w.s2Attrs, w.perms, TLB_GLOBAL | TLB_S2, w.s2BlockBytes);
  }

  /** The walker's pre-checks that decide whether a TLB lookup is allowed (TLB contract in mmu/tlb.ts). */
  private inRange(rg: Regime, vaHi: number, vaLo: number, fetch: boolean): boolean {
    const bit55 = (vaHi >>> 23) & 1;
    const h = bit55 === 1 ? rg.s1.half1 : rg.s1.half0;
    if (h.txszFault || h.epd) return false;
    const top = h.tbi && !(fetch && h.tbid) ? 55 : 63;
    return bitsEqual(vaHi, vaLo, top, h.inputBits, bit55);
  }

  /** A whole walk through `mem`; throws the mapped fault. `cls`: CLASS of a fault on the final input. */
  private *walk(tx: SmmuTxn, rg: Regime, wc: WalkCache, vaHi: number, vaLo: number, access: AccessType, el: 0 | 1, cls: number): Generator<void, void, void> {
    this.beginWalk(tx, rg, wc, vaHi, vaLo, access, el);
    yield* this.pump(tx);
    this.walkEnded(tx, cls);
  }

  /** Runs `tx`'s started walker to its end, yielding at each of its reads. */
  private *pump(tx: SmmuTxn): Generator<void, void, void> {
    const w = tx.walker;
    while (!w.done) {
      this.wantWalk(tx);
      yield;
      this.feed(tx);
    }
  }

  /** Gives the walker of `tx` the answer to its read (an External abort when not readOk). */
  private feed(tx: SmmuTxn): void {
    const w = tx.walker;
    if (tx.readOk) w.supply(tx.d.lo, tx.d.hi);
    else { tx.lastReadPa = w.readPa; w.abortRead(); }
  }

  /**
   * Maps a walker fault to the event (IHI 0070 7.3; S2/CLASS per ../shared/reference/smmuv3.md §4):
   * stage 1 on the input: S2=0 CLASS=IN; stage-1 descriptor fetch abort: S2=0 CLASS=TT; stage 2
   * translating a stage-1 table IPA (S1PTW): S2=1 CLASS=TT IPA=that table's IPA; stage 2 on the
   * final IPA: S2=1 CLASS=IN (or CD for a CD fetch) IPA=the IPA.
   */
  private walkFault(tx: SmmuTxn, f: WalkFault, cls: number): Fault {
    const type = FAULT_EVENT[f.type]!;
    const x = this.fault(type, TRANSLATION, f.stage);
    const ev = x.ev;
    if (f.stage === 2) {
      ev.S2 = 1;
      ev.CLASS = f.s1ptw ? EvtClass.TT : cls;
      ev.IPA = f.ipa >= 0 ? f.ipa : 0;
    } else {
      ev.CLASS = f.type === FaultType.WalkExternalAbort ? EvtClass.TT : cls;
    }
    if (f.type === FaultType.WalkExternalAbort) ev.FetchAddr = tx.lastReadPa;
    return x;
  }

  private fault(type: number, kind: number, stage: 0 | 1 | 2): Fault {
    return new Fault(newEvent(type), kind, stage);
  }

  private onFault(tx: SmmuTxn, x: Fault): void {
    const req = tx.req, res = tx.result, st = tx.st!;
    res.via = x.kind === SILENT && tx.ste !== null ? 'abort-ste' : 'fault';
    res.status = 'abort';
    if (x.kind === SILENT) return;
    st.faults++;
    const ev = x.ev;
    const ssv = req.ssv === true;
    ev.StreamID = req.streamId >>> 0;
    ev.SSV = ssv ? 1 : 0;
    ev.SubstreamID = ssv ? (req.substreamId ?? 0) >>> 0 : 0;
    ev.RnW = req.access === SmmuAccess.Write ? 0 : 1;
    ev.InD = req.access === SmmuAccess.Exec ? 1 : 0;
    ev.PnU = req.privileged === true ? 1 : 0;
    ev.InputAddr = typeof req.iova === 'number' ? BigInt(req.iova) : (BigInt(req.iova.hi >>> 0) << 32n) | BigInt(req.iova.lo >>> 0);
    res.event = ev;
    let record = true;
    const se = tx.ste, ce = tx.cd;
    const translationClass = ev.type >= EvtType.F_TRANSLATION && ev.type <= EvtType.F_PERMISSION;
    if (x.kind === TRANSLATION && translationClass && se !== null) {
      // Stall model (IHI 0070 3.12, 5.5 "Fault configuration (A, R, S bits)"): STALL_MODEL 0b00
      // stalls stage-1 faults with CD.S=1 (and STE.S1STALLD=0) and stage-2 faults with STE.S2S=1;
      // 0b01 never stalls; 0b10 ("stall forced") stalls every translation-related fault at either
      // stage: no immediate termination exists, so CD.R and CD.A do not apply (checkSte/checkCd
      // make S=0, S2S=0 and S1STALLD=1 illegal there, so this agrees with the fields).
      const model = this.config.stallModel;
      const stall = model === 2
        || (model === 0 && ((x.stage === 1 && ce !== null && ce.cd.S === 1 && se.ste.S1STALLD === 0) || (x.stage === 2 && se.ste.S2S === 1)));
      if (stall) {
        ev.Stall = 1;
        ev.STAG = this.nextStag;
        this.nextStag = (this.nextStag + 1) & 0xffff;
        this.stalled.push({ stag: ev.STAG, req });
        this.stats.stalls++;
        res.status = 'stalled';
        res.stag = ev.STAG;
        res.recorded = this.writeEvent(ev);
        return;
      }
      // Terminated translation-class faults are recorded only with CD.R (stage 1) / STE.S2R (stage 2).
      record = x.stage === 2 ? se.ste.S2R === 1 : ce !== null && ce.cd.R === 1;
    }
    if (x.kind === TRANSLATION && translationClass && x.stage === 1 && ce !== null && ce.cd.A === 0) res.status = 'raz-wi';
    if (record) res.recorded = this.writeEvent(ev);
    else this.stats.eventsSuppressed++;
  }

  // -------------------------------------------------------------------------------------------
  // Configuration: STE
  // -------------------------------------------------------------------------------------------

  /**
   * One 8-byte read of a translation with the attributes of that access (they choose the coherent
   * or non-coherent path): yields until it is answered, then the value is in `tx.d`.
   */
  private *read(tx: SmmuTxn, pa: number, attrs: number): Generator<void, boolean, void> {
    this.want(tx, pa, attrs);
    yield;
    return tx.readOk;
  }

  /** Names the read `tx` waits for at its next yield (the caller yields: no generator per read on a walk). */
  private want(tx: SmmuTxn, pa: number, attrs: number): void {
    tx.result.reads++;
    tx.readPa = pa;
    tx.readAttrs = attrs;
    tx.cas = false;
  }

  /** `want` for the walker's next access: a read, or the compare-and-swap of a descriptor update (HTTU). */
  private wantWalk(tx: SmmuTxn): void {
    const w = tx.walker;
    this.want(tx, w.readPa, w.readAttrs);
    if (!w.writeNeeded) return;
    tx.cas = true;
    tx.casCount++;
    tx.casOldLo = w.casOldLo; tx.casOldHi = w.casOldHi; tx.casNewLo = w.casNewLo; tx.casNewHi = w.casNewHi;
  }

  /** A command-queue read, answered at once (commands are consumed synchronously). */
  private readNow(pa: number, attrs: number): boolean {
    return this.mem.read64(pa, this.d, attrs);
  }

  /**
   * Attributes of SMMU-originated accesses from a cache/shareability triple: CR1.QUEUE_* and
   * CR1.TABLE_* (IC/OC 0 NC, 1 WB, 2 WT, 3 reserved, taken as WB) and STE.S1CIR/S1COR/S1CSH
   * (0 NC, 1 WB-RA, 2 WT-RA, 3 WB); SH 0 NSH, 2 OSH, 3 ISH (1 reserved, taken as OSH).
   * IHI 0070 6.3.x "SMMU_CR1", 5.2 "Stream Table Entry".
   */
  private codeAttrs(ic: number, oc: number, sh: number): number {
    const k = ic * 16 + oc * 4 + sh;
    let a = CODE_ATTRS[k];
    if (a === undefined) {
      const level = (c: number): { cache: 'NC' | 'WT' | 'WB'; readAllocate?: boolean; writeAllocate?: boolean } =>
        c === 0 ? { cache: 'NC' } : c === 2 ? { cache: 'WT', readAllocate: true } : { cache: 'WB', readAllocate: true, writeAllocate: true };
      a = packAttrs({ memType: 'Normal', inner: level(ic), outer: level(oc), shareability: sh === 0 ? 'NSH' : sh === 3 ? 'ISH' : 'OSH' });
      CODE_ATTRS[k] = a;
    }
    return a;
  }

  /** CR1.QUEUE_IC/OC/SH: command and event queue accesses. */
  queueAttrs(): number {
    const cr1 = this.regs.get(Reg.CR1);
    return this.codeAttrs(cr1 & 3, (cr1 >>> 2) & 3, (cr1 >>> 4) & 3);
  }

  /** CR1.TABLE_IC/OC/SH: stream table (L1STD and STE) accesses. */
  tableAttrs(): number {
    const cr1 = this.regs.get(Reg.CR1);
    return this.codeAttrs((cr1 >>> 6) & 3, (cr1 >>> 8) & 3, (cr1 >>> 10) & 3);
  }

  /** Reads a 64-byte record at `pa` into `tx.words`; false (and tx.lastReadPa) on an abort. */
  private *readRecord(tx: SmmuTxn, pa: number, attrs: number): Generator<void, boolean, void> {
    for (let i = 0; i < 8; i++) {
      if (!(yield* this.read(tx, pa + 8 * i, attrs))) { tx.lastReadPa = pa + 8 * i; return false; }
      tx.words[2 * i] = tx.d.lo;
      tx.words[2 * i + 1] = tx.d.hi;
    }
    return true;
  }

  private *steFor(tx: SmmuTxn, sid: number, st: SmmuStreamStats): Generator<void, SteEntry, void> {
    const hit = this.steCache.get(sid);
    if (hit !== undefined) { st.steHits++; return hit; }
    st.steMisses++;
    const cfg = this.regs.get(Reg.STRTAB_BASE_CFG);
    const log2size = Math.min(cfg & 0x3f, this.config.sidSize);
    const split = (cfg >>> 6) & 0x1f, fmt = (cfg >>> 16) & 3;
    const base = this.regs.get64(Reg.STRTAB_BASE) - (this.regs.get(Reg.STRTAB_BASE) & 0x3f);
    if (sid >= 2 ** log2size) throw this.fault(EvtType.C_BAD_STREAMID, CONFIG, 0);
    let steAddr: number;
    if (fmt === 0) {
      steAddr = base + sid * 64;
    } else if (fmt === 1 && this.config.stLevel === 1) {
      // 2-level (IHI 0070 5.1): L1STD at base + (SID >> SPLIT) * 8; Span 0 is invalid, the level-2
      // table holds 2^(Span-1) STEs. Span above SPLIT+1 is treated as SPLIT+1 (assumed).
      const sp = Math.min(split, log2size);
      const l1 = base + Math.floor(sid / 2 ** sp) * 8;
      if (!(yield* this.read(tx, l1, this.tableAttrs()))) { const x = this.fault(EvtType.F_STE_FETCH, CONFIG, 0); x.ev.FetchAddr = l1; throw x; }
      const d = decodeL1Std(tx.d.lo, tx.d.hi);
      const idx = sid % 2 ** sp;
      if (d.Span === 0 || idx >= 2 ** (Math.min(d.Span, sp + 1) - 1)) throw this.fault(EvtType.C_BAD_STREAMID, CONFIG, 0);
      steAddr = d.L2Ptr + idx * 64;
    } else {
      throw this.fault(EvtType.C_BAD_STREAMID, CONFIG, 0); // reserved FMT (assumed)
    }
    if (!(yield* this.readRecord(tx, steAddr, this.tableAttrs()))) { const x = this.fault(EvtType.F_STE_FETCH, CONFIG, 0); x.ev.FetchAddr = tx.lastReadPa; throw x; }
    const ste = decodeSte(tx.words);
    const entry = this.checkSte(ste);
    this.cacheInsert(this.steCache, sid, entry, this.config.steCacheEntries);
    return entry;
  }

  /** CMD_PREFETCH_CONFIG: fetch the STE into the configuration cache if it is well formed; a hint, never an event. */
  private prefetchConfig(sid: number): void {
    const tx = this.txnPool.pop() ?? new SmmuTxn();
    resetSmmuResult(tx.result);
    const g = this.steFor(tx, sid, this.streamStat(sid));
    try {
      while (g.next().done !== true) tx.readOk = readOrSwap(this.mem, tx, tx.d);
    } catch (e) {
      if (!(e instanceof Fault)) throw e;
    }
    tx.done = true;
    this.release(tx);
  }

  /** STE legality (IHI 0070 5.2 "ILLEGAL" cases; QEMU decode_ste / decode_ste_s2_cfg): C_BAD_STE. */
  private checkSte(ste: Ste): SteEntry {
    const c = this.config;
    const bad = (): Fault => this.fault(EvtType.C_BAD_STE, CONFIG, 0);
    if (ste.V === 0) throw bad();
    const cfg = ste.Config;
    const abort = (cfg & 4) === 0, bypass = cfg === 4;
    const s1 = !abort && (cfg & 1) === 1, s2 = !abort && (cfg & 2) === 2;
    if ((s1 && !c.s1p) || (s2 && !c.s2p)) throw bad();
    // STRW: 0 NS-EL1, 2 EL2 (needs IDR0.HYP, and no stage 2 without E2H), 1/3 reserved here.
    const el2 = !abort && !bypass && ste.STRW === 2;
    if (!abort && !bypass && (ste.STRW === 1 || ste.STRW === 3 || (el2 && (!c.hyp || s2)))) throw bad();
    if (s1 && ste.S1CDMax !== 0) {
      if (ste.S1CDMax > c.ssidSize || ste.S1Fmt === 3 || (ste.S1Fmt !== 0 && !c.cd2l) || ste.S1DSS === 3) throw bad();
    }
    if (s1 && !s2 && ste.S1ContextPtr >= 2 ** c.oasBits) throw bad();
    // IHI 0070 5.5: with stage 1 on, S1STALLD=1 is ILLEGAL unless STALL_MODEL = 0b00 (Linux sets it
    // only then: "Avoid ILLEGAL setting of STE.S1STALLD and CD.S", 9cff86fd2b96).
    if (s1 && ste.S1STALLD === 1 && c.stallModel !== 0) throw bad();
    const vmid = c.s2p && !el2 ? ste.S2VMID : 0;
    let s2Regime: Regime | null = null;
    if (s2) {
      const gran = GRANULE_BY_TG0[ste.S2TG];
      const psCode = Math.min(ste.S2PS, OAS_BITS.indexOf(c.oasBits as 48));
      const psBits = OAS_BITS[Math.min(psCode, 5)]!;
      // S2HA/S2HD need IDR0.HTTU (1: Access flag, 2: and dirty state).
      if (ste.S2AA64 === 0 || ste.S2ENDI === 1 || gran === undefined || !c.granules.includes(gran) || (ste.S2HA === 1 && c.httu < 1) || (ste.S2HD === 1 && c.httu < 2)
        || ste.S2TTB >= 2 ** psBits) throw bad();
      // IHI 0070 5.5: with stage 2 on, S2S=1 is ILLEGAL under STALL_MODEL 0b01 (no stalls) and S2S=0
      // under 0b10 (stall forced; SteIllegal() "stall_model forcing stall, but S2S == 0"; Linux sets
      // S2S for stall-enabled masters since ce7cb08e22e0 "Match Stall behaviour for S2").
      if ((ste.S2S === 1 && c.stallModel === 1) || (ste.S2S === 0 && c.stallModel === 2)) throw bad();
      s2Regime = this.regime(ste, null, vmid);
      if (s2Regime.s2.configFault) throw bad(); // S2T0SZ / S2SL0 out of range or inconsistent (AArch64.S2InvalidSL)
    }
    return Object.freeze({ ste: Object.freeze(ste), s1, s2, abort, bypass, el2, vmid, s2Regime });
  }

  // -------------------------------------------------------------------------------------------
  // Configuration: CD
  // -------------------------------------------------------------------------------------------

  /** The PA of a CD-table address: an IPA translated by the stream's stage 2 in nested mode (CLASS=CD faults). */
  private *cdPa(tx: SmmuTxn, se: SteEntry, addr: number): Generator<void, number, void> {
    if (!se.s2) return addr;
    const rg = se.s2Regime!;
    if (addr >= 2 ** rg.s2.inputBits) {
      const x = this.fault(EvtType.F_TRANSLATION, TRANSLATION, 2);
      x.ev.S2 = 1; x.ev.CLASS = EvtClass.CD; x.ev.IPA = addr;
      throw x;
    }
    // A CD fetch counts as a data read at stage 2 (../shared/reference/smmuv3.md §4).
    // Its descriptor reads count as config reads of the transaction, not as walk reads of the data address.
    const walkReads = tx.result.walkReads;
    yield* this.walk(tx, rg, this.walkCacheNh, Math.floor(addr / TWO_32), addr % TWO_32, AccessType.Read, 1, EvtClass.CD);
    tx.result.walkReads = walkReads;
    return tx.walker.result.pa;
  }

  /**
   * Attributes of CD and L1CD fetches: STE.S1CIR/S1COR/S1CSH, and in nested mode combined with the
   * stage-2 attributes of the CD's IPA (the last `cdPa` walk) as a stage-1 access would be.
   */
  private cdAttrs(tx: SmmuTxn, se: SteEntry): number {
    const s = se.ste;
    const a = this.codeAttrs(s.S1CIR, s.S1COR, s.S1CSH);
    return se.s2 ? combineS1S2(a, tx.walker.result.s2Attrs, se.s2Regime!.attrOpts) : a;
  }

  private *cdFor(tx: SmmuTxn, se: SteEntry, sid: number, ssid: number, st: SmmuStreamStats): Generator<void, CdEntry, void> {
    const key = sid * 2 ** 20 + ssid;
    const hit = this.cdCache.get(key);
    if (hit !== undefined) { st.cdHits++; return hit; }
    st.cdMisses++;
    const ste = se.ste;
    let cdAddr: number;
    if (ste.S1CDMax === 0 || ste.S1Fmt === 0) {
      cdAddr = ste.S1ContextPtr + ssid * 64;
    } else {
      const split = cdLeafSplit(ste.S1Fmt);
      const l1Ipa = ste.S1ContextPtr + Math.floor(ssid / 2 ** split) * 8;
      const l1Pa = yield* this.cdPa(tx, se, l1Ipa);
      if (!(yield* this.read(tx, l1Pa, this.cdAttrs(tx, se)))) { const x = this.fault(EvtType.F_CD_FETCH, CONFIG, 0); x.ev.FetchAddr = l1Pa; throw x; }
      const d = decodeL1Cd(tx.d.lo, tx.d.hi);
      if (d.V === 0) throw this.fault(EvtType.C_BAD_SUBSTREAMID, CONFIG, 0);
      cdAddr = d.L2Ptr + (ssid % 2 ** split) * 64;
    }
    // A CD is 64-byte aligned, so one translation covers it.
    const pa = yield* this.cdPa(tx, se, cdAddr);
    if (!(yield* this.readRecord(tx, pa, this.cdAttrs(tx, se)))) { const x = this.fault(EvtType.F_CD_FETCH, CONFIG, 0); x.ev.FetchAddr = tx.lastReadPa; throw x; }
    const cd = decodeCd(tx.words);
    const entry = this.checkCd(se, cd);
    this.cacheInsert(this.cdCache, key, entry, this.config.cdCacheEntries);
    return entry;
  }

  /** CD legality (IHI 0070 5.4; QEMU decode_cd): C_BAD_CD. */
  private checkCd(se: SteEntry, cd: Cd): CdEntry {
    const c = this.config;
    const bad = (): Fault => this.fault(EvtType.C_BAD_CD, CONFIG, 0);
    if (cd.V === 0 || cd.AA64 === 0 || cd.ENDI === 1 || (cd.HA === 1 && c.httu < 1) || (cd.HD === 1 && c.httu < 2)) throw bad();
    // IHI 0070 5.5: CD.S=1 is ILLEGAL under STALL_MODEL 0b01, or under 0b00 through an STE with
    // S1STALLD=1; CD.S=0 is ILLEGAL under 0b10 (stall forced: Linux sets CD.S whenever
    // ARM_SMMU_FEAT_STALL_FORCE). CD.A=0 is ILLEGAL with TERM_MODEL=1.
    if (cd.S === 1 ? c.stallModel === 1 || (c.stallModel === 0 && se.ste.S1STALLD === 1) : c.stallModel === 2) throw bad();
    if (cd.A === 0 && c.termModel === 1) throw bad();
    const ipsBits = OAS_BITS[Math.min(cd.IPS, OAS_BITS.indexOf(c.oasBits as 48), 5)]!;
    for (const n of [0, 1] as const) {
      if ((n === 0 ? cd.EPD0 : cd.EPD1) === 1) continue;
      const gran = n === 0 ? GRANULE_BY_TG0[cd.TG0] : GRANULE_BY_TG1[cd.TG1];
      const tsz = n === 0 ? cd.T0SZ : cd.T1SZ, ttb = n === 0 ? cd.TTB0 : cd.TTB1;
      // TnSZ outside 16..39 (no FEAT_LVA/TTST), a reserved or unimplemented granule, or a TTB
      // above the IPS: QEMU decode_cd "goto bad_cd" (the architecture allows C_BAD_CD here).
      if (gran === undefined || !c.granules.includes(gran) || tsz < 16 || tsz > 39 || ttb >= 2 ** ipsBits) throw bad();
    }
    const asid = cd.ASID;
    return Object.freeze({ cd: Object.freeze(cd), regime: this.regime(se.ste, cd, se.vmid), asid });
  }

  /**
   * The MMU regime for a stream: the CD as TCR/TTBR0/TTBR1/MAIR/SCTLR (stage 1), the STE's
   * S2* fields as VTCR/VTTBR and S2PTW/S2FWB as HCR_EL2.PTW/FWB (stage 2), so that the MMU's
   * walker performs the nested walk. EL2 is "enabled" so that the VMID (STE.S2VMID) tags walk-
   * cache entries even with stage 2 off.
   */
  private regime(ste: Ste, cd: Cd | null, vmid: number): Regime {
    const c = this.config;
    const s2 = (ste.Config & 6) === 6;
    const oasIdx = OAS_BITS.indexOf(c.oasBits as 48);
    const r = regimeRegisters({ el2Enabled: true, sctlr: encodeSctlr({ m: cd !== null, wxn: cd !== null && cd.WXN === 1 }) });
    if (cd !== null) {
      const t = encodeTcr({
        t0sz: cd.T0SZ, tg0: GRANULE_BY_TG0[cd.TG0] ?? c.granules[0], epd0: cd.EPD0 === 1, irgn0: cd.IR0, orgn0: cd.OR0, sh0: cd.SH0,
        t1sz: cd.T1SZ, tg1: GRANULE_BY_TG1[cd.TG1] ?? c.granules[0], epd1: cd.EPD1 === 1, irgn1: cd.IR1, orgn1: cd.OR1, sh1: cd.SH1,
        ipsBits: OAS_BITS[Math.min(cd.IPS, oasIdx, 5)]!, as16: true, tbi0: cd.TBI0 === 1, tbi1: cd.TBI1 === 1,
        ha: cd.HA === 1, hd: cd.HD === 1,
      });
      const t0 = encodeTtbr(cd.TTB0 % 2 ** 48, cd.ASID), t1 = encodeTtbr(cd.TTB1 % 2 ** 48, 0);
      r.tcrLo = t.lo; r.tcrHi = t.hi; r.ttbr0Lo = t0.lo; r.ttbr0Hi = t0.hi; r.ttbr1Lo = t1.lo; r.ttbr1Hi = t1.hi;
      r.mairLo = cd.MAIR0 >>> 0; r.mairHi = cd.MAIR1 >>> 0;
    }
    if (s2) {
      const v = encodeVtcr({
        t0sz: ste.S2T0SZ, sl0: ste.S2SL0, tg0: GRANULE_BY_TG0[ste.S2TG] ?? '4K', irgn0: ste.S2IR0, orgn0: ste.S2OR0, sh0: ste.S2SH0,
        psBits: OAS_BITS[Math.min(ste.S2PS, oasIdx, 5)]!, vs16: true, ha: ste.S2HA === 1, hd: ste.S2HD === 1,
      });
      const h = encodeHcr({ vm: true, ptw: ste.S2PTW === 1, fwb: c.fwb && ste.S2FWB === 1 });
      r.vtcrLo = v.lo; r.vtcrHi = v.hi; r.hcrLo = h.lo; r.hcrHi = h.hi;
    } else {
      r.vtcrLo = encodeVtcr({ vs16: true }).lo;
    }
    const vt = encodeTtbr(s2 ? ste.S2TTB % 2 ** 48 : 0, vmid);
    r.vttbrLo = vt.lo; r.vttbrHi = vt.hi;
    return decodeRegime(r, this.features);
  }

  /**
   * Incoming attributes after the STE (or GBPA) overrides (IHI 0070 5.2 MTCFG/MemAttr/SHCFG, with
   * IDR1.ATTR_TYPES_OVR): MTCFG=1 replaces the type and cacheability with MemAttr (decoded as a
   * stage-2 MemAttr, assumed); SHCFG 0 NSH, 1 incoming, 2 OSH, 3 ISH. ALLOCCFG is not applied.
   */
  private overrideAttrs(a: number, mtcfg: number, memAttr: number, shcfg: number): number {
    if (!this.config.attrTypesOvr) return a;
    if (mtcfg === 1) a = (decodeS2MemAttr(memAttr, 0, false) & ~ATTR_SH_MASK) | (a & ATTR_SH_MASK);
    if (shcfg !== 1) {
      const sh = shcfg === 0 ? Shareability.NSH : shcfg === 2 ? Shareability.OSH : Shareability.ISH;
      a = (a & ~ATTR_SH_MASK) | (sh << ATTR_SH_SHIFT);
    }
    return a;
  }

  private cacheInsert<K, V>(m: Map<K, V>, k: K, v: V, cap: number): void {
    m.delete(k);
    if (m.size >= cap) m.delete(m.keys().next().value as K); // oldest first (assumed replacement)
    m.set(k, v);
  }

  // -------------------------------------------------------------------------------------------
  // Event queue
  // -------------------------------------------------------------------------------------------

  /**
   * Writes `ev` at EVENTQ_PROD (IHI 0070 7.1/7.2): discarded while SMMUEN or EVENTQEN is 0; on a
   * full queue the record is lost and EVENTQ_PROD.OVFLG toggles unless an overflow is already
   * outstanding (OVFLG != EVENTQ_CONS.OVACKFLG; Linux `queue_sync_prod_in` / `Q_OVF`); a write
   * abort sets GERROR.EVENTQ_ABT_ERR. Returns whether the record is in the queue.
   */
  writeEvent(ev: EventRecord): boolean {
    const regs = this.regs;
    const cr0 = regs.get(Reg.CR0);
    if ((cr0 & CR0_SMMUEN) === 0 || (cr0 & CR0_EVENTQEN) === 0 || (regs.activeErrors() & GERROR_EVENTQ_ABT_ERR) !== 0) {
      this.stats.eventsDiscarded++;
      return false;
    }
    const q = regs.eventq();
    const prod = regs.get(Reg.EVENTQ_PROD), cons = regs.get(Reg.EVENTQ_CONS);
    if (qFull(prod, cons, q.log2size)) {
      this.stats.eventsOverflowed++;
      if (((prod ^ cons) & Q_OVERFLOW_FLAG) === 0) regs.set(Reg.EVENTQ_PROD, (prod ^ Q_OVERFLOW_FLAG) >>> 0);
      return false;
    }
    const w = encodeEvent(ev);
    const at = q.base + qIndex(prod, q.log2size) * 32;
    for (let i = 0; i < 4; i++) {
      if (!this.mem.write64(at + 8 * i, w[2 * i]!, w[2 * i + 1]!, this.queueAttrs())) {
        this.stats.eventsDiscarded++;
        this.gerror(GERROR_EVENTQ_ABT_ERR);
        return false;
      }
    }
    regs.set(Reg.EVENTQ_PROD, ((prod & Q_OVERFLOW_FLAG) + qInc(prod, q.log2size)) >>> 0);
    this.stats.eventsWritten++;
    if ((regs.get(Reg.IRQ_CTRL) & IRQ_CTRL_EVENTQ_IRQEN) !== 0) this.stats.irqEventq++;
    return true;
  }

  /**
   * A record writeEvent queued outside a call met an External abort when its write was performed,
   * at its due cycle (SmmuHost performs the engine's writes then): as for an abort inside a call,
   * GERROR.EVENTQ_ABT_ERR (IHI 0070 7.2) and the record counts as discarded, not written. Called
   * once per record. EVENTQ_PROD already covers the entry (it moved when the record was queued);
   * software must reinitialize the queue after an EVENTQ_ABT_ERR anyway.
   */
  eventWriteAborted(): void {
    this.stats.eventsWritten--;
    this.stats.eventsDiscarded++;
    this.gerror(GERROR_EVENTQ_ABT_ERR);
  }

  private gerror(bit: number): void {
    if (this.regs.raiseError(bit) && (this.regs.get(Reg.IRQ_CTRL) & IRQ_CTRL_GERROR_IRQEN) !== 0) this.stats.irqGerror++;
  }

  // -------------------------------------------------------------------------------------------
  // Command queue
  // -------------------------------------------------------------------------------------------

  /**
   * Consumes commands from CMDQ_CONS to CMDQ_PROD while CMDQEN=1 (and SMMUEN is not required:
   * the queue runs independently, IHI 0070 6.3.9) and no CMDQ_ERR is active. An illegal command
   * (CERROR_ILL) or an abort reading one (CERROR_ABT) stops consumption with CMDQ_CONS at that
   * entry, CMDQ_CONS.ERR set and GERROR.CMDQ_ERR toggled; software fixes the entry and acknowledges
   * by toggling GERRORN.CMDQ_ERR, then consumption resumes on the next call. At most `max`
   * commands (a timed front end consumes one per step: SmmuHost.doorbell). Returns the number
   * of commands consumed.
   */
  processCommands(max = Number.POSITIVE_INFINITY): number {
    const regs = this.regs, hook = this.onCommand;
    let n = 0;
    while (n < max) {
      if ((regs.get(Reg.CR0) & CR0_CMDQEN) === 0 || (regs.activeErrors() & GERROR_CMDQ_ERR) !== 0) break;
      const q = regs.cmdq();
      const prod = regs.get(Reg.CMDQ_PROD), consReg = regs.get(Reg.CMDQ_CONS);
      const cons = consReg & 0xfffff;
      if (qEmpty(prod, cons, q.log2size)) break;
      const at = q.base + qIndex(cons, q.log2size) * 16;
      let err: number = CError.NONE;
      if (!this.readNow(at, this.queueAttrs())) err = CError.ABT;
      else {
        this.words[0] = this.d.lo; this.words[1] = this.d.hi;
        if (!this.readNow(at + 8, this.queueAttrs())) err = CError.ABT;
        else {
          this.words[2] = this.d.lo; this.words[3] = this.d.hi;
          const c = decodeCommand(this.words);
          err = this.execute(c);
          if (hook !== undefined) hook(c, err);
        }
      }
      if (err !== CError.NONE) {
        this.stats.commandErrors++;
        regs.set(Reg.CMDQ_CONS, ((err << CONS_ERR_SHIFT) | cons) >>> 0);
        this.gerror(GERROR_CMDQ_ERR);
        break;
      }
      regs.set(Reg.CMDQ_CONS, ((consReg & 0x7f000000) | qInc(cons, q.log2size)) >>> 0);
      n++;
    }
    return n;
  }

  /** Executes one command; returns a CERROR code (0 = done). */
  private execute(c: SmmuCommand): number {
    const cf = this.config;
    if (!c.legal || c.SSec === 1) return CError.ILL; // SSec=1 on the Non-secure queue (QEMU smmuv3_cmdq_consume)
    this.stats.commands++;
    this.stats.commandsByName[c.name] = (this.stats.commandsByName[c.name] ?? 0) + 1;
    const vmidOf = (): number => (cf.s2p ? c.VMID ?? 0 : 0);
    switch (c.opcode) {
      case CmdOp.PREFETCH_CONFIG: {
        // A hint: fetch the STE into the configuration cache if it is well formed; never an event.
        this.prefetchConfig(c.StreamID!);
        return CError.NONE;
      }
      case CmdOp.PREFETCH_ADDR: return CError.NONE;
      case CmdOp.CFGI_STE: this.cfgiSte(c.StreamID!, 1); return CError.NONE;
      case CmdOp.CFGI_STE_RANGE:
        if (c.Range === 31) this.cfgiAll();
        else this.cfgiSte(c.StreamID! - (c.StreamID! % 2 ** (c.Range! + 1)), 2 ** (c.Range! + 1));
        return CError.NONE;
      case CmdOp.CFGI_CD: {
        const k = c.StreamID! * 2 ** 20 + c.SubstreamID!;
        if (this.cdCache.delete(k)) this.streamStat(c.StreamID!).configInvalidations++;
        return CError.NONE;
      }
      case CmdOp.CFGI_CD_ALL: this.cfgiCds(c.StreamID!); return CError.NONE;
      case CmdOp.TLBI_NH_ALL: case CmdOp.TLBI_NH_ASID: case CmdOp.TLBI_NH_VA: case CmdOp.TLBI_NH_VAA: {
        if (!cf.s1p) return CError.ILL; // QEMU: stage-1 TLBIs are ILL without S1P
        const vmid = vmidOf();
        let n = 0;
        if (c.opcode === CmdOp.TLBI_NH_ALL) n = this.tlbNh.invalidateVmid(vmid) + this.walkCacheNh.invalidateVmid(vmid, false);
        else if (c.opcode === CmdOp.TLBI_NH_ASID) n = this.tlbNh.invalidateAsid(c.ASID!, vmid) + this.walkCacheNh.invalidateAsid(c.ASID!, vmid);
        else n = this.tlbiVa(this.tlbNh, this.walkCacheNh, c, c.opcode === CmdOp.TLBI_NH_VA ? c.ASID! : -1, vmid);
        this.countTlbi(vmid, n);
        return CError.NONE;
      }
      case CmdOp.TLBI_EL2_ALL: case CmdOp.TLBI_EL2_ASID: case CmdOp.TLBI_EL2_VA: case CmdOp.TLBI_EL2_VAA: {
        if (!cf.s1p || !cf.hyp) return CError.ILL;
        if (c.opcode === CmdOp.TLBI_EL2_ALL) { this.tlbEl2.invalidateAll(); this.walkCacheEl2.invalidateAll(); }
        else if (c.opcode === CmdOp.TLBI_EL2_ASID) { this.tlbEl2.invalidateAsid(c.ASID!, 0); this.walkCacheEl2.invalidateAsid(c.ASID!, 0); }
        else this.tlbiVa(this.tlbEl2, this.walkCacheEl2, c, c.opcode === CmdOp.TLBI_EL2_VA ? c.ASID! : -1, 0);
        return CError.NONE;
      }
      case CmdOp.TLBI_S12_VMALL: {
        if (!cf.s2p) return CError.ILL;
        const vmid = c.VMID!;
        this.countTlbi(vmid, this.tlbNh.invalidateVmid(vmid) + this.tlbS2.invalidateVmid(vmid) + this.walkCacheNh.invalidateVmid(vmid, true));
        return CError.NONE;
      }
      case CmdOp.TLBI_S2_IPA: {
        if (!cf.s2p) return CError.ILL;
        // Stage-2-only entries and stage-2 walk-cache entries; combined stage-1+2 entries need not
        // be removed (IHI 0070 4.4.x; gem5 processCommand, QEMU smmu_hash_remove_by_vmid_ipa) and are not.
        const vmid = c.VMID!, leaf = c.Leaf === 1;
        let n = 0;
        for (const ipa of this.rangePages(c, c.IPA!)) n += this.tlbS2.invalidateIpa(ipa, vmid, leaf) + this.walkCacheNh.invalidateIpa(ipa, vmid, leaf);
        this.countTlbi(vmid, n);
        return CError.NONE;
      }
      case CmdOp.TLBI_NSNH_ALL:
        this.tlbNh.invalidateAll(); this.tlbS2.invalidateAll(); this.walkCacheNh.invalidateAll();
        return CError.NONE;
      case CmdOp.TLBI_EL3_ALL: case CmdOp.TLBI_EL3_VA:
        return CError.ILL; // Secure-only commands on the Non-secure queue
      case CmdOp.ATC_INV:
        if (!cf.ats) return CError.ILL;
        this.stats.atcInvalidations++;
        return CError.NONE;
      case CmdOp.PRI_RESP:
        if (!cf.pri) return CError.ILL;
        this.stats.priResponses++;
        return CError.NONE;
      case CmdOp.RESUME: {
        // IHI 0070 4.7.1: CERROR_ILL when STALL_MODEL = 0b01; valid under 0b00 and 0b10 (stall forced
        // still terminates: by CMD_RESUME or CMD_STALL_TERM). A STAG that names no stalled
        // transaction of that StreamID is a no-op.
        if (cf.stallModel === 1) return CError.ILL;
        const i = this.stalled.findIndex((s) => s.stag === c.STAG && s.req.streamId >>> 0 === c.StreamID);
        if (i < 0) return CError.NONE;
        const [s] = this.stalled.splice(i, 1);
        this.stats.resumes++;
        this.complete(s!.stag, s!.req, c.Action === ResumeAction.Retry ? null : c.Action === ResumeAction.Abort ? 'abort' : 'terminate');
        return CError.NONE;
      }
      case CmdOp.STALL_TERM: {
        // IHI 0070 4.7.2: every stalled transaction of the StreamID terminates with an abort; ILL under 0b01.
        if (cf.stallModel === 1) return CError.ILL;
        for (let i = 0; i < this.stalled.length;) {
          const s = this.stalled[i]!;
          if (s.req.streamId >>> 0 === c.StreamID) {
            this.stalled.splice(i, 1);
            this.stats.stallTerminations++;
            this.complete(s.stag, s.req, 'abort');
          } else i++;
        }
        return CError.NONE;
      }
      case CmdOp.SYNC: {
        // Everything before the SYNC has completed (functional model). CS=SIG_IRQ: an MSI write of
        // MSIData to MSIAddress when one is given (Linux ARM_SMMU_OPT_MSIPOLL), else the wired
        // interrupt; CS=SIG_SEV: a send-event.
        this.stats.syncs++;
        if (c.CS === SyncCs.SIG_IRQ) {
          if (cf.msi && c.MSIAddress! !== 0) {
            this.stats.msiWrites++;
            // MSIAttr is a MemAttr encoding and MSH the shareability (IHI 0070 4.7.3 CMD_SYNC), decoded as the STE MemAttr override.
            const msiAttrs = (decodeS2MemAttr(c.MSIAttr ?? 0, 0, false) & ~ATTR_SH_MASK) | this.codeAttrs(0, 0, c.MSH ?? 0) & ATTR_SH_MASK;
            if (!this.mem.write32(c.MSIAddress!, c.MSIData!, msiAttrs)) this.gerror(GERROR_MSI_CMDQ_ABT_ERR);
          } else this.stats.irqCmdSync++;
        } else if (c.CS === SyncCs.SIG_SEV) this.stats.sev++;
        return CError.NONE;
      }
      default:
        return CError.ILL;
    }
  }

  /** The pages a TLBI by address names: one address (TG=0) or (NUM+1)*2^SCALE pages of the TG granule (range TLBI, IDR3.RIL). */
  private rangePages(c: SmmuCommand, addr: number): number[] {
    if (c.TG === 0 || c.TG === undefined || !this.config.ril) return [addr];
    const g = 2 ** (c.TG === 1 ? 12 : c.TG === 2 ? 14 : 16);
    const n = (c.NUM! + 1) * 2 ** c.SCALE!;
    if (n > this.config.maxRangePages) return [];
    const out: number[] = [];
    for (let i = 0; i < n; i++) out.push(addr + i * g);
    return out;
  }

  /** TLBI by VA (asid -1: any ASID, the VAA forms). A range too large for `maxRangePages` becomes the ASID/VMID scope. */
  private tlbiVa(tlb: Tlb, wc: WalkCache, c: SmmuCommand, asid: number, vmid: number): number {
    const top = ((c.addressHi ?? 0) >>> 23) & 1, leaf = c.Leaf === 1;
    const pages = this.rangePages(c, c.Address!);
    if (pages.length === 0) {
      return asid < 0 ? tlb.invalidateVmid(vmid) + wc.invalidateVmid(vmid, false) : tlb.invalidateAsid(asid, vmid) + wc.invalidateAsid(asid, vmid);
    }
    let n = 0;
    for (const va of pages) {
      n += asid < 0 ? tlb.invalidateVaAllAsid(va, top, vmid, leaf) : tlb.invalidateVa(va, top, asid, vmid, leaf);
      n += wc.invalidateVa(va, top, vmid, leaf);
    }
    return n;
  }

  private countTlbi(vmid: number, removed: number): void {
    const v = this.vmidStat(vmid);
    v.tlbiCommands++;
    v.invalidations += removed;
  }

  private cfgiSte(first: number, count: number): void {
    for (const sid of [...this.steCache.keys()]) {
      if (sid >= first && sid < first + count) { this.steCache.delete(sid); this.streamStat(sid).configInvalidations++; }
    }
    for (const k of [...this.cdCache.keys()]) {
      const sid = Math.floor(k / 2 ** 20);
      if (sid >= first && sid < first + count) { this.cdCache.delete(k); this.streamStat(sid).configInvalidations++; }
    }
  }

  private cfgiCds(sid: number): void {
    for (const k of [...this.cdCache.keys()]) {
      if (Math.floor(k / 2 ** 20) === sid) { this.cdCache.delete(k); this.streamStat(sid).configInvalidations++; }
    }
  }

  private cfgiAll(): void {
    for (const sid of this.steCache.keys()) this.streamStat(sid).configInvalidations++;
    for (const k of this.cdCache.keys()) this.streamStat(Math.floor(k / 2 ** 20)).configInvalidations++;
    this.steCache.clear();
    this.cdCache.clear();
  }

  /** Resolves a stalled transaction: retry (null) translates it again; otherwise it is terminated (abort, or RAZ/WI). */
  private complete(stag: number, req: SmmuRequest, how: 'abort' | 'terminate' | null): void {
    let result: SmmuResult;
    if (how === null) result = this.translate(req);
    else {
      result = { ...newSmmuResult(), status: 'abort', via: 'fault', stag };
      // CMD_RESUME Action [13:12] is {Ab, Ac} (IHI 0070 4.7.1): Terminate with Ab=0 completes the
      // transaction RAZ/WI unless TERM_MODEL=1 (then it aborts); Ab=1 (Linux RESP_ABORT) aborts.
      // Neither depends on CD.A or STE.S2S.
      if (how === 'terminate' && this.config.termModel === 0) result.status = 'raz-wi';
    }
    this.completions.push({ streamId: req.streamId >>> 0, stag, result });
  }

  // -------------------------------------------------------------------------------------------
  // Broadcast TLB maintenance (IDR0.BTM)
  // -------------------------------------------------------------------------------------------

  /**
   * A TLBI that a PE broadcast to its Inner Shareable domain (the IS forms), as it reaches this SMMU
   * when the PE's DSB completes it. IHI 0070 3.17 "TLB tagging, VMIDs, ASIDs and participation in
   * broadcast TLB maintenance": only with IDR0.BTM = 1, and ignored while SMMU_CR2.PTM = 1 (allowed,
   * and what Arm "strongly recommends"; Linux clears PTM only when it uses BTM). Matching is a PE
   * TLB's: NS-EL1 scopes (VMALLE1, VAE1, VALE1, VAAE1, ASIDE1: stage-1 and combined entries;
   * VMALLS12E1: everything of the VMID; IPAS2E1/IPAS2LE1: stage-2-only entries and the stage-2
   * walk cache, combined entries kept as with CMD_TLBI_S2_IPA; ALLE1: every NS-EL1 entry) act on
   * entries inserted through STEs with StreamWorld NS-EL1, tagged with STE.S2VMID (VMID 0 without
   * S2P); EL2 scopes (ALLE2, VAE2: no ASID, non-VHE) on StreamWorld EL2 entries. Leaf forms (VALE1,
   * IPAS2LE1) leave walk-cache entries. CD.ASET=1 contexts (an ASID set not shared with the PEs:
   * IHI 0070 CD.ASET, 3.17: their entries are not required to be invalidated by broadcasts by VA
   * or ASID) keep their IOTLB entries under VAE1/VALE1/VAAE1/ASIDE1 when `config.asetOptOut` (the
   * default; false removes them too, which is also allowed); broadcasts by VMID or of everything
   * remove them either way, and so are walk-cache entries (removing more is always allowed).
   * Contract: never throws; unknown scopes are ignored, as messages for unimplemented stages must be.
   *
   * `op`: an mmu `TlbiOp` (the IS flag is ignored); `addr`: VA[51:0] (the IPA for IPAS2*); `vaTop`:
   * VA[63:52] as the PE's TLBI operand carries it; `asid`; `vmid`: the issuer's VTTBR_EL2.VMID (0 if
   * it has no EL2). Returns the IOTLB and walk-cache entries removed (-1: not participating).
   */
  broadcastTlbi(op: number, addr: number, vaTop: number, asid: number, vmid: number): number {
    const CR2_PTM = 1 << 2; // SMMU_CR2.PTM, Linux arm-smmu-v3.h CR2_PTM
    this.stats.broadcastTlbis++;
    if (!this.config.btm || (this.regs.get(Reg.CR2) & CR2_PTM) !== 0) return -1;
    const top = (vaTop >>> 3) & 1;          // VA[55] (the engine's TLB tag), from VA[63:52]
    const v = this.config.s2p ? vmid & 0xffff : 0;
    const nh = this.tlbNh, wc = this.walkCacheNh, keep = this.config.asetOptOut;
    let n = 0;
    switch (tlbiScope(op)) {
      case TlbiOp.VMALLE1: n = nh.invalidateVmid(v) + wc.invalidateVmid(v, false); break;
      case TlbiOp.VMALLS12E1: n = nh.invalidateVmid(v) + this.tlbS2.invalidateVmid(v) + wc.invalidateVmid(v, true); break;
      case TlbiOp.VAE1: case TlbiOp.VALE1: {
        const leaf = tlbiScope(op) === TlbiOp.VALE1;
        n = nh.invalidateVa(addr, top, asid & 0xffff, v, leaf, keep) + wc.invalidateVa(addr, top, v, leaf);
        break;
      }
      case TlbiOp.VAAE1: n = nh.invalidateVaAllAsid(addr, top, v, false, keep) + wc.invalidateVa(addr, top, v); break;
      case TlbiOp.ASIDE1: n = nh.invalidateAsid(asid & 0xffff, v, keep) + wc.invalidateAsid(asid & 0xffff, v); break;
      case TlbiOp.IPAS2E1: case TlbiOp.IPAS2LE1: {
        const leaf = tlbiScope(op) === TlbiOp.IPAS2LE1;
        n = this.tlbS2.invalidateIpa(addr, v, leaf) + wc.invalidateIpa(addr, v, leaf);
        break;
      }
      case TlbiOp.ALLE1: n = nh.invalidateAll() + this.tlbS2.invalidateAll() + wc.invalidateAll(); break;
      case TlbiOp.ALLE2: n = this.tlbEl2.invalidateAll() + this.walkCacheEl2.invalidateAll(); break;
      case TlbiOp.VAE2: n = this.tlbEl2.invalidateVaAllAsid(addr, top, 0, false) + this.walkCacheEl2.invalidateVa(addr, top, 0); break;
      default: break;
    }
    this.stats.broadcastTlbiEntries += n;
    return n;
  }

  // -------------------------------------------------------------------------------------------
  // Stats
  // -------------------------------------------------------------------------------------------

  streamStat(sid: number): SmmuStreamStats {
    let s = this.streamStats.get(sid);
    if (s === undefined) { s = new SmmuStreamStats(); this.streamStats.set(sid, s); }
    return s;
  }

  vmidStat(vmid: number): SmmuVmidStats {
    let s = this.vmidStats.get(vmid);
    if (s === undefined) { s = new SmmuVmidStats(); this.vmidStats.set(vmid, s); }
    return s;
  }

  /** Plain-data snapshot of all stats (JSON-safe, keys sorted by stream / VMID). */
  statsSnapshot(): { smmu: SmmuStats; streams: Record<string, SmmuStreamStats>; vmids: Record<string, SmmuVmidStats> } {
    const streams: Record<string, SmmuStreamStats> = {}, vmids: Record<string, SmmuVmidStats> = {};
    for (const k of [...this.streamStats.keys()].sort((x, y) => x - y)) streams[k] = { ...this.streamStats.get(k)! };
    for (const k of [...this.vmidStats.keys()].sort((x, y) => x - y)) vmids[k] = { ...this.vmidStats.get(k)! };
    return { smmu: { ...this.stats, commandsByName: { ...this.stats.commandsByName } }, streams, vmids };
  }
}
