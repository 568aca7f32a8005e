import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext, type System } from '../src/platform/index.js';
import { CMO_DESCRIPTIONS, CMO_STRATEGIES, POLICY_NAMES, type CmoStrategy, type PolicyName, type VmaInfo } from '../src/hyp/index.js';
import { PageTableBuilder } from '../src/mmu/index.js';
import { enableSmmu, encodeSte, writeWords, type DmaJobResult, type SmmuLayout } from '../src/smmu/index.js';
import { UserError, zInt, zSize } from '../src/sim/index.js';
import {
  ATTRIDX_WB, GUEST_RAM_BYTES, GUEST_RAM_IPA, PT_IPA, capsText, describeExpectation, expectedMapping, observedMapping,
  barRegion, passthroughVm, type PassthroughVm,
} from './atomics-normal-nc.js';

/**
 * Seed 003's counter-example to HCR_EL2.DC (Anup Patel, 2013-08-15): "HCR_EL2.DC=1 will break
 * Guest/VM bootloader/firmware if the Guest/VM is provided a DMA-capable device in pass-through
 * mode ... bootloader/firmware typically don't enable MMU and ... will programme a pass-through
 * DMA-capable device without any flushes to guest RAM".
 *
 * The guest's firmware runs with its MMU and caches off. It fills a buffer in guest RAM (an AHCI
 * command table, say), then rings the doorbell of a passthrough DMA device (a store to the
 * device's BAR, mapped into the VM by a passthrough memslot), and the device reads the buffer by
 * DMA. What the firmware's stores are is decided by HCR_EL2 and stage 2, not by the firmware:
 * - HCR_EL2.DC=0 (every `hyp.cmo` but hcr-dc): stage 1 off gives Device-nGnRnE (Arm ARM
 *   AArch64.S1DisabledOutput); combined with stage-2 Normal WB it stays Device: the stores go to
 *   memory. A device reading memory sees them.
 * - HCR_EL2.DC=1 (`hcr-dc`): stage 1 off gives Normal Non-shareable WB RWA, combined with stage-2
 *   Normal WB: the stores allocate in the vCPU's caches and stay dirty there. A device that does
 *   not snoop (behind an SMMU without IDR0.COHACC — the default here, `smmu.config.cohacc=false`)
 *   reads memory at the PoC: the previous contents. A before-PoC L3 (xgene1) is no help, a
 *   system cache at the PoC is, for the lines it holds (none here: the lines are still in the L1D).
 * - `fwb` (FEAT_S2FWB, stage-2 MemAttr 0b0110) forces Normal WB too, whatever stage 1 says: the
 *   same stale DMA (a consequence the seed thread did not get to).
 * Doorbell: stage 2 maps the BAR Device (DC only changes the stage-1 default; stage 2 still
 * makes MMIO Device — Christoffer Dall's point in the thread), so the doorbell store is not cached.
 * `scenario.firmwareClean=dc-cvac` is the "hack the guest bootloader" answer: DC CVAC by VA over
 * the buffer, then DSB, before the doorbell; it makes DC=1 correct again.
 *
 * The device: System.smmu's DMA master, one StreamID whose STE is stage 2 only (Config 0b110)
 * with a table mapping guest RAM IOVA = IPA -> host PA, Normal WB — what VFIO type1 sets up when
 * QEMU maps guest RAM for a passthrough device (VFIO_IOMMU_MAP_DMA). Whether the device snoops is
 * IDR0.COHACC (src/smmu/memory.ts isCoherentAccess); `--set smmu.config.cohacc=true` makes it
 * IO-coherent, and then DC=1 is harmless. Bypass (SMMUEN=0) would be simpler, but then the
 * device would need host PAs, which a guest does not know.
 *
 * Uses the VM of atomics-normal-nc.ts (guest RAM + one passthrough memslot), with the BAR over the
 * platform's first `device` region outside the linear map, pgprot noncached (vfio-pci's BAR mmap),
 * VM_IO, no VM_ALLOW_ANY_UNCACHED. The guest's stage-1 tables there are built but unused: the
 * firmware never turns its MMU on.
 */
const Params = z.strictObject({
  /** Bytes of the buffer the firmware fills and the device reads (a multiple of 64, at most 512 KiB). */
  bufferBytes: zSize.default(8 * 1024),
  /** What the firmware does before the doorbell: nothing (an MMU-off firmware sees no reason to), or DC CVAC by VA + DSB. */
  firmwareClean: z.enum(['none', 'dc-cvac']).default('none'),
  /** StreamID of the passthrough device. */
  streamId: zInt(0, 15).default(1),
});
type P = z.infer<typeof Params>;

