import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import type { PolicyName } from '../src/hyp/index.js';
import type { DmaJobResult } from '../src/smmu/index.js';
import { UserError, zSize } from '../src/sim/index.js';
import {
  ACCEPTS, ATTRIDX_WB, GUEST_RAM_BYTES, GUEST_RAM_IPA, PT_IPA, VmaParams, capsText, describeExpectation, enterVcpu, expectedMapping,
  observedMapping, passthroughVm, regionText, vmaOf, type PassthroughVm,
} from './atomics-normal-nc.js';
import { vfioSmmu, type VfioSmmu } from './hcr-dc-dma.js';

/**
 * Seed 002 (Jason Gunthorpe, 2023-04-13, on KVM/arm64 mapping a cacheable VFIO region
 * non-cacheable at stage 2): "if the hypervisor cachable side has pulled a line into cache and the
 * VM uncached side dirtied the physical memory, it is allowed that SMMU will read stale cache data
 * ... With VFIO live migration I expect the hypervisor qemu side to be actively reading from the
 * cachable memory while the VM is running to migrate it, so it does not seem improbable."
 *
 * A passthrough region (grace: the GPU memory behind nvgrace-gpu, a VM_PFNMAP VMA with pgprot
 * normal; other platforms: their PCIe window as if a BAR were mapped that way, see
 * atomics-normal-nc.ts) is mapped twice: by the VMM, cacheable (its mmap of the VFIO region, at
 * a user VA of its own), and by the guest, Normal WB at stage 1 with stage 2 from `hyp.policy`.
 * Two PEs: PE 0 is the VMM's migration thread on the host, PE 1 the vCPU.
 * 1. The VMM has written the second half of the window (`vmmWrites`: restoring it from the
 *    migration stream, say) and those lines are still dirty in its caches; it reads the whole
 *    window (pre-copy pass 1), so the first half sits clean in its caches.
 * 2. The guest writes the whole window through its mapping, then kicks a passthrough device
 *    that reads the window by DMA (through the SMMU: stage 2, IOVA = IPA, Normal WB; coherent
 *    when IDR0.COHACC).
 * 3. The VMM reads the window again (pass 2 of the dirty-page loop).
 * 4. The VMM's dirty lines leave its caches (DC CIVAC over its alias stands in for the eventual
 *    eviction): what memory holds afterwards.
 * Expected (the check asserts it): with stage-2 Normal WB (`cacheable-pfnmap` on grace: FEAT_S2FWB
 * and CTR_EL0.DIC) the guest's stores are coherent: they snoop the VMM's lines and nothing is
 * stale. With a non-cacheable stage 2 (legacy: Device-nGnRE; wc: Normal-NC) the guest's stores do
 * not snoop (Arm ARM B2.8 "Mismatched memory attributes"): the VMM's pass 2 hits its own old lines
 * (every byte stale); an IO-coherent device snoops the VMM's dirty half and reads it stale (the
 * clean half it reads from the system cache or memory, where the guest's data went); a
 * non-coherent device reads memory and is correct; and step 4 overwrites the guest's data in the
 * dirty half in memory, whatever the device. Policies that refuse the mapping are reported.
 */
const Params = z.strictObject({
  /** Bytes of the window the VMM and the guest touch (a multiple of 128, at most 32 KiB: it stays in the L1D). */
  bytes: zSize.default(4096),
  /** The VMM wrote the second half before pass 1 (its lines dirty); false: it only reads. */
  vmmWrites: z.boolean().default(true),
  ...VmaParams,
});
type P = z.infer<typeof Params>;

/** What the region held before (memory), what the VMM wrote, and the guest's data (0x80..0xcf): pairwise distinct. */
const INITIAL_BYTE = 0x11, VMM_BYTE = 0x22;
const guestByte = (i: number): number => 0x80 + (i % 0x50);
const VMM_VA = 0x7f00_0000_0000;        // the VMM's mmap of the VFIO region (a user VA, not the PA)
const MAX_BYTES = 0x8000;
const SID = 2;

