/**
 * A small model of KVM/arm64 and its VMM on one host: the host runs at EL2 with its own identity
 * ("linear") map of memory; a VM has memslots (IPA ranges backed by host memory with the VMA
 * flags and pgprot of the host mapping); its stage 2 starts empty and is filled by the stage-2
 * fault handler, which asks the selected policy what to map and performs the selected
 * cache-maintenance strategy as real DC/IC ops on the faulting PE, with their real cost.
 *
 * What runs where (simplifications, named): the VMM's user-space work (loading the image,
 * `vmm-clean-loaded`) runs on the host PE at EL2 through the host map, as if user and kernel
 * shared it; stage-2 table pages are allocated and linked functionally (coherent writes, no
 * time), while each leaf descriptor is also stored by the handler through the host map, so the
 * write that makes a page visible costs what a store costs; the trap itself costs `trapCycles`
 * on top of the exception entry and return. A stage-2 fault in an emulated MMIO region
 * (`addMmio`) exits to the VMM's device model, which completes the access; one outside every
 * memslot and MMIO region is given to the guest as an abort.
 *
 * Faults on a page already mapped: a translation fault is spurious (another vCPU mapped it) and
 * retried; a permission fault on a NoTagAccess page that already allows the access is a Tagged
 * access (FEAT_MTE_PERM) and is given to the guest, as KVM injects an abort; any other permission
 * fault (exec or write on a page mapped without it) asks the policy again. `changePte` models the
 * MMU-notifier clean of seed 004 on the host PE.
 */
import { prog, type OpResult, type Pe, type Program, type ProgramOp, type MmuSyndrome, type Stage2Resolution, ProgramOpSource } from '../core/index.js';
import {
  MmuReg, PageTableBuilder, TablePoolExhausted, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr, encodeVtcr, type Halves,
} from '../mmu/index.js';
import type { PhysicalStore, Region } from '../mem/index.js';
import { UserError } from '../sim/index.js';
import { cleanInvalidateAllBySetWay, dcByVaRange } from './cmo.js';
import { POLICIES, type MapDecision, type PlatformCaps, type S2Attr, type StagePolicy, type VmaInfo } from './policies/index.js';

/** When and how the host makes a guest's memory visible to accesses that bypass the caches. */
export const CMO_STRATEGIES = ['none', 'clean-all-at-start', 'clean-on-s2-fault', 'vmm-clean-loaded', 'set-way-at-start', 'hcr-dc', 'fwb'] as const;
export type CmoStrategy = (typeof CMO_STRATEGIES)[number];
export const CMO_DESCRIPTIONS: Readonly<Record<CmoStrategy, string>> = {
  none: 'no maintenance',
  'clean-all-at-start': 'DC CIVAC over all guest RAM (host VA) before the first vCPU run',
  'clean-on-s2-fault': 'DC CIVAC over each page when stage 2 first maps it (KVM before FWB)',
  'vmm-clean-loaded': 'the VMM cleans only what it loaded, by VA',
  'set-way-at-start': 'DC CISW over every CLIDR level on the host PE before the first vCPU run',
  'hcr-dc': 'run the vCPU with HCR_EL2.DC=1 while its MMU is off',
  fwb: 'FEAT_S2FWB with stage-2 Normal WB (needs a platform with it)',
};

export interface HypervisorDeps {
  /** Coherent physical memory (System.coherent): for functional table set-up. */
  store: PhysicalStore;
  /** Host memory regions, for the host's identity map. */
  regions: readonly Pick<Region, 'name' | 'base' | 'size' | 'kind' | 'linearMap'>[];
  caps: PlatformCaps;
  lineBytes: number;
}

export interface HypervisorConfig {
  policy: string;
  cmo: CmoStrategy;
  /** Cycles of hypervisor software per stage-2 fault (beyond exception entry/return and the handler's own memory ops). */
  trapCycles: number;
  /** Host memory for the host map's tables and the VM's stage-2 tables (1 MiB each from here). */
  tablesBase: number;
  /** The guest has MTE enabled. */
  vmMte?: boolean;
  /**
   * The host map covers `device` regions at VA = PA, as the host's own ioremap of them (default
   * true). False: the host kernel maps no device memory (a BAR handed to vfio is mapped only in the
   * VMM's VMA), so the identity VA of a BAR — what page_address() gives for its PFN — is unmapped.
   */
  hostMapsDevices?: boolean;
  /** How memslots with `logDirtyPages` record writes (default 'wp'; 'dbm' needs FEAT_HAFDBS level 2). */
  dirtyLog?: DirtyLogMode;
}

