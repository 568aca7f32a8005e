import { z } from 'zod';
import { ProgramOpSource, prog, type Fault, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext, type System } from '../src/platform/index.js';
import { CMO_STRATEGIES, Hypervisor, POLICY_NAMES, type PlatformCaps, type PolicyName, type S2Attr, type VmaInfo } from '../src/hyp/index.js';
import { encodeMair, resolveAttrOptions, type PageTableBuilder } from '../src/mmu/index.js';
import { GUEST_RAM_HOST_OFFSET, atLeast, hypervisorHost } from './regions.js';
import { attemptsOf, mayGiveUp } from './atomics-contention.js';
import { UserError, zInt } from '../src/sim/index.js';

/**
 * Seed 000's Grace Hopper case: guest vCPUs do atomics on a passthrough cacheable-device region
 * (the GPU's memory behind nvgrace-gpu: a VM_PFNMAP VMA outside the host's linear map, pgprot
 * normal). The guest maps it Normal WB at stage 1; what the accesses really are is decided at
 * stage 2 by `hyp.policy`:
 * - legacy: Device-nGnRE (not in the linear map), so the combined type is Device.
 * - wc: Normal-NC when the VMA has VM_ALLOW_ANY_UNCACHED, else Device-nGnRE.
 * - cacheable-pfnmap-v2: VM_IO forces non-cacheable (NC with VM_ALLOW_ANY_UNCACHED, else Device);
 *   without FEAT_S2FWB a PFN with no struct page is refused at fault time (-EINVAL).
 * - cacheable-pfnmap: Normal WB when the platform has FEAT_S2FWB and CTR_EL0.DIC; otherwise the
 *   memslot is refused (-EINVAL) and the VM never runs on it.
 * On Normal WB the atomics run near, under coherence: the counts are exact. On Device or NC the
 * region decides (atomics-contention.ts): `ncAtomics` far (exact), abort (every LDADD aborts) or
 * unsupported; exclusives need the region's global monitor, else STXR always fails (each
 * increment gives up after maxAttempts: a lost update) or aborts (`exclusivesWithoutMonitor`).
 *
 * The passthrough region is the platform's first `cacheable-device` region (grace: gpu-mem).
 * Platforms without one (neoverse-n1, xgene1) use their first `device` region outside the linear
 * map (the PCIe window / SoC registers) as if a driver had mapped a BAR of it with pgprot normal:
 * a coherent BAR is exactly what the policies' cacheable-PFNMAP rules are about, and that region's
 * properties (ncAtomics=abort, no global monitor) then show the non-cacheable outcomes. No region
 * is added with --set: the outcome always follows a preset's real region, and
 * `--set memory.regions.<r>.ncAtomics=...` changes it on purpose.
 *
 * Exported helpers (`passthroughVm` and friends) are shared with exec-on-device-memory.ts,
 * mte-on-pfnmap.ts and cow-device-pfn-clean.ts.
 */

// ---------------------------------------------------------------------------------------------
// A VM with guest RAM and one passthrough memslot, its guest running with its MMU on
// ---------------------------------------------------------------------------------------------

export const GUEST_RAM_IPA = 0x4000_0000;            // QEMU virt's RAM base
export const GUEST_RAM_BYTES = 0x20_0000;
/** Where the guest keeps its stage-1 tables (IPA, in guest RAM). */
export const GUEST_TABLES_IPA = GUEST_RAM_IPA + 0x10_0000;
/** The passthrough window (IPA; guest VA = IPA). Below 2^40, the VM's IPA size (VTCR_EL2.T0SZ 24). */
export const PT_IPA = 0x10_0000_0000;
export const PT_BYTES = 0x20_0000;
/** The guest's and the stage-2 granule (4 KB). */
const PAGE_BYTES = 4096;
/** Guest MAIR_EL1: Attr0 Normal WB RWA, Attr1 Device-nGnRE, Attr2 Normal NC, Attr3 Normal Tagged WB RWA (0xF0). */
export const GUEST_MAIR = encodeMair([0xff, 0x04, 0x44, 0xf0]);
export const ATTRIDX_WB = 0, ATTRIDX_TAGGED = 3;