interface Marks {
  vm: PassthroughVm; smmu: VfioSmmu | null;
  pass1Done: boolean; guestDone: boolean; vmmDone: boolean;
  guestAborts: number; guestWrote: boolean;
  /** Pass 2: bytes the VMM read that are not the guest's, and of those, its own earlier data. */
  vmmStale: number; vmmStaleOwn: number; vmmReadFaults: number;
  job: DmaJobResult | null;
  /** Window lines dirty in a PE cache (above the PoC) when the device starts reading. */
  dirtyLinesAtDma: number;
  cycles: { guestWrite: number; dma: number; pass2: number; writeBack: number };
}
const marks = new WeakMap<object, Marks>();

function* vmm(ctx: ScenarioContext<P>, m: Marks): Program {
  const { bytes, vmmWrites } = ctx.params;
  const q = ctx.sys.q, lb = ctx.sys.cfg.cache.lineBytes, half = bytes / 2;
  yield* m.vm.hyp.hostInit();
  if (vmmWrites) {
    for (let off = half; off < bytes; off += 64) yield prog.store(VMM_VA + off, 64, new Uint8Array(64).fill(VMM_BYTE), { wait: true });
    yield prog.dsb();
  }
  for (let off = 0; off < bytes; off += 64) { const r = (yield prog.load(VMM_VA + off, 64))!; if (!r.ok) m.vmmReadFaults++; }
  m.pass1Done = true;
  while (!m.guestDone) yield prog.compute(64);
  let t0 = q.now;
  for (let off = 0; off < bytes; off += 64) {
    const r = (yield prog.load(VMM_VA + off, 64))!;
    if (!r.ok) { m.vmmReadFaults++; continue; }
    if (!m.guestWrote) continue;
    for (let k = 0; k < 64; k++) {
      const b = r.bytes[k]!;
      if (b !== guestByte(off + k)) { m.vmmStale++; if (b === (off + k < half || !vmmWrites ? INITIAL_BYTE : VMM_BYTE)) m.vmmStaleOwn++; }
    }
  }
  m.cycles.pass2 = q.now - t0;
  t0 = q.now;
  for (let off = 0; off < bytes; off += lb) yield prog.dc('civac', VMM_VA + off);
  yield prog.dsb();
  m.cycles.writeBack = q.now - t0;
  m.vmmDone = true;
}

function* vcpu(ctx: ScenarioContext<P>, m: Marks): Program {
  const { bytes } = ctx.params;
  const q = ctx.sys.q, sys = ctx.sys, lb = sys.cfg.cache.lineBytes;
  yield* enterVcpu(m.vm);
  while (!m.pass1Done) yield prog.compute(64);
  let t0 = q.now;
  for (let off = 0; off < bytes; off += 64) {
    const line = new Uint8Array(64);
    for (let k = 0; k < 64; k++) line[k] = guestByte(off + k);
    const r = (yield prog.store(PT_IPA + off, 64, line, { wait: true }))!;
    if (!r.ok) { m.guestAborts++; break; }           // the guest's driver gives up on an abort
  }
  yield prog.dsb();
  m.cycles.guestWrite = q.now - t0;
  m.guestWrote = m.guestAborts === 0;
  if (m.guestWrote && m.smmu !== null) {
    const ptPa = m.vm.ptPa;
    const beforePoc = sys.cfg.cache.l3.kind === 'before-poc';
    for (let off = 0; off < bytes; off += lb) {
      if (sys.caches.whereIs(ptPa + off).some((w) => w.endsWith(' dirty') && (beforePoc || !w.startsWith('system.l3')))) m.dirtyLinesAtDma++;
    }
    t0 = q.now;
    const dma = sys.smmu.dma;
    dma.keepBytes = bytes;
    let done = false;
    m.job = dma.submit({ op: 'checksum', streamId: SID, src: PT_IPA, bytes, tag: 'window' }, () => { done = true; });
    while (!done) yield prog.compute(64);
    m.cycles.dma = q.now - t0;
  }
  m.guestDone = true;
}