export interface Memslot {
  readonly name: string;
  readonly ipa: number;
  readonly size: number;
  /** Host PA (= host VA: the host map is an identity map). */
  readonly hostPa: number;
  readonly vma: VmaInfo;
  /**
   * The VMM's user VA of the slot (its mmap), for a slot over memory outside the linear map.
   * Default: `hostPa` (the host map is an identity map and the VMA sits there). Give another VA
   * to keep the PFN's would-be linear-map address (= PA here) unmapped, as it is on a real host
   * (seed 004's crash: the kernel cleaned a BAR through page_address()).
   */
  readonly hostVa?: number;
  /** KVM_MEM_LOG_DIRTY_PAGES requested for the slot (passed to the policy's memslot check). */
  readonly logDirtyPages?: boolean;
}

/** Outcome of a host cache-maintenance path run by `changePte`. */
export interface HostCleanResult {
  /** DC CIVAC ops issued (0 when the path skipped the clean). */
  dcOps: number;
  /** Why the clean was skipped, if it was. */
  skipped?: string;
  /** The host's own fault (EL2, stage 1) on the clean: the kernel Oops of seed 004. */
  fault?: { fault: string; esr: number; far: number; va: number };
  cycles: number;
}

/**
 * An emulated device in the VM's IPA space. A guest access there traps (no stage-2 mapping); the
 * VMM's model reads or writes the register at `offset` and the access completes with that value —
 * the KVM_EXIT_MMIO round trip, costed as `exitCycles` on top of the trap.
 */
export interface MmioRegion {
  readonly name: string;
  readonly ipa: number;
  readonly size: number;
  /** Cycles of the exit to the VMM and back (user space), beyond the hypervisor's own trap cost. */
  readonly exitCycles: number;
  read(offset: number, size: number): Uint8Array;
  write(offset: number, data: Uint8Array): void;
}

export class HypStats {
  mmioExits = 0;
  s2Faults = 0;
  s2Refused = 0;
  pagesMapped = 0;
  /** Cycles spent in cache maintenance by the host (start-of-day strategies and in fault handlers). */
  cmoCycles = 0;
  /** Data-cache maintenance ops (DC by VA or set/way) and instruction-cache invalidations (IC IVAU). */
  dcOps = 0;
  icOps = 0;
  /** Cycles from each stage-2 fault to the guest's resumption, summed. */
  faultCycles = 0;
  refusals: string[] = [];
  /**
   * Stage-2 Permission faults of Tagged accesses to pages mapped NoTagAccess (FEAT_MTE_PERM):
   * KVM injects an abort into the guest (here: the fault is delivered to the guest).
   */
  tagAccessFaults = 0;
  /** Translation faults on a page another vCPU mapped meanwhile: nothing to do but retry. */
  spuriousFaults = 0;
  /** Write faults on pages write-protected for dirty logging ('wp'): each marks the page dirty. */
  dirtyLogFaults = 0;
}

/**
 * How a memslot with `logDirtyPages` records the pages the guest writes (KVM_MEM_LOG_DIRTY_PAGES):
 * - 'wp': KVM's way: the slot's pages are mapped without write permission at stage 2; the first
 *   write to each takes a stage-2 Permission fault, whose handler marks the page in the dirty
 *   bitmap and maps it writable. Collecting the log (KVM_GET_DIRTY_LOG) reads the bitmap and
 *   write-protects the dirty pages again.
 * - 'dbm': FEAT_HAFDBS at stage 2: the pages are mapped writable-clean (S2AP[1]=0 with DBM) under
 *   VTCR_EL2.HA/HD, so the walker itself records a write by setting S2AP[1] and the guest takes no
 *   fault; collecting the log reads every leaf descriptor of the slot and cleans the dirty ones.
 * Either way a page made clean again needs TLBI IPAS2E1IS (then VMALLE1IS for combined entries)
 * and DSB before the next round, or a writable TLB entry would let writes go unrecorded.
 */
export const DIRTY_LOG_MODES = ['wp', 'dbm'] as const;
export type DirtyLogMode = (typeof DIRTY_LOG_MODES)[number];
/** Stage-2 S2AP[1] (write permission; with DBM, the dirty state), bit 7 of a leaf descriptor. */
const S2AP_WRITE = 1 << 7;