export const zPgprot = z.enum(['normal', 'tagged', 'noncached', 'writecombine', 'device']);
/** The passthrough VMA, as nvgrace-gpu / vfio-pci leave it (defaults), settable per run. */
export const VmaParams = {
  /** vm_page_prot of the VMA (nvgrace-gpu maps the GPU memory cacheable: normal). */
  pgprot: zPgprot.default('normal'),
  /** VM_IO: remap_pfn_range() sets it on every VM_PFNMAP VMA. */
  vmIo: z.boolean().default(true),
  /** VM_ALLOW_ANY_UNCACHED: set by vfio-pci on BAR mmaps since 2024 (assumed set here too). */
  allowAnyUncached: z.boolean().default(true),
  /** VM_MTE_ALLOWED: never set on VM_PFNMAP by the core mm; true = a driver that claims tag storage. */
  mteAllowed: z.boolean().default(false),
};

export interface PassthroughRegion {
  name: string; kind: string; base: number; size: number; linearMap: boolean; mteTags: boolean;
  ncAtomics: string; globalMonitor: boolean; exclusivesWithoutMonitor?: string | undefined;
}

/** The platform's passthrough region: the first cacheable-device region, else the first device region outside the linear map. */
export function passthroughRegion(sys: System): PassthroughRegion {
  const rs = sys.map.regions;
  const r = rs.find((x) => x.kind === 'cacheable-device') ?? rs.find((x) => x.kind === 'device' && !x.linearMap);
  if (r === undefined) throw new UserError('memory.regions: this scenario needs a region of kind cacheable-device, or of kind device outside the linear map (linearMap=false)');
  return atLeast(r, 'the passthrough window', PT_BYTES);
}

/** The platform's first device region outside the linear map (a PCIe window): where a passthrough device's BAR sits. */
export function barRegion(sys: System, scenario: string): PassthroughRegion {
  const r = sys.map.regions.find((x) => x.kind === 'device' && !x.linearMap);
  if (r === undefined) throw new UserError(`memory.regions: ${scenario} needs a region of kind device outside the linear map (linearMap=false: a PCIe window for the BAR)`);
  return atLeast(r, `${scenario}'s BAR`, PT_BYTES);
}

export function vmaOf(p: { pgprot: VmaInfo['pgprot']; vmIo: boolean; allowAnyUncached: boolean; mteAllowed: boolean }, cow = false): VmaInfo {
  return { pfnmap: true, mixedmap: false, io: p.vmIo, allowAnyUncached: p.allowAnyUncached, mteAllowed: p.mteAllowed, cow, pgprot: p.pgprot };
}

export interface PassthroughVm {
  hyp: Hypervisor;
  region: PassthroughRegion;
  vma: VmaInfo;
  caps: PlatformCaps;
  /** The passthrough memslot's refusal ("-EINVAL (reason)"), if the policy refused it. */
  memslotRefused?: string;
  /** Guest stage-1 root (IPA), and the builder (to change the guest's own mappings before it runs). */
  s1Root: number;
  s1: PageTableBuilder;
  /** Host PA of the passthrough window. */
  ptPa: number;
}

/**
 * Builds the VM: guest RAM (anonymous memory in the linear map, VM_MTE_ALLOWED when the VM has
 * MTE) and a passthrough memslot over `region` at PT_IPA; the guest's stage-1 tables map its RAM
 * Normal WB and the window with `windowAttrIndx`, VA = IPA, at level 3 (one stage-2 fault per page).
 */