/** Where the firmware puts the buffer (IPA, in guest RAM, below the guest tables at +1 MiB). */
const BUFFER_IPA = GUEST_RAM_IPA + 0x8_0000;
const MAX_BUFFER = 0x8_0000;
/** What guest RAM held before (in memory, in no cache); never a byte of the new pattern. */
export const OLD_BYTE = 0xee;
/** The firmware's data: 0x10..0xdf, never OLD_BYTE. */
const newByte = (i: number): number => 0x10 + (i % 0xd0);

// ---------------------------------------------------------------------------------------------
// The passthrough device's SMMU set-up: a stage-2-only STE, IOVA = IPA (VFIO type1)
// ---------------------------------------------------------------------------------------------

/** What `vfioSmmu` built: the layout the driver helpers want, and where the IOVA space maps. */
export interface VfioSmmu { layout: SmmuLayout; streamId: number; coherent: boolean }

/**
 * Programs System.smmu for one passthrough device: a linear stream table whose STE `streamId` is
 * stage 2 only (Config 0b110; IHI 0070 5.2) over a stage-2 table mapping each `maps` range (IOVA =
 * guest IPA -> host PA), Normal WB inner/outer shareable (S2 MemAttr 0b1111, the IOMMU_CACHE
 * mapping). Structures live at `hostBase` .. +5 MiB (host RAM the hypervisor does not use), written
 * through the coherent view as a host kernel that set the SMMU up long ago. `coherent`: whether the
 * device's DMA snoops (IDR0.COHACC with those Normal WB shareable attributes).
 */
export function vfioSmmu(sys: System, hostBase: number, streamId: number, maps: ReadonlyArray<{ iova: number; pa: number; size: number }>): VfioSmmu {
  const { engine } = sys.smmu;
  if (!engine.config.s2p) throw new UserError('smmu.config.s2p: expected true (the passthrough device is translated by stage 2)');
  const layout: SmmuLayout = {
    strtab: hostBase, strtabLog2: 4, cmdq: hostBase + 0x2_0000, cmdqLog2: 4, evtq: hostBase + 0x3_0000, evtqLog2: 4,
    attrs: engine.config.cohacc ? 'wb-ish' : 'nc',
  };
  const store = sys.coherent;
  const s2 = new PageTableBuilder(store, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: hostBase + 0x10_0000, allocLimit: hostBase + 0x50_0000 });
  for (const m of maps) s2.map({ va: m.iova, oa: m.pa, size: m.size, s2: { memAttr: 0b1111, sh: 3 } });
  writeWords(store, layout.strtab + streamId * 64, encodeSte({
    V: 1, Config: 6,
    S2VMID: 1, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3, S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: s2.root,
  }));
  enableSmmu(engine, layout);
  return { layout, streamId, coherent: engine.config.cohacc };
}


/** vfio-pci's BAR mmap: VM_PFNMAP | VM_IO, pgprot_noncached, without VM_ALLOW_ANY_UNCACHED. */
const BAR_VMA: VmaInfo = { pfnmap: true, mixedmap: false, io: true, allowAnyUncached: false, mteAllowed: false, cow: false, pgprot: 'noncached' };

// ---------------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------------

interface Marks {
  vm: PassthroughVm; smmu: VfioSmmu; bufferPa: number;
  storeFaults: number; cleanFaults: number; doorbellOk: boolean | null;
  /** Buffer lines whose newest data is dirty above the PoC when the doorbell rings. */
  dirtyAbovePocLines: number;
  job: DmaJobResult | null; done: boolean;
  fillStart: number; fillEnd: number; cleanCycles: number; doorbellCycle: number; dmaEnd: number;
}
const marks = new WeakMap<object, Marks>();
const hex = (v: number): string => `0x${v.toString(16)}`;