/** Page-table space for the host's linear map, from `tablesBase`; the stage-2 pool follows it. */
const HOST_TABLES_BYTES = 0x10_0000;
const HOST_MAIR = encodeMair([0xff, 0x04]);     // Attr0 Normal WB RWA, Attr1 Device-nGnRE
const TCR_EL2 = 16 | (1 << 8) | (1 << 10) | (3 << 12) | (5 << 16) | (1 << 23) | 2 ** 31;   // T0SZ 16, WB walks, ISH, 4KB, PS 48, RES1
/**
 * FEAT_MTE_PERM NoTagAccess Normal WB (Arm ARM D8.5.5 / D8.5.6; src/mmu/attrs.ts ATTR_NOTAGACCESS):
 * FWB=0 MemAttr 0b0100 is Normal iWB oWB NoTagAccess; FWB=1 MemAttr 0b1110 is "force WB" (0b110)
 * with NoTagAccess (MemAttr[3:1] = 0b111).
 */
const MEMATTR_WB_NOTAGACCESS = { plain: 0b0100, fwb: 0b1110 } as const;
/** Stage-2 MemAttr for each decision, without FWB (4-bit form) and with it (Arm ARM D8.5.5 / D8.5.6). */
const MEMATTR: Readonly<Record<S2Attr, { plain: number; fwb: number }>> = {
  'normal-wb': { plain: 0b1111, fwb: 0b0110 },
  'normal-nc': { plain: 0b0101, fwb: 0b0101 },
  'device-nGnRE': { plain: 0b0001, fwb: 0b0001 },
  'device-nGnRnE': { plain: 0b0000, fwb: 0b0000 },
};

export class Hypervisor {
  readonly stats = new HypStats();
  readonly policy: StagePolicy;
  readonly hostMap: PageTableBuilder;
  readonly stage2: PageTableBuilder;
  readonly memslots: Memslot[] = [];
  /** Emulated MMIO regions of the VM (no memslot): a trap there goes to the VMM's device model. */
  readonly mmio: MmioRegion[] = [];
  /** What each stage-2 page (by IPA) was mapped with, to tell a spurious or a tag-access fault from a new one. */
  readonly mapped = new Map<number, MapDecision>();
  /** Host memory of the dirty bitmap ('wp'): one byte per page of the guest's IPA space used, after the stage-2 pool. */
  readonly dirtyBitmapPa: number;
  private readonly vmid = 1;

  constructor(private readonly deps: HypervisorDeps, readonly cfg: HypervisorConfig) {
    const p = POLICIES[cfg.policy];
    if (p === undefined) throw new RangeError(`hyp.policy: unknown policy '${cfg.policy}' (one of ${Object.keys(POLICIES).join(', ')})`);
    this.policy = p;
    if (cfg.cmo === 'fwb' && !deps.caps.featS2FWB) throw new RangeError("hyp.cmo: 'fwb' needs FEAT_S2FWB, which this platform does not have");
    this.hostMap = new PageTableBuilder(deps.store, { stage: 1, granule: '4K', inputBits: 48, allocBase: cfg.tablesBase, allocLimit: cfg.tablesBase + HOST_TABLES_BYTES });
    for (const r of deps.regions) {
      try {
        if (r.kind === 'dram') this.hostMap.map({ va: r.base, oa: r.base, size: r.size, s1: { af: true, attrIndx: 0, sh: 3 } });
        else if (r.kind === 'device' && (cfg.hostMapsDevices ?? true)) this.hostMap.map({ va: r.base, oa: r.base, size: r.size, s1: { af: true, attrIndx: 1, pxn: true } });
        // cacheable-device memory outside the linear map: the host maps it only when a VMA does (memslots below).
      } catch (e) {
        if (!(e instanceof TablePoolExhausted)) throw e;
        // A platform input, not a simulator fault: a region too large (cachegrind's 256 TiB trace
        // space) for the host's linear map in the tables the model reserves for it.
        throw new UserError(`memory.regions.${r.name}.size: the host's linear map of 0x${r.size.toString(16)} bytes at 0x${r.base.toString(16)} needs more than the ${HOST_TABLES_BYTES / 1024} KiB of page tables the hypervisor model reserves (use a smaller region for hypervisor scenarios)`);
      }
    }
    const s2Base = cfg.tablesBase + HOST_TABLES_BYTES;
    this.stage2 = new PageTableBuilder(deps.store, { stage: 2, granule: '4K', inputBits: 40, startLevel: 1, allocBase: s2Base, allocLimit: s2Base + 0x40_0000 });
    this.dirtyBitmapPa = s2Base + 0x40_0000;
  }