export function passthroughVm(sys: System, opts: { vma: VmaInfo; windowAttrIndx: number; vmMte?: boolean; ptHostVa?: number; region?: PassthroughRegion; hostMapsDevices?: boolean }): PassthroughVm {
  const cfg = sys.cfg;
  const ram = hypervisorHost(sys, 'this scenario', GUEST_RAM_BYTES);
  const region = opts.region ?? passthroughRegion(sys);
  const attrOpts = resolveAttrOptions(cfg.mmu.attrs, 'mmu.attrs');
  const caps: PlatformCaps = { featS2FWB: cfg.mmu.featS2FWB, ctrDic: cfg.cache.dic, mte: attrOpts.featMTE2, featMTEPerm: attrOpts.featMTEPerm };
  const hyp = new Hypervisor({
    store: sys.coherent,
    regions: sys.map.regions,
    caps, lineBytes: cfg.cache.lineBytes,
  }, { policy: cfg.hyp.policy, cmo: cfg.hyp.cmo, trapCycles: cfg.hyp.trapCycles, tablesBase: ram.base + 0x100_0000, vmMte: opts.vmMte ?? false, hostMapsDevices: opts.hostMapsDevices ?? true });
  const guestRam = hyp.addMemslot({
    name: 'guest-ram', ipa: GUEST_RAM_IPA, size: GUEST_RAM_BYTES, hostPa: ram.base + GUEST_RAM_HOST_OFFSET,
    vma: { pfnmap: false, mixedmap: false, io: false, allowAnyUncached: false, mteAllowed: opts.vmMte ?? false, cow: false, pgprot: 'normal' },
  });
  if (!guestRam.ok) throw new UserError(`hyp.policy: '${cfg.hyp.policy}' refuses guest RAM (${guestRam.reason})`);
  const pt = hyp.addMemslot({ name: `passthrough (${region.name})`, ipa: PT_IPA, size: PT_BYTES, hostPa: region.base, vma: opts.vma, ...(opts.ptHostVa !== undefined ? { hostVa: opts.ptHostVa } : {}) });
  const s1 = hyp.guestTables(GUEST_TABLES_IPA, 0x10_0000);
  s1.map({ va: GUEST_RAM_IPA, oa: GUEST_RAM_IPA, size: GUEST_RAM_BYTES, level: 3, s1: { af: true, attrIndx: ATTRIDX_WB, sh: 3 } });
  s1.map({ va: PT_IPA, oa: PT_IPA, size: PT_BYTES, level: 3, s1: { af: true, attrIndx: opts.windowAttrIndx, sh: 3 } });
  return { hyp, region, vma: opts.vma, caps, s1Root: s1.root, s1, ptPa: region.base, ...(pt.ok ? {} : { memslotRefused: `-${pt.errno} (${pt.reason})` }) };
}

/** Every policy; any strategy (the passthrough scenarios are about attributes, not boot-time cleaning). */
export const ACCEPTS = { policies: POLICY_NAMES, cmo: CMO_STRATEGIES };

/** Host init on this PE, then into the guest with its MMU on. */
export function* enterVcpu(vm: PassthroughVm): Program {
  yield* vm.hyp.hostInit();
  yield* vm.hyp.enterGuest({ ttbr0: vm.s1Root, mair: GUEST_MAIR });
}

/**
 * What each policy does with the passthrough VMA on this platform, stated independently of the
 * policy modules (the issue's table), so the check catches a policy that drifts from it.
 * Data accesses; `exec` asks about an instruction fetch; `vmMte` an MTE VM.
 */
export type Expectation =
  | { kind: 'memslot-refused'; errno: string; why: string }
  | { kind: 'fault-refused'; errno: string; why: string }
  | { kind: 'map'; attr: S2Attr; noTagAccess: boolean; why: string };