function* firmware(ctx: ScenarioContext<P>, m: Marks): Program {
  const { hyp } = m.vm;
  const { bufferBytes, firmwareClean } = ctx.params;
  const q = ctx.sys.q, lb = ctx.sys.cfg.cache.lineBytes;
  yield* hyp.hostInit();
  yield* hyp.beforeFirstRun([]);                 // the VMM loaded nothing: the strategies that clean at start still run
  yield* hyp.enterGuest();                       // MMU and caches off, HCR_EL2 as hyp.cmo says
  m.fillStart = q.now;
  for (let off = 0; off < bufferBytes; off += 64) {
    const line = new Uint8Array(64);
    for (let k = 0; k < 64; k++) line[k] = newByte(off + k);
    const r = (yield prog.store(BUFFER_IPA + off, 64, line, { wait: true }))!;
    if (!r.ok) m.storeFaults++;
  }
  yield prog.dsb();
  m.fillEnd = q.now;
  if (firmwareClean === 'dc-cvac') {
    const t0 = q.now;
    for (let off = 0; off < bufferBytes; off += lb) {
      const r = (yield prog.dc('cvac', BUFFER_IPA + off, { wait: true }))!;
      if (!r.ok) m.cleanFaults++;
    }
    yield prog.dsb();
    m.cleanCycles = q.now - t0;
  }
  // Where the buffer is when the device is told to read it.
  const beforePoc = ctx.sys.cfg.cache.l3.kind === 'before-poc';
  for (let off = 0; off < bufferBytes; off += lb) {
    if (ctx.sys.caches.whereIs(m.bufferPa + off).some((w) => w.endsWith(' dirty') && (beforePoc || !w.startsWith('system.l3')))) m.dirtyAbovePocLines++;
  }
  // The doorbell: a store to the device's BAR (IPA PT_IPA), Device at stage 2.
  const db = (yield prog.store(PT_IPA, 4, 1, { wait: true }))!;
  m.doorbellOk = db.ok;
  m.doorbellCycle = q.now;
  if (!db.ok) { m.done = true; return; }
  const dma = ctx.sys.smmu.dma;
  dma.keepBytes = bufferBytes;
  m.job = dma.submit({ op: 'checksum', streamId: m.smmu.streamId, src: BUFFER_IPA, bytes: bufferBytes, tag: 'buffer' }, () => { m.done = true; m.dmaEnd = q.now; });
  while (!m.done) yield prog.compute(64);        // the completion interrupt, as a poll
}

/** Are the firmware's MMU-off stores cacheable? (Arm ARM AArch64.S1DisabledOutput with HCR_EL2.DC; S2 FWB 0b0110 forces WB.) */
function storesCached(cmo: CmoStrategy): { cached: boolean; why: string } {
  if (cmo === 'hcr-dc') return { cached: true, why: 'HCR_EL2.DC=1: stage 1 off gives Normal WB; with stage-2 Normal WB the stores stay dirty in the vCPU caches' };
  if (cmo === 'fwb') return { cached: true, why: 'FEAT_S2FWB stage-2 MemAttr 0b0110 forces Normal WB over the MMU-off Device default: the stores stay dirty in the vCPU caches' };
  return { cached: false, why: `HCR_EL2.DC=0 (${cmo}: ${CMO_DESCRIPTIONS[cmo]}): stage 1 off gives Device-nGnRnE, which stage 2 cannot relax: the stores go to memory` };
}