  /** KVM_SET_USER_MEMORY_REGION: the policy may refuse it (the result says why). */
  addMemslot(slot: Memslot): { ok: true } | { ok: false; errno: string; reason: string } {
    const r = this.policy.memslot(slot.vma, this.deps.caps, { vmMte: this.cfg.vmMte ?? false, logDirtyPages: slot.logDirtyPages ?? false });
    if (!r.ok) { this.stats.refusals.push(`memslot ${slot.name}: -${r.errno} (${r.reason})`); return r; }
    this.memslots.push(slot);
    const inHostDeviceMap = (this.cfg.hostMapsDevices ?? true) && this.deps.regions.some((r) => r.kind === 'device' && slot.hostPa >= r.base && slot.hostPa < r.base + r.size);
    if (hostVaOf(slot) !== slot.hostPa || (!this.inLinearMap(slot.hostPa) && !inHostDeviceMap)) {
      // The VMA over memory outside the linear map: the host sees it with the VMA's own attributes.
      // (A slot over a `device` region at its identity VA shares the host's own Device mapping of it.)
      this.hostMap.map({ va: hostVaOf(slot), oa: slot.hostPa, size: slot.size, s1: { af: true, attrIndx: slot.vma.pgprot === 'normal' || slot.vma.pgprot === 'tagged' ? 0 : 1 } });
    }
    return { ok: true };
  }

  /** Installs the stage-2 fault handler on a PE that will run vCPUs. */
  attachTo(pe: Pe): void {
    pe.stage2Handler = (p, syn, resume) => this.onStage2Fault(p, syn, resume);
  }

  /** pfn_is_map_memory(): the PA is in the host's linear map (so the host can reach it by its linear-map VA, = PA here). */
  inLinearMap(pa: number): boolean {
    return this.deps.regions.some((r) => r.linearMap && pa >= r.base && pa < r.base + r.size);
  }

  // -------------------------------------------------------------------------------------------
  // Host programs
  // -------------------------------------------------------------------------------------------

  /** Exception entry to EL2, the host map on, and the VM's stage-2 registers set. */
  *hostInit(): Generator<ProgramOp, void, OpResult | undefined> {
    yield prog.exceptionLevel(2);
    yield prog.sysRegWriteHalves(MmuReg.MAIR_EL2, HOST_MAIR);
    yield prog.sysRegWrite(MmuReg.TCR_EL2, TCR_EL2);
    yield prog.sysRegWriteHalves(MmuReg.TTBR0_EL2, encodeTtbr(this.hostMap.root));
    yield prog.sysRegWrite(MmuReg.SCTLR_EL2, encodeSctlr({ m: true, c: true, i: true }));
    const hwDirty = this.cfg.dirtyLog === 'dbm';
    yield prog.sysRegWriteHalves(MmuReg.VTCR_EL2, encodeVtcr({ t0sz: 24, sl0: 1, tg0: '4K', ha: hwDirty, hd: hwDirty }));
    yield prog.sysRegWriteHalves(MmuReg.VTTBR_EL2, encodeTtbr(this.stage2.root, this.vmid));
    yield prog.sysRegWriteHalves(MmuReg.HCR_EL2, this.hcr());
    yield prog.isb();
  }

