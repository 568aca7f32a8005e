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
 * on top of the exception entry and return. MMIO emulation is not modelled: a stage-2 fault
 * outside every memslot is given to the guest as an abort.
 */
import { prog, type OpResult, type Pe, type Program, type ProgramOp, type MmuSyndrome, ProgramOpSource } from '../core/index.js';
import {
  MmuReg, PageTableBuilder, encodeHcr, encodeMair, encodeSctlr, encodeTcr, encodeTtbr, encodeVtcr, type Halves,
} from '../mmu/index.js';
import type { PhysicalStore } from '../mem/index.js';
import { cleanInvalidateAllBySetWay, dcByVaRange } from './cmo.js';
import { POLICIES, type PlatformCaps, type S2Attr, type StagePolicy, type VmaInfo } from './policies/index.js';

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
  regions: readonly { base: number; size: number; kind: 'dram' | 'device' | 'cacheable-device'; linearMap: boolean }[];
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
}

export interface Memslot {
  readonly name: string;
  readonly ipa: number;
  readonly size: number;
  /** Host PA (= host VA: the host map is an identity map). */
  readonly hostPa: number;
  readonly vma: VmaInfo;
}

export class HypStats {
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
}

const HOST_MAIR = encodeMair([0xff, 0x04]);     // Attr0 Normal WB RWA, Attr1 Device-nGnRE
const TCR_EL2 = 16 | (1 << 8) | (1 << 10) | (3 << 12) | (5 << 16) | (1 << 23) | 2 ** 31;   // T0SZ 16, WB walks, ISH, 4KB, PS 48, RES1
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
  private readonly vmid = 1;

  constructor(private readonly deps: HypervisorDeps, readonly cfg: HypervisorConfig) {
    const p = POLICIES[cfg.policy];
    if (p === undefined) throw new RangeError(`hyp.policy: unknown policy '${cfg.policy}' (one of ${Object.keys(POLICIES).join(', ')})`);
    this.policy = p;
    if (cfg.cmo === 'fwb' && !deps.caps.featS2FWB) throw new RangeError("hyp.cmo: 'fwb' needs FEAT_S2FWB, which this platform does not have");
    this.hostMap = new PageTableBuilder(deps.store, { stage: 1, granule: '4K', inputBits: 48, allocBase: cfg.tablesBase, allocLimit: cfg.tablesBase + 0x10_0000 });
    for (const r of deps.regions) {
      if (r.kind === 'dram') this.hostMap.map({ va: r.base, oa: r.base, size: r.size, s1: { af: true, attrIndx: 0, sh: 3 } });
      else if (r.kind === 'device') this.hostMap.map({ va: r.base, oa: r.base, size: r.size, s1: { af: true, attrIndx: 1, pxn: true } });
      // cacheable-device memory outside the linear map: the host maps it only when a VMA does (memslots below).
    }
    const s2Base = cfg.tablesBase + 0x10_0000;
    this.stage2 = new PageTableBuilder(deps.store, { stage: 2, granule: '4K', inputBits: 40, startLevel: 1, allocBase: s2Base, allocLimit: s2Base + 0x40_0000 });
  }

  /** KVM_SET_USER_MEMORY_REGION: the policy may refuse it (the result says why). */
  addMemslot(slot: Memslot): { ok: true } | { ok: false; errno: string; reason: string } {
    const r = this.policy.memslot(slot.vma, this.deps.caps);
    if (!r.ok) { this.stats.refusals.push(`memslot ${slot.name}: -${r.errno} (${r.reason})`); return r; }
    this.memslots.push(slot);
    if (!this.inLinearMap(slot.hostPa)) {
      // The VMA over memory outside the linear map: the host sees it with the VMA's own attributes.
      this.hostMap.map({ va: slot.hostPa, oa: slot.hostPa, size: slot.size, s1: { af: true, attrIndx: slot.vma.pgprot === 'normal' || slot.vma.pgprot === 'tagged' ? 0 : 1 } });
    }
    return { ok: true };
  }

  /** Installs the stage-2 fault handler on a PE that will run vCPUs. */
  attachTo(pe: Pe): void {
    pe.stage2Handler = (p, syn, resume) => this.onStage2Fault(p, syn, resume);
  }

  private inLinearMap(pa: number): boolean {
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
    yield prog.sysRegWriteHalves(MmuReg.VTCR_EL2, encodeVtcr({ t0sz: 24, sl0: 1, tg0: '4K' }));
    yield prog.sysRegWriteHalves(MmuReg.VTTBR_EL2, encodeTtbr(this.stage2.root, this.vmid));
    yield prog.sysRegWriteHalves(MmuReg.HCR_EL2, this.hcr());
    yield prog.isb();
  }

  /** HCR_EL2 for the vCPU under the selected strategy. */
  hcr(): Halves {
    return encodeHcr({ vm: true, dc: this.cfg.cmo === 'hcr-dc', fwb: this.cfg.cmo === 'fwb' });
  }

  /** The VMM writes `image` into guest memory at `ipa` through its cacheable mapping (64-byte stores). */
  *loadImage(ipa: number, image: Uint8Array): Generator<ProgramOp, void, OpResult | undefined> {
    const slot = this.slotOf(ipa);
    if (slot === undefined) throw new RangeError(`loadImage: IPA 0x${ipa.toString(16)} is in no memslot`);
    const host = slot.hostPa + (ipa - slot.ipa);
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
        for (const l of loaded) ops += yield* dcByVaRange('civac', this.slotOf(l.ipa)!.hostPa + (l.ipa - this.slotOf(l.ipa)!.ipa), l.bytes, lb);
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

  /** Exception return to the guest at EL1 with its MMU and caches off (SCTLR_EL1 = 0), as a vCPU starts. */
  *enterGuest(): Generator<ProgramOp, void, OpResult | undefined> {
    yield prog.sysRegWrite(MmuReg.SCTLR_EL1, encodeSctlr({ m: false, c: false, i: false }));
    yield prog.exceptionLevel(1);
  }

  // -------------------------------------------------------------------------------------------
  // The stage-2 fault handler
  // -------------------------------------------------------------------------------------------

  slotOf(ipa: number): Memslot | undefined {
    return this.memslots.find((s) => ipa >= s.ipa && ipa < s.ipa + s.size);
  }

  private onStage2Fault(pe: Pe, syn: MmuSyndrome, resume: (r: 'retry' | 'deliver') => void): void {
    this.stats.s2Faults++;
    const start = pe.currentCycle;
    const slot = syn.ipa >= 0 ? this.slotOf(syn.ipa) : undefined;
    const fetch = ((syn.esr >>> 26) & 0x3f) === 0x20;
    const write = !fetch && ((syn.esr >>> 6) & 1) === 1;
    if (slot === undefined || syn.s1ptw && slot === undefined) { this.stats.s2Refused++; resume('deliver'); return; }
    const d = this.policy.fault(slot.vma, { pfnInLinearMap: this.inLinearMap(slot.hostPa), exec: fetch, write, vmMte: this.cfg.vmMte ?? false }, this.deps.caps);
    if (d.kind === 'refuse') {
      this.stats.s2Refused++;
      this.stats.refusals.push(`fault at IPA 0x${syn.ipa.toString(16)}: -${d.errno} (${d.reason})`);
      resume('deliver');
      return;
    }
    const page = Math.floor(syn.ipa / 4096) * 4096;
    const hostPage = slot.hostPa + (page - slot.ipa);
    const fwb = this.cfg.cmo === 'fwb';
    const memAttr = fwb ? MEMATTR[d.attr].fwb : MEMATTR[d.attr].plain;
    this.stage2.map({ va: page, oa: hostPage, size: 4096, level: 3, s2: { memAttr, s2ap: d.write ? 0b11 : 0b01, xn: d.exec ? 0 : 0b10 } });
    this.stats.pagesMapped++;
    const leaf = this.stage2.slotAddress(page, 3);
    const desc = this.stage2.readDesc(leaf);
    const descBytes = new Uint8Array(8);
    new DataView(descBytes.buffer).setUint32(0, desc.lo, true);
    new DataView(descBytes.buffer).setUint32(4, desc.hi, true);
    const lb = this.deps.lineBytes, cfg = this.cfg, stats = this.stats, caps = this.deps.caps;
    function* handler(): Program {
      if (cfg.trapCycles > 0) yield prog.compute(cfg.trapCycles);
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