export function expectedMapping(policy: PolicyName, vma: VmaInfo, caps: PlatformCaps, q: { exec: boolean; vmMte: boolean }): Expectation {
  const cacheablePgprot = vma.pgprot === 'normal' || vma.pgprot === 'tagged';
  const fwbDic = caps.featS2FWB && caps.ctrDic;
  const mteVm = q.vmMte && caps.mte;
  const nc = (why: string): Expectation => ({ kind: 'map', attr: vma.allowAnyUncached ? 'normal-nc' : 'device-nGnRE', noTagAccess: false, why: `${why}${vma.allowAnyUncached ? ', VM_ALLOW_ANY_UNCACHED: Normal-NC' : ': Device-nGnRE'}` });
  // Every policy's memslot check for an MTE VM (cacheable-pfnmap: unless FEAT_MTE_PERM).
  if (mteVm && !vma.mteAllowed && !(policy === 'cacheable-pfnmap' && caps.featMTEPerm === true))
    return { kind: 'memslot-refused', errno: 'EINVAL', why: 'MTE VM, VMA without VM_MTE_ALLOWED' };
  switch (policy) {
    case 'legacy':
      if (q.exec) return { kind: 'fault-refused', errno: 'ENOEXEC', why: 'exec on a PFN outside the linear map' };
      return { kind: 'map', attr: 'device-nGnRE', noTagAccess: false, why: 'PFN outside the linear map: Device-nGnRE' };
    case 'wc':
      if (q.exec) return { kind: 'fault-refused', errno: 'ENOEXEC', why: 'exec on a PFN outside the linear map' };
      return vma.allowAnyUncached ? nc('PFN outside the linear map') : { kind: 'map', attr: 'device-nGnRE', noTagAccess: false, why: 'PFN outside the linear map: Device-nGnRE' };
    case 'cacheable-pfnmap-v2': {
      const forcedNC = vma.io || (mteVm && !vma.mteAllowed);
      if (q.exec) return { kind: 'fault-refused', errno: 'ENOEXEC', why: 'exec only on Normal cacheable memory with a struct page' };
      if (!caps.featS2FWB) return { kind: 'fault-refused', errno: 'EINVAL', why: 'no struct page and no FEAT_S2FWB' };
      if (!cacheablePgprot) {
        const t: Record<string, S2Attr> = { noncached: 'device-nGnRnE', writecombine: 'normal-nc', device: 'device-nGnRE' };
        return vma.allowAnyUncached ? nc(`pgprot ${vma.pgprot}`) : { kind: 'map', attr: t[vma.pgprot]!, noTagAccess: false, why: `pgprot ${vma.pgprot}` };
      }
      if (forcedNC) return nc(vma.io ? 'VM_IO forces non-cacheable' : 'MTE VM without VM_MTE_ALLOWED forces non-cacheable');
      return { kind: 'map', attr: 'normal-wb', noTagAccess: false, why: `pgprot ${vma.pgprot}: Normal WB` };
    }
    case 'cacheable-pfnmap':
      if (cacheablePgprot && !fwbDic) return { kind: 'memslot-refused', errno: 'EINVAL', why: 'cacheable VM_PFNMAP needs FEAT_S2FWB and CTR_EL0.DIC' };
      if (vma.cow) return { kind: 'fault-refused', errno: 'EINVAL', why: 'copy-on-write VM_PFNMAP' };
      if (!cacheablePgprot) {
        if (q.exec) return { kind: 'fault-refused', errno: 'ENOEXEC', why: 'exec on forced-non-cacheable memory' };
        return nc(`pgprot ${vma.pgprot} forces non-cacheable`);
      }
      if (mteVm && !vma.mteAllowed) return { kind: 'map', attr: 'normal-wb', noTagAccess: true, why: 'FEAT_S2FWB and CTR_EL0.DIC: Normal WB; MTE VM without VM_MTE_ALLOWED: NoTagAccess (FEAT_MTE_PERM)' };
      return { kind: 'map', attr: 'normal-wb', noTagAccess: false, why: 'FEAT_S2FWB and CTR_EL0.DIC: Normal WB' };
  }
}

export const describeExpectation = (e: Expectation): string =>
  e.kind === 'map' ? `${e.attr}${e.noTagAccess ? ' NoTagAccess' : ''}` : `${e.kind} -${e.errno}`;

/** What the hypervisor actually did with the window's first page (or its memslot). */
export function observedMapping(vm: PassthroughVm): string {
  if (vm.memslotRefused !== undefined) return `memslot-refused ${vm.memslotRefused.split(' ')[0]}`;
  const d = vm.hyp.mapped.get(PT_IPA);
  if (d !== undefined) return `${d.attr}${d.noTagAccess ? ' NoTagAccess' : ''}`;
  // A refused fault anywhere in that page (the first access may be to any of its counters).
  const page = Math.floor(PT_IPA / PAGE_BYTES);
  const r = vm.hyp.stats.refusals.find((x) => {
    const m = /^fault at IPA 0x([0-9a-f]+):/.exec(x);
    return m !== null && Math.floor(parseInt(m[1]!, 16) / PAGE_BYTES) === page;
  });
  return r !== undefined ? `fault-refused ${r.split(': ')[1]!.split(' ')[0]}` : 'not mapped';
}