export const scenario = defineScenario<P>({
  name: 'hcr-dc-dma',
  description: 'seed 003: MMU-off guest firmware fills a buffer and kicks a passthrough non-coherent DMA device; with HCR_EL2.DC=1 (hyp.cmo=hcr-dc) or FWB the device reads stale memory, with DC=0 it reads the data',
  translation: 'vmsa',
  platformSets: ['core.count=1', 'hyp.cmo=hcr-dc', 'smmu.config.cohacc=false'],
  accepts: { policies: POLICY_NAMES, cmo: CMO_STRATEGIES },
  params: Params,
  setup(ctx) {
    const { sys, params } = ctx;
    const { bufferBytes } = params;
    if (bufferBytes === 0 || bufferBytes % 64 !== 0 || bufferBytes > MAX_BUFFER) throw new UserError(`scenario.bufferBytes: must be a positive multiple of 64 up to ${MAX_BUFFER} (got ${bufferBytes})`);
    const vm = passthroughVm(sys, { vma: BAR_VMA, windowAttrIndx: ATTRIDX_WB, region: barRegion(sys, 'hcr-dc-dma') });
    const guestPa = vm.hyp.slotOf(GUEST_RAM_IPA)!.hostPa;
    const smmu = vfioSmmu(sys, guestPa - 0x3000_0000, params.streamId, [{ iova: GUEST_RAM_IPA, pa: guestPa, size: GUEST_RAM_BYTES }]);
    const bufferPa = guestPa + (BUFFER_IPA - GUEST_RAM_IPA);
    // What that RAM held before: in memory, in no cache.
    sys.map.store.write(bufferPa, new Uint8Array(bufferBytes).fill(OLD_BYTE), 0, bufferBytes);
    const m: Marks = {
      vm, smmu, bufferPa, storeFaults: 0, cleanFaults: 0, doorbellOk: null, dirtyAbovePocLines: 0, job: null, done: false,
      fillStart: 0, fillEnd: 0, cleanCycles: 0, doorbellCycle: 0, dmaEnd: 0,
    };
    marks.set(ctx, m);
    if (vm.memslotRefused !== undefined) {
      // KVM_SET_USER_MEMORY_REGION failed for the BAR: the VMM gives up before any vCPU runs.
      sys.attach(0, new ProgramOpSource((function* (): Program { yield* vm.hyp.hostInit(); m.done = true; })(), 'vmm'));
      return;
    }
    vm.hyp.attachTo(sys.pes[0]!);
    sys.attach(0, new ProgramOpSource(firmware(ctx, m), 'host + firmware'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const { sys, params } = ctx;
    const { bufferBytes, firmwareClean } = params;
    const cfg = sys.cfg;
    const cmo = cfg.hyp.cmo;
    const policy = cfg.hyp.policy as PolicyName;
    const vm = m.vm, s = vm.hyp.stats;
    // The doorbell BAR: mapped Device, or refused, as the policy table says.
    const bar = expectedMapping(policy, BAR_VMA, vm.caps, { exec: false, vmMte: false });
    const barObserved = observedMapping(vm);
    const deviceRuns = bar.kind === 'map';
    // The buffer: stale exactly when the stores were cached, nobody cleaned them to the PoC, and the device does not snoop.
    const st = storesCached(cmo);
    const stale = deviceRuns && st.cached && firmwareClean === 'none' && !m.smmu.coherent;
    const why = !deviceRuns ? `the doorbell BAR is refused (${bar.why}): the device never runs`
      : !st.cached ? st.why
        : firmwareClean === 'dc-cvac' ? `${st.why}; the firmware's DC CVAC pushes them to the PoC before the doorbell`
          : m.smmu.coherent ? `${st.why}; the device is IO-coherent (COHACC) and snoops them`
            : `${st.why}; the device reads memory at the PoC without snooping (COHACC=0)`;
    const job = m.job;
    let staleBytes = 0, oldBytes = 0;
    if (job !== null) job.data.forEach((b, i) => { if (b !== newByte(i)) { staleBytes++; if (b === OLD_BYTE) oldBytes++; } });
    const firstStale = job !== null ? job.data.findIndex((b, i) => b !== newByte(i)) : -1;
    // What memory at the PoC (a system-cache L3 included) holds after the run.
    const mem = new Uint8Array(bufferBytes);
    sys.memoryAtPoC.read(m.bufferPa, mem, 0, bufferBytes);
    let memoryStale = 0;
    mem.forEach((b, i) => { if (b !== newByte(i)) memoryStale++; });
    const expectedStale = stale ? bufferBytes : 0;
    return {
      completed: {
        pass: outcome.endReason === 'done' && m.done && m.storeFaults === 0 && m.cleanFaults === 0 && (!deviceRuns || (job !== null && job.status === 'done' && job.bytesDone === bufferBytes)),
        endReason: outcome.endReason, storeFaults: m.storeFaults, cleanFaults: m.cleanFaults, dmaStatus: job?.status ?? 'not started',
        ...(job?.fault ? { dmaFault: job.fault } : {}),
      },
      doorbell: {
        pass: barObserved === describeExpectation(bar) && m.doorbellOk === (deviceRuns ? true : vm.memslotRefused !== undefined ? null : false),
        expected: describeExpectation(bar), observed: barObserved, why: bar.why, policy, platform: capsText(vm.caps), region: vm.region.name,
      },
      staleBytes: {
        // All of the buffer is still in the L1D at the doorbell, so a non-snooping device reads every byte old.
        pass: staleBytes === expectedStale && oldBytes === staleBytes && (!stale || m.dirtyAbovePocLines === bufferBytes / cfg.cache.lineBytes),
        bytes: staleBytes, of: bufferBytes, expected: expectedStale, oldBytes, predicted: stale ? 'stale' : 'correct', why,
        strategy: cmo, hcrDc: cmo === 'hcr-dc', storesCached: st.cached, firmwareClean, deviceCoherent: m.smmu.coherent,
        dirtyAbovePocLinesAtDoorbell: m.dirtyAbovePocLines, l3: cfg.cache.l3.kind,
        ...(job !== null && firstStale >= 0 ? { firstStale: { offset: firstStale, saw: hex(job.data[firstStale]!), wrote: hex(newByte(firstStale)) } } : {}),
      },
      // Memory behind the caches at the end: what the device would read if it read again now.
      memory: { pass: !deviceRuns || (memoryStale > 0) === (st.cached && firmwareClean === 'none'), staleBytes: memoryStale, of: bufferBytes },
      cycles: {
        pass: true, fill: m.fillEnd - m.fillStart, firmwareClean: m.cleanCycles, dma: job !== null ? m.dmaEnd - m.doorbellCycle : 0, total: outcome.cycles,
        cmoCycles: s.cmoCycles, dcOps: s.dcOps, s2Faults: s.s2Faults, pagesMapped: s.pagesMapped, faultCycles: s.faultCycles,
        translations: sys.smmu.dma.stats.translations, nonCoherentReads: sys.smmu.mem.stats.nonCoherentReads, coherentReads: sys.smmu.mem.stats.coherentReads,
      },
    };
  },
});