  /**
   * KVM_GET_DIRTY_LOG + KVM_CLEAR_DIRTY_LOG on `slot`, run by the host at EL2: pushes the IPAs of
   * the pages written since the last collection to `out` (ascending) and makes them clean again
   * (see DIRTY_LOG_MODES), with the TLB maintenance that needs (`tlbi: false` leaves it out, the
   * bug that lets writable TLB entries outlive the clean). Pages never mapped were not written.
   */
  *collectDirtyLog(slot: Memslot, out: number[], tlbi = true): Generator<ProgramOp, void, OpResult | undefined> {
    const pages = [...this.mapped.keys()].filter((p) => p >= slot.ipa && p < slot.ipa + slot.size).sort((a, b) => a - b);
    const cleaned: number[] = [];
    for (const page of pages) {
      const leaf = this.stage2.slotAddress(page, 3);
      if (this.cfg.dirtyLog === 'dbm') {
        // The descriptor as the walker left it (its updates went through the caches).
        const r = (yield prog.load(leaf, 8))!;
        if ((r.valueLo & S2AP_WRITE) === 0) continue;
        yield prog.store(leaf, 8, descriptorBytes(r.valueLo & ~S2AP_WRITE, r.valueHi));
      } else {
        const byte = this.dirtyBitmapPa + (page - slot.ipa) / 4096;
        const r = (yield prog.load(byte, 1))!;
        if (r.valueLo === 0) continue;
        yield prog.store(byte, 1, 0);
        const d = this.stage2.readDesc(leaf);
        yield prog.store(leaf, 8, descriptorBytes(d.lo & ~S2AP_WRITE, d.hi));
      }
      cleaned.push(page);
      if (tlbi) yield prog.tlbi('ipas2e1is', page);
    }
    // Combined stage-1+2 entries are not removed by IPAS2E1 (KVM: __kvm_tlb_flush_vmid_ipa).
    yield prog.dsb();
    if (tlbi && cleaned.length > 0) { yield prog.tlbi('vmalle1is'); yield prog.dsb(); }
    yield prog.isb();
    out.push(...cleaned);
  }

  /** HCR_EL2 for the vCPU under the selected strategy. */
  hcr(): Halves {
    return encodeHcr({ vm: true, dc: this.cfg.cmo === 'hcr-dc', fwb: this.cfg.cmo === 'fwb' });
  }

  /** The VMM writes `image` into guest memory at `ipa` through its cacheable mapping (64-byte stores). */
  *loadImage(ipa: number, image: Uint8Array): Generator<ProgramOp, void, OpResult | undefined> {
    const slot = this.slotOf(ipa);
    if (slot === undefined) throw new RangeError(`loadImage: IPA 0x${ipa.toString(16)} is in no memslot`);
    const host = hostVaOf(slot) + (ipa - slot.ipa);
    for (let off = 0; off < image.length; off += 64) {
      const n = Math.min(64, image.length - off);
      yield prog.store(host + off, n, image.subarray(off, off + n));
    }
    yield prog.dsb();
  }