export const capsText = (c: PlatformCaps): string => `fwb=${c.featS2FWB} dic=${c.ctrDic} mte=${c.mte} mtePerm=${c.featMTEPerm === true}`;

export function regionText(r: PassthroughRegion): string {
  return `${r.name} (${r.kind}, linearMap=${r.linearMap}, mteTags=${r.mteTags}, ncAtomics=${r.ncAtomics}, globalMonitor=${r.globalMonitor}, exclusivesWithoutMonitor=${r.exclusivesWithoutMonitor ?? 'fail'})`;
}

// ---------------------------------------------------------------------------------------------
// The scenario
// ---------------------------------------------------------------------------------------------

const Params = z.strictObject({
  /** vCPUs (PE 0 .. pes-1), each with the stage-2 handler attached. */
  pes: zInt(1, 64).default(2),
  /** Increments per vCPU, of each counter (LDADD, then LDXR/STXR). */
  increments: zInt(1, 100_000).default(50),
  /** LDXR/STXR attempts per increment before giving up; 0 = (pes - 1) x increments + 1 (see atomics-contention). */
  maxAttempts: zInt(0, 1_000_000).default(0),
  ...VmaParams,
});
type P = z.infer<typeof Params>;

const LDADD_OFF = 0, LLSC_OFF = 0x40;     // two counters, two lines of the window's first page

type FaultKey = 'externalAbort' | 'unsupportedAtomic' | 'alignment' | 'undefinedInstruction' | 'stage2';
const FAULT_KEY: Partial<Record<Fault, FaultKey>> = {
  'external-abort': 'externalAbort', 'unsupported-atomic': 'unsupportedAtomic', alignment: 'alignment', 'undefined-instruction': 'undefinedInstruction',
};

interface Tally {
  vm: PassthroughVm;
  faults: { ldadd: Record<FaultKey, number>; llsc: Record<FaultKey, number> };
  ldaddDone: number; llscDone: number;
  stxrFailures: number; givenUp: number;
  start: number; end: number;
}
const tallies = new WeakMap<object, Tally>();
const noFaults = (): Record<FaultKey, number> => ({ externalAbort: 0, unsupportedAtomic: 0, alignment: 0, undefinedInstruction: 0, stage2: 0 });

function countFault(f: Record<FaultKey, number>, fault: Fault | undefined, stage: number | undefined): void {
  if (stage === 2) { f.stage2++; return; }
  const k = fault !== undefined ? FAULT_KEY[fault] : undefined;
  if (k === undefined) throw new Error(`atomics-normal-nc: unexpected ${fault ?? 'unknown'} fault in the guest`);
  f[k]++;
}

function* vcpu(ctx: ScenarioContext<P>, t: Tally): Program {
  const { increments } = ctx.params;
  const maxAttempts = attemptsOf(ctx.params);
  const q = ctx.sys.q;
  yield* enterVcpu(t.vm);
  if (t.start < 0 || q.now < t.start) t.start = q.now;
  for (let i = 0; i < increments; i++) {
    const r = (yield prog.atomic('add', PT_IPA + LDADD_OFF, 8, 1))!;
    if (r.ok) t.ldaddDone++; else countFault(t.faults.ldadd, r.fault, r.syndrome?.stage);
  }
  for (let i = 0; i < increments; i++) {
    let attempt = 0;
    for (; attempt < maxAttempts; attempt++) {
      const old = (yield prog.ldxr(PT_IPA + LLSC_OFF, 8))!;
      if (!old.ok) { countFault(t.faults.llsc, old.fault, old.syndrome?.stage); break; }
      const st = (yield prog.stxr(PT_IPA + LLSC_OFF, 8, old.value + 1))!;
      if (!st.ok) { countFault(t.faults.llsc, st.fault, st.syndrome?.stage); break; }
      if (st.value === 0) { t.llscDone++; break; }
      t.stxrFailures++;
    }
    if (attempt === maxAttempts) { t.givenUp++; yield prog.clrex(); }
  }
  if (q.now > t.end) t.end = q.now;
}