export const scenario = defineScenario<P>({
  name: 'vfio-live-migration-alias',
  description: 'seed 002: the VMM reads (and has written) a passthrough cacheable region through its cacheable mapping while the guest writes it through its stage-2 mapping and a device DMAs from it; non-cacheable stage 2 (legacy/wc) gives stale reads and lost writes, cacheable-pfnmap on grace none',
  platform: 'grace',
  translation: 'vmsa',
  platformSets: ['core.count=2'],
  accepts: ACCEPTS,
  params: Params,
  setup(ctx) {
    const { sys, params } = ctx;
    if (params.bytes === 0 || params.bytes % 128 !== 0 || params.bytes > MAX_BYTES) throw new UserError(`scenario.bytes: must be a positive multiple of 128 up to ${MAX_BYTES} (got ${params.bytes})`);
    if (sys.pes.length < 2) throw new UserError(`vfio-live-migration-alias needs core.count >= 2 (the VMM and a vCPU; the platform has ${sys.pes.length})`);
    const vm = passthroughVm(sys, { vma: vmaOf(params), windowAttrIndx: ATTRIDX_WB, ptHostVa: VMM_VA });
    const m: Marks = {
      vm, smmu: null, pass1Done: false, guestDone: false, vmmDone: false, guestAborts: 0, guestWrote: false,
      vmmStale: 0, vmmStaleOwn: 0, vmmReadFaults: 0, job: null, dirtyLinesAtDma: 0, cycles: { guestWrite: 0, dma: 0, pass2: 0, writeBack: 0 },
    };
    marks.set(ctx, m);
    // What the region held before anyone here touched it: in memory, in no cache.
    sys.map.store.write(vm.ptPa, new Uint8Array(params.bytes).fill(INITIAL_BYTE), 0, params.bytes);
    if (vm.memslotRefused !== undefined) {
      // KVM_SET_USER_MEMORY_REGION failed: the VM never runs with the region (nothing to migrate).
      sys.attach(0, new ProgramOpSource((function* (): Program { yield* vm.hyp.hostInit(); })(), 'vmm'));
      return;
    }
    const guestPa = vm.hyp.slotOf(GUEST_RAM_IPA)!.hostPa;
    m.smmu = vfioSmmu(sys, guestPa - 0x3000_0000, SID, [
      { iova: GUEST_RAM_IPA, pa: guestPa, size: GUEST_RAM_BYTES },
      { iova: PT_IPA, pa: vm.ptPa, size: Math.ceil(params.bytes / 4096) * 4096 },
    ]);
    vm.hyp.attachTo(sys.pes[1]!);
    sys.attach(0, new ProgramOpSource(vmm(ctx, m), 'vmm migration thread'));
    sys.attach(1, new ProgramOpSource(vcpu(ctx, m), 'vcpu0'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const { sys, params } = ctx;
    const { bytes, vmmWrites } = params;
    const half = bytes / 2;
    const vm = m.vm;
    const policy = sys.cfg.hyp.policy as PolicyName;
    const e = expectedMapping(policy, vm.vma, vm.caps, { exec: false, vmMte: false });
    const observed = observedMapping(vm);
    const runs = e.kind === 'map';
    // The VMM's mmap takes the VMA's pgprot too (src/hyp/hypervisor.ts): cacheable for normal and
    // tagged, else not; two non-cacheable aliases (stage 2 follows such a pgprot) share no cache.
    const vmmCacheable = params.pgprot === 'normal' || params.pgprot === 'tagged';
    const mismatched = runs && e.attr !== 'normal-wb' && vmmCacheable;
    const coherentDevice = m.smmu?.coherent ?? false;
    const beforePocL3 = sys.cfg.cache.l3.kind === 'before-poc';
    // Device: reads the VMM's dirty lines when it snoops; its clean lines it never returns, but a
    // before-PoC L3 that kept a clean old copy would serve it to a coherent reader (at most all).
    const dirtyHalf = vmmWrites ? half : 0;
    const deviceExpected = !mismatched || !coherentDevice ? 0 : dirtyHalf;
    let deviceStale = 0, deviceStaleVmm = 0;
    if (m.job !== null) m.job.data.forEach((b, i) => { if (b !== guestByte(i)) { deviceStale++; if (b === VMM_BYTE) deviceStaleVmm++; } });
    // Memory at the PoC at the end (a system-cache L3 included), after the VMM's lines were written back.
    const mem = new Uint8Array(bytes);
    sys.memoryAtPoC.read(vm.ptPa, mem, 0, bytes);
    let lost = 0, lostToVmm = 0;
    if (m.guestWrote) mem.forEach((b, i) => { if (b !== guestByte(i)) { lost++; if (b === VMM_BYTE) lostToVmm++; } });
    const lostExpected = mismatched ? dirtyHalf : 0;
    const vmmExpected = mismatched ? bytes : 0;
    const outcomeText = !runs ? `${e.kind} -${e.errno}: the guest never writes the region through stage 2`
      : !mismatched ? (vmmCacheable ? 'matching attributes (stage-2 Normal WB): coherent, nothing stale' : `pgprot ${params.pgprot}: the VMM's alias is non-cacheable too, nothing is cached and nothing stale`)
        : `${e.attr} at stage 2 vs the VMM's Normal WB alias: the VMM reads stale, ${coherentDevice ? 'the coherent device reads the VMM\'s dirty lines' : 'the non-coherent device reads memory (correct)'}, write-back loses the guest's data`;
    const s = vm.hyp.stats;
    return {
      completed: {
        pass: outcome.endReason === 'done' && m.vmmReadFaults === 0 && (vm.memslotRefused !== undefined || (m.vmmDone && m.guestDone)),
        endReason: outcome.endReason, vmmReadFaults: m.vmmReadFaults, guestAborts: m.guestAborts, dmaStatus: m.job?.status ?? 'not started',
      },
      stage2: {
        pass: observed === describeExpectation(e) && (e.kind === 'fault-refused' ? m.guestAborts === 1 && !m.guestWrote : m.guestAborts === 0),
        expected: describeExpectation(e), observed, why: e.why, policy, platform: capsText(vm.caps), region: regionText(vm.region),
        s2Faults: s.s2Faults, pagesMapped: s.pagesMapped, refusals: s.refusals.slice(0, 4),
      },
      expected: { pass: true, outcome: outcomeText, mismatched, deviceCoherent: coherentDevice, l3: sys.cfg.cache.l3.kind, vmmBytes: vmmExpected, deviceBytes: deviceExpected, lostBytes: lostExpected },
      vmmStaleBytes: {
        // Pass 2 hits the lines pass 1 (and the VMM's own writes) left in its caches: every byte old.
        pass: m.vmmStale === vmmExpected && m.vmmStaleOwn === m.vmmStale,
        bytes: m.vmmStale, of: m.guestWrote ? bytes : 0, ownOldData: m.vmmStaleOwn,
      },
      deviceStaleBytes: {
        pass: m.job === null ? !m.guestWrote || m.smmu === null
          : m.job.status === 'done' && deviceStaleVmm === deviceStale
            && (beforePocL3 && coherentDevice && mismatched ? deviceStale >= deviceExpected : deviceStale === deviceExpected),
        bytes: deviceStale, of: m.job?.bytesDone ?? 0, vmmData: deviceStaleVmm, coherent: coherentDevice, dirtyLinesAtDma: m.dirtyLinesAtDma,
        coherentReads: sys.smmu.mem.stats.coherentReads, nonCoherentReads: sys.smmu.mem.stats.nonCoherentReads,
      },
      lostBytes: {
        // After the VMM's dirty lines reach memory: the guest's data there overwritten by the VMM's older data.
        pass: lost === lostExpected && lostToVmm === lost,
        bytes: lost, of: m.guestWrote ? bytes : 0, vmmData: lostToVmm,
      },
      cycles: { pass: true, ...m.cycles, total: outcome.cycles, faultCycles: s.faultCycles },
    };
  },
});