  /** The start-of-day maintenance of the selected strategy, before the first vCPU run; its cost goes to stats.cmoCycles. */
  *beforeFirstRun(loaded: { ipa: number; bytes: number }[]): Generator<ProgramOp, void, OpResult | undefined> {
    const lb = this.deps.lineBytes;
    const t0 = (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle;
    let ops = 0;
    switch (this.cfg.cmo) {
      case 'clean-all-at-start':
        for (const s of this.memslots) if (this.inLinearMap(s.hostPa)) ops += yield* dcByVaRange('civac', s.hostPa, s.size, lb);
        break;
      case 'vmm-clean-loaded':
        for (const l of loaded) ops += yield* dcByVaRange('civac', hostVaOf(this.slotOf(l.ipa)!) + (l.ipa - this.slotOf(l.ipa)!.ipa), l.bytes, lb);
        break;
      case 'set-way-at-start':
        ops += yield* cleanInvalidateAllBySetWay();
        yield prog.dsb();
        break;
      default:
        return;
    }
    const t1 = (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle;
    this.stats.cmoCycles += t1 - t0;
    this.stats.dcOps += ops;
  }

  /**
   * Exception return to the guest at EL1 with its MMU and caches off (SCTLR_EL1 = 0), as a vCPU
   * starts. With `s1`, the vCPU resumes a guest that has already turned its MMU on: its stage-1
   * registers (tables at IPAs, see `guestTables`) are restored before the exception return.
   */
  *enterGuest(s1?: { ttbr0: number; mair: Halves; tcr?: Halves; asid?: number }): Generator<ProgramOp, void, OpResult | undefined> {
    if (s1 === undefined) {
      yield prog.sysRegWrite(MmuReg.SCTLR_EL1, encodeSctlr({ m: false, c: false, i: false }));
    } else {
      yield prog.sysRegWriteHalves(MmuReg.MAIR_EL1, s1.mair);
      yield prog.sysRegWriteHalves(MmuReg.TCR_EL1, s1.tcr ?? encodeTcr({ t0sz: 16, epd1: true }));
      yield prog.sysRegWriteHalves(MmuReg.TTBR0_EL1, encodeTtbr(s1.ttbr0, s1.asid ?? 1));
      yield prog.sysRegWrite(MmuReg.SCTLR_EL1, encodeSctlr({ m: true, c: true, i: true }));
    }
    yield prog.exceptionLevel(1);
  }

  /**
   * A builder for stage-1 tables the guest keeps in its own memory: table addresses are IPAs in
   * the memslot holding `ipa`, written (functionally, as a guest kernel would have before the
   * vCPU run being modelled) at the host PA behind them. Tables are allocated from [ipa, ipa + bytes).
   */
  guestTables(ipa: number, bytes: number): PageTableBuilder {
    const slot = this.slotOf(ipa);
    if (slot === undefined || ipa + bytes > slot.ipa + slot.size) throw new RangeError(`guestTables: IPA range 0x${ipa.toString(16)}+0x${bytes.toString(16)} is not inside one memslot`);
    return new PageTableBuilder(this.deps.store, { stage: 1, granule: '4K', inputBits: 48, allocBase: ipa, allocLimit: ipa + bytes, physOf: (a) => slot.hostPa + (a - slot.ipa) });
  }

  /**
   * KVM's MMU-notifier change_pte path (kvm_set_spte_hva(), v5.12 arch/arm64/kvm/mmu.c): the host
   * PTE of `hostVa` changed (a CoW break, or the access-flag update of seed 004), so KVM cleans
   * the new page to PoC by its linear-map VA (clean_dcache_guest_page(); a no-op with FEAT_S2FWB)
   * and updates the stage-2 entry. For a PFN outside the linear map that VA is not mapped: the
   * clean takes a translation fault at EL2 (seed 004's Oops, ESR 0x96000145: DABT current EL,
   * CM=1, WnR=1). `skipDevicePfn` is Marc Zyngier's fix in that thread
   * (`if (!kvm_is_device_pfn(pfn)) clean_dcache_guest_page(pfn, PAGE_SIZE)`). Runs on the host
   * PE at EL2; the result is written to `out` when the program ends.
   */
  *changePte(hostVa: number, opts: { skipDevicePfn: boolean }, out: HostCleanResult): Generator<ProgramOp, void, OpResult | undefined> {
    const slot = this.memslots.find((s) => hostVa >= hostVaOf(s) && hostVa < hostVaOf(s) + s.size);
    if (slot === undefined) throw new RangeError(`changePte: host VA 0x${hostVa.toString(16)} is in no memslot`);
    const pagePa = slot.hostPa + Math.floor((hostVa - hostVaOf(slot)) / 4096) * 4096;
    const t0 = (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle;
    const lb = this.deps.lineBytes;
    if (this.deps.caps.featS2FWB) out.skipped = 'FEAT_S2FWB: clean_dcache_guest_page() does nothing';
    else if (opts.skipDevicePfn && !this.inLinearMap(pagePa)) out.skipped = 'kvm_is_device_pfn(): PFN outside the linear map, no clean';
    else {
      // page_address(pfn): the linear-map VA, = PA in this host's identity linear map.
      for (let a = pagePa; a < pagePa + 4096; a += lb) {
        const r = (yield prog.dc('civac', a, { wait: true }))!;
        out.dcOps++;
        this.stats.dcOps++;
        if (!r.ok) {
          out.fault = { fault: r.fault ?? 'unknown', esr: r.syndrome?.esr ?? 0, far: (r.syndrome?.farLo ?? 0) + (r.syndrome?.farHi ?? 0) * 4294967296, va: a };
          break;     // the kernel oopses: nothing after this runs
        }
      }
      if (out.fault === undefined) yield prog.dsb();
    }
    const t1 = (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle;
    out.cycles = t1 - t0;
    this.stats.cmoCycles += t1 - t0;
  }

  // -------------------------------------------------------------------------------------------
  // The stage-2 fault handler
  // -------------------------------------------------------------------------------------------

  /**
   * An MMIO trap: with ISV the hypervisor knows the access (size, direction, data) from ESR and
   * the register; it exits to the VMM, whose device model performs it, and the guest resumes past
   * the access. Without ISV (an access KVM cannot decode) the guest gets the abort.
   */
  private emulateMmio(pe: Pe, syn: MmuSyndrome, dev: MmioRegion, start: number, resume: (r: Stage2Resolution) => void): void {
    if (((syn.esr >>> 24) & 1) === 0) {
      this.stats.s2Refused++; this.stats.refusals.push(`MMIO ${dev.name}: no ISV, cannot emulate`);
      if (pe.timeline !== undefined) pe.noteFault({ decision: `MMIO ${dev.name}: no ISV, abort injected` });
      resume('deliver'); return;
    }
    this.stats.mmioExits++;
    if (pe.timeline !== undefined) pe.noteFault({ decision: `MMIO exit to the VMM (${dev.name})` });
    const a = pe.faultingAccess();
    const offset = syn.ipa - dev.ipa;
    let bytes: Uint8Array | undefined;
    if (a.write) dev.write(offset, a.data); else bytes = dev.read(offset, a.size);
    const cost = this.cfg.trapCycles + dev.exitCycles, stats = this.stats;
    function* exit(): Program { if (cost > 0) yield prog.compute(cost); }
    pe.runHandler(new ProgramOpSource(exit(), 'hyp.mmio'), () => {
      stats.faultCycles += pe.currentCycle - start;
      resume(bytes === undefined ? { emulate: true } : { emulate: true, bytes });
    });
  }

  slotOf(ipa: number): Memslot | undefined {
    return this.memslots.find((s) => ipa >= s.ipa && ipa < s.ipa + s.size);
  }

  /** Adds an emulated device (KVM_EXIT_MMIO on every access to it). */
  addMmio(region: MmioRegion): void {
    this.mmio.push(region);
  }

  private onStage2Fault(pe: Pe, syn: MmuSyndrome, resume: (r: Stage2Resolution) => void): void {
    this.stats.s2Faults++;
    const start = pe.currentCycle;
    const slot = syn.ipa >= 0 ? this.slotOf(syn.ipa) : undefined;
    const dev = slot === undefined && !syn.s1ptw ? this.mmio.find((d) => syn.ipa >= d.ipa && syn.ipa < d.ipa + d.size) : undefined;
    if (dev !== undefined) { this.emulateMmio(pe, syn, dev, start, resume); return; }
    // kvm_vcpu_trap_is_exec_fault(): an instruction abort that is not on a stage-1 table walk (a
    // fetch's S1PTW fault reads a table: a data access, which must not get X or an I-cache invalidation).
    const fetch = ((syn.esr >>> 26) & 0x3f) === 0x20 && !syn.s1ptw;
    const write = !fetch && ((syn.esr >>> 6) & 1) === 1;
    if (slot === undefined) {
      this.stats.s2Refused++;
      if (pe.timeline !== undefined) pe.noteFault({ decision: 'no memslot: abort injected' });
      resume('deliver'); return;
    }
    const page = Math.floor(syn.ipa / 4096) * 4096;
    const dfsc = syn.esr & 0x3f;
    const permission = dfsc >= 0x0c && dfsc <= 0x0f;
    const prior = this.mapped.get(page);
    if (prior !== undefined && !permission) {
      // Another vCPU mapped it between this one's walk and now (KVM finds the PTE valid and returns).
      this.stats.spuriousFaults++;
      if (pe.timeline !== undefined) pe.noteFault({ decision: 'spurious (already mapped)' });
      resume('retry');
      return;
    }
    if (prior !== undefined && permission && prior.noTagAccess && !fetch && (!write || prior.write)) {
      // The mapping already allows this access: it is a Tagged access to NoTagAccess memory
      // (AArch64.S2CheckPermissions, fault.tagaccess). KVM does not remap: it injects an abort.
      this.stats.tagAccessFaults++;
      this.stats.refusals.push(`tag access at IPA 0x${syn.ipa.toString(16)}: stage-2 NoTagAccess, abort injected`);
      if (pe.timeline !== undefined) pe.noteFault({ decision: 'tag access to NoTagAccess: abort injected' });
      resume('deliver');
      return;
    }
    const d = this.policy.fault(slot.vma, { pfnInLinearMap: this.inLinearMap(slot.hostPa), exec: fetch, write, vmMte: this.cfg.vmMte ?? false }, this.deps.caps);
    if (d.kind === 'refuse') {
      this.stats.s2Refused++;
      this.stats.refusals.push(`fault at IPA 0x${syn.ipa.toString(16)}: -${d.errno} (${d.reason})`);
      if (pe.timeline !== undefined) pe.noteFault({ decision: `refused: -${d.errno} (${d.reason})`, policy: this.cfg.policy });
      resume('deliver');
      return;
    }
    const hostPage = slot.hostPa + (page - slot.ipa);
    // Dirty logging: 'wp' maps a page writable only for the write that marks it dirty; 'dbm' maps
    // it writable-clean and lets the walker record the write.
    const logWp = slot.logDirtyPages === true && this.cfg.dirtyLog !== 'dbm' && d.write;
    const logDbm = slot.logDirtyPages === true && this.cfg.dirtyLog === 'dbm' && d.write;
    const writable = logDbm ? false : logWp ? write : d.write;
    const markDirty = logWp && write;
    if (markDirty && prior !== undefined) this.stats.dirtyLogFaults++;
    const fwb = this.cfg.cmo === 'fwb';
    // NoTagAccess only with FEAT_MTE_PERM (the policy asks for it only then) and on Normal WB.
    const enc = d.noTagAccess && d.attr === 'normal-wb' && this.deps.caps.featMTEPerm === true ? MEMATTR_WB_NOTAGACCESS : MEMATTR[d.attr];
    const memAttr = fwb ? enc.fwb : enc.plain;
    this.mapped.set(page, d);
    this.stage2.map({ va: page, oa: hostPage, size: 4096, level: 3, s2: { memAttr, s2ap: writable ? 0b11 : 0b01, xn: d.exec ? 0 : 0b10, dbm: logDbm } });
    this.stats.pagesMapped++;
    const leaf = this.stage2.slotAddress(page, 3);
    const desc = this.stage2.readDesc(leaf);
    const descBytes = descriptorBytes(desc.lo, desc.hi);
    const lb = this.deps.lineBytes, cfg = this.cfg, stats = this.stats, caps = this.deps.caps;
    const bitmapByte = this.dirtyBitmapPa + (page - slot.ipa) / 4096;
    if (pe.timeline !== undefined) {
      pe.noteFault({
        decision: `map ${d.attr} ${d.write ? 'rw' : 'ro'}${d.exec ? 'x' : ''}${d.noTagAccess ? ' NoTagAccess' : ''}`, hostPa: `0x${hostPage.toString(16)}`,
        policy: cfg.policy, cmo: cfg.cmo, cleaned: cfg.cmo === 'clean-on-s2-fault' && d.attr === 'normal-wb', icInvalidated: fetch && !caps.ctrDic,
      });
    }
    function* handler(): Program {
      if (cfg.trapCycles > 0) yield prog.compute(cfg.trapCycles);
      // mark_page_dirty(): the page's entry in the dirty bitmap.
      if (markDirty) yield prog.store(bitmapByte, 1, 1);
      // The leaf descriptor, stored through the host map (host VA = PA), then made visible to the walker.
      yield prog.store(leaf, 8, descBytes);
      yield prog.dsb();
      if (cfg.cmo === 'clean-on-s2-fault' && d.kind === 'map' && d.attr === 'normal-wb') {
        // KVM's clean_dcache_guest_page: the page to PoC by VA before the guest can see it uncached.
        const t0 = (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle;
        stats.dcOps += yield* dcByVaRange('civac', hostPage, 4096, lb);
        stats.cmoCycles += (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle - t0;
      }
      if (fetch && !caps.ctrDic) {
        // invalidate_icache_guest_page: the I-side to PoU for an executable mapping.
        const t0 = (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle;
        for (let a = hostPage; a < hostPage + 4096; a += lb) { yield prog.ic('ivau', a); stats.icOps++; }
        yield prog.dsb();
        yield prog.isb();
        stats.cmoCycles += (yield prog.mrs(MmuReg.SCTLR_EL2))!.cycle - t0;
      }
    }
    pe.runHandler(new ProgramOpSource(handler(), 'hyp.s2fault'), () => {
      stats.faultCycles += pe.currentCycle - start;
      resume('retry');
    });
  }
}

/** The VMM's user VA of a memslot (`hostPa` unless the slot says otherwise). */
function hostVaOf(s: Memslot): number {
  return s.hostVa ?? s.hostPa;
}

/** A descriptor's 8 bytes, little-endian, from its halves. */
function descriptorBytes(lo: number, hi: number): Uint8Array {
  const b = new Uint8Array(8), v = new DataView(b.buffer);
  v.setUint32(0, lo >>> 0, true); v.setUint32(4, hi >>> 0, true);
  return b;
}