/** Per counter: the count expected, and the fault every increment takes (or none). */
interface Outcome {
  ldadd: number; llsc: number; ldaddFault: FaultKey | 'none'; llscFault: FaultKey | 'none'; givenUp: number; stxrFailures: number | 'any'; outcome: string; why: string;
  /** Set (the reason) when the LDXR/STXR count is that of the increments that did not give up (see mayGiveUp). */
  mayGiveUp?: string;
}

/**
 * `lse` false (no FEAT_LSE): every LDADD is UNDEFINED whatever the mapping, since decoding fails
 * before any translation or access (no stage-2 fault, no region property comes into it).
 */
function predict(e: Expectation, r: PassthroughRegion, p: P, lse: boolean): Outcome {
  const all = p.pes * p.increments;
  const undef = 'LDADD UNDEFINED (no FEAT_LSE)';
  if (e.kind === 'memslot-refused') return { ldadd: 0, llsc: 0, ldaddFault: 'none', llscFault: 'none', givenUp: 0, stxrFailures: 0, outcome: 'memslot refused: the VMM cannot create the VM', why: e.why };
  if (e.kind === 'fault-refused') {
    return { ldadd: 0, llsc: 0, ldaddFault: lse ? 'stage2' : 'undefinedInstruction', llscFault: 'stage2', givenUp: 0, stxrFailures: 0, outcome: `${lse ? 'every access takes' : `${undef}; every LDXR/STXR takes`} a stage-2 fault (-${e.errno})`, why: e.why };
  }
  const giveUp = mayGiveUp(p);
  if (e.attr === 'normal-wb') {
    return {
      ldadd: lse ? all : 0, llsc: all, ldaddFault: lse ? 'none' : 'undefinedInstruction', llscFault: 'none', givenUp: 0, stxrFailures: 'any',
      outcome: lse ? 'exact: near atomics and the local monitor on Normal WB' : `${undef}; LDXR/STXR exact on Normal WB`, why: e.why, ...(giveUp !== undefined ? { mayGiveUp: giveUp } : {}),
    };
  }
  const type = e.attr === 'normal-nc' ? 'Normal-NC' : 'Device';
  const o: Outcome = { ldadd: all, llsc: all, ldaddFault: 'none', llscFault: 'none', givenUp: 0, stxrFailures: 'any', outcome: '', why: e.why };
  const parts: string[] = [];
  if (!lse) { o.ldadd = 0; o.ldaddFault = 'undefinedInstruction'; parts.push(undef); }
  else if (r.ncAtomics === 'far') parts.push('LDADD far (exact)');
  else { o.ldadd = 0; o.ldaddFault = r.ncAtomics === 'abort' ? 'externalAbort' : 'unsupportedAtomic'; parts.push(`LDADD ${r.ncAtomics === 'abort' ? 'external abort' : 'unsupported atomic fault'}`); }
  if (r.globalMonitor) { parts.push('LDXR/STXR on the global monitor (exact)'); if (giveUp !== undefined) o.mayGiveUp = giveUp; }
  else if (r.exclusivesWithoutMonitor === 'abort') { o.llsc = 0; o.llscFault = 'externalAbort'; o.stxrFailures = 0; parts.push('STXR external abort'); }
  else { o.llsc = 0; o.givenUp = all; o.stxrFailures = all * attemptsOf(p); parts.push('every STXR fails: updates lost'); }
  o.outcome = `${type} at stage 2: ${parts.join('; ')}`;
  return o;
}

export const scenario = defineScenario<P>({
  name: 'atomics-normal-nc',
  description: 'seed 000: guest vCPUs run LDADD and LDXR/STXR on a passthrough cacheable-device region (grace gpu-mem); hyp.policy decides Device / Normal-NC / Normal WB at stage 2 or refuses, the region decides what non-cacheable atomics do',
  platform: 'grace',                   // the Grace Hopper GPU memory of seed 000: a cacheable-device region outside the linear map
  translation: 'vmsa',
  accepts: ACCEPTS,
  params: Params,
  setup(ctx) {
    const { sys, params } = ctx;
    if (params.pes > sys.pes.length) throw new UserError(`scenario.pes: ${params.pes} vCPUs need core.count >= ${params.pes} (the platform has ${sys.pes.length})`);
    const vm = passthroughVm(sys, { vma: vmaOf(params), windowAttrIndx: ATTRIDX_WB });
    const t: Tally = { vm, faults: { ldadd: noFaults(), llsc: noFaults() }, ldaddDone: 0, llscDone: 0, stxrFailures: 0, givenUp: 0, start: -1, end: 0 };
    tallies.set(ctx, t);
    if (vm.memslotRefused !== undefined) {
      // KVM_SET_USER_MEMORY_REGION failed: the VMM gives up before any vCPU runs.
      sys.attach(0, new ProgramOpSource((function* (): Program { yield* vm.hyp.hostInit(); })(), 'vmm'));
      return;
    }
    for (let pe = 0; pe < params.pes; pe++) {
      vm.hyp.attachTo(sys.pes[pe]!);
      sys.attach(pe, new ProgramOpSource(vcpu(ctx, t), `vcpu${pe}`));
    }
  },
  check(ctx, outcome) {
    const t = tallies.get(ctx)!;
    const { sys, params } = ctx;
    const vm = t.vm;
    const policy = sys.cfg.hyp.policy as PolicyName;
    const e = expectedMapping(policy, vm.vma, vm.caps, { exec: false, vmMte: false });
    const p = predict(e, vm.region, params, sys.cfg.core.featLSE ?? true);
    const read = (off: number): number => { const b = sys.caches.readCoherent(vm.ptPa + off, 8); let v = 0; for (let k = 7; k >= 0; k--) v = v * 256 + b[k]!; return v; };
    const ldadd = read(LDADD_OFF), llsc = read(LLSC_OFF);
    const all = params.pes * params.increments;
    const sum = (f: Record<FaultKey, number>): number => f.externalAbort + f.unsupportedAtomic + f.alignment + f.undefinedInstruction + f.stage2;
    const faultsOk = (f: Record<FaultKey, number>, k: FaultKey | 'none'): boolean => (k === 'none' ? sum(f) === 0 : f[k] === all && sum(f) === all);
    const observedMap = observedMapping(vm);
    const s = vm.hyp.stats;
    const ran = vm.memslotRefused === undefined;
    return {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      stage2: {
        pass: observedMap === describeExpectation(e),
        expected: describeExpectation(e), observed: observedMap, why: e.why, policy,
        platform: capsText(vm.caps), region: regionText(vm.region),
        s2Faults: s.s2Faults, pagesMapped: s.pagesMapped, s2Refused: s.s2Refused, refusals: s.refusals.slice(0, 4),
      },
      expected: {
        pass: true, ldadd: p.ldadd, llsc: p.mayGiveUp !== undefined ? `${all} less those given up` : p.llsc, increments: all,
        outcome: p.mayGiveUp !== undefined ? `${p.outcome}; ${p.mayGiveUp}` : p.outcome,
      },
      observed: {
        pass: ldadd === p.ldadd && t.ldaddDone === p.ldadd
          && (p.mayGiveUp !== undefined ? llsc === t.llscDone && t.llscDone + t.givenUp === all : llsc === p.llsc && t.llscDone === p.llsc && t.givenUp === p.givenUp)
          && (p.stxrFailures === 'any' || t.stxrFailures === p.stxrFailures),
        ldadd, llsc, ldaddDone: t.ldaddDone, llscDone: t.llscDone, stxrFailures: t.stxrFailures, givenUp: t.givenUp, vcpusRan: ran,
      },
      aborts: {
        pass: faultsOk(t.faults.ldadd, p.ldaddFault) && faultsOk(t.faults.llsc, p.llscFault),
        total: sum(t.faults.ldadd) + sum(t.faults.llsc), ldadd: t.faults.ldadd, llsc: t.faults.llsc,
        expected: { ldadd: p.ldaddFault === 'none' ? 'none' : `${all} x ${p.ldaddFault}`, llsc: p.llscFault === 'none' ? 'none' : `${all} x ${p.llscFault}` },
      },
      cycles: { pass: true, guest: ran ? t.end - t.start : 0, total: outcome.cycles, faultCycles: s.faultCycles },
    };
  },
});
