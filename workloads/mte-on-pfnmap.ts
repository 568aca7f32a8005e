import { z } from 'zod';
import { ProgramOpSource, prog, type OpResult, type Program } from '../src/core/index.js';
import { defineScenario } from '../src/platform/index.js';
import type { PolicyName } from '../src/hyp/index.js';
import {
  ATTRIDX_TAGGED, ATTRIDX_WB, PT_IPA, VmaParams, capsText, describeExpectation, enterVcpu, expectedMapping, observedMapping, passthroughVm, regionText, vmaOf,
  type Expectation, type PassthroughVm,
  ACCEPTS,
} from './atomics-normal-nc.js';

/**
 * Seed 000's MTE question (Catalin Marinas, 2025-01-16: "we either disable Stage 2 cacheable or
 * allow it with FEAT_MTE_PERM"): a VM with MTE enabled maps the cacheable passthrough region
 * (grace gpu-mem: no tag storage) as Normal Tagged (MAIR 0xF0) and does a Tagged load and store
 * on its first page; its second page is mapped Normal WB untagged and read once.
 *
 * What each policy does (the VMA has no VM_MTE_ALLOWED, as for every VM_PFNMAP VMA):
 * - legacy, wc, cacheable-pfnmap-v2: the memslot is refused for an MTE VM (-EINVAL).
 * - cacheable-pfnmap without FEAT_MTE_PERM: the same. With FEAT_MTE_PERM
 *   (`--set mmu.attrs.featMTEPerm=true`) and FEAT_S2FWB + CTR_EL0.DIC, the page is mapped Normal WB
 *   with stage-2 NoTagAccess (FWB=1 MemAttr 0b1110, FWB=0 0b0100): the Tagged accesses take
 *   stage-2 Permission faults that the hypervisor sees (and answers with an abort in the guest);
 *   the untagged read goes through.
 * With `--set scenario.mteAllowed=true` (a driver claiming tag storage it does not have) every
 * policy lets the slot through: where stage 2 is Normal WB the Tagged accesses reach memory with
 * no tag storage and end in an External abort; where stage 2 is Device or Normal-NC the combined
 * type is not Tagged and they go through untagged.
 *
 * The platform gets FEAT_MTE2 (`mmu.attrs.featMTE2=true` in platformSets): no preset has MTE
 * (Grace does not expose it), and without it MAIR 0xF0 is reserved and the VM cannot have MTE.
 */
const Params = z.strictObject({ ...VmaParams });
type P = z.infer<typeof Params>;

interface Probe { ok: boolean; fault?: string; stage?: number }
interface Marks { vm: PassthroughVm; tagged: Probe[]; untagged?: Probe }
const marks = new WeakMap<object, Marks>();
const probe = (r: OpResult): Probe => (r.ok ? { ok: true } : { ok: false, fault: r.fault ?? 'unknown', stage: r.syndrome?.stage ?? 0 });
/** 'ok', an MMU fault with its stage, or a memory-system fault by name ('external-abort': no syndrome from the MMU). */
const text = (p: Probe | undefined): string => (p === undefined ? 'not run' : p.ok ? 'ok' : p.stage === 1 || p.stage === 2 ? `stage-${p.stage} ${p.fault} fault` : p.fault!);

function* vcpu(m: Marks): Program {
  yield* enterVcpu(m.vm);
  m.tagged.push(probe((yield prog.load(PT_IPA, 8))!));
  m.tagged.push(probe((yield prog.store(PT_IPA + 8, 8, 0x5a, { wait: true }))!));
  m.untagged = probe((yield prog.load(PT_IPA + 0x1000, 8))!);
}

function predict(e: Expectation, regionHasTags: boolean): { tagged: string; untagged: string; outcome: string } {
  switch (e.kind) {
    case 'memslot-refused': return { tagged: 'not run', untagged: 'not run', outcome: `memslot refused (-${e.errno}): no vCPU runs` };
    case 'fault-refused': return { tagged: 'stage-2 translation fault', untagged: 'stage-2 translation fault', outcome: `every fault refused (-${e.errno})` };
    default:
      if (e.attr !== 'normal-wb') return { tagged: 'ok', untagged: 'ok', outcome: `${describeExpectation(e)} at stage 2: the combined type is not Tagged, no tag access` };
      if (e.noTagAccess) return { tagged: 'stage-2 permission fault', untagged: 'ok', outcome: 'Normal WB NoTagAccess: Tagged accesses take stage-2 Permission faults the hypervisor sees' };
      return regionHasTags
        ? { tagged: 'ok', untagged: 'ok', outcome: 'Normal WB Tagged on memory with tag storage' }
        : { tagged: 'external-abort', untagged: 'ok', outcome: 'Normal WB Tagged on memory without tag storage: External abort' };
  }
}

export const scenario = defineScenario<P>({
  name: 'mte-on-pfnmap',
  description: 'seed 000: an MTE guest maps the cacheable passthrough region Tagged; the memslot is refused, the Tagged accesses abort (no tag storage), or stage-2 NoTagAccess (FEAT_MTE_PERM) turns them into stage-2 permission faults',
  platform: 'grace',                   // the Grace Hopper GPU memory of seed 000: a cacheable-device region outside the linear map
  translation: 'vmsa',
  platformSets: ['mmu.attrs.featMTE2=true'],
  accepts: ACCEPTS,
  params: Params,
  setup(ctx) {
    const { sys, params } = ctx;
    const vm = passthroughVm(sys, { vma: vmaOf(params), windowAttrIndx: ATTRIDX_TAGGED, vmMte: true });
    vm.s1.map({ va: PT_IPA + 0x1000, oa: PT_IPA + 0x1000, size: 0x1000, level: 3, s1: { af: true, attrIndx: ATTRIDX_WB, sh: 3 } });
    const m: Marks = { vm, tagged: [] };
    marks.set(ctx, m);
    vm.hyp.attachTo(sys.pes[0]!);
    if (vm.memslotRefused !== undefined) {
      sys.attach(0, new ProgramOpSource((function* (): Program { yield* vm.hyp.hostInit(); })(), 'vmm'));
      return;
    }
    sys.attach(0, new ProgramOpSource(vcpu(m), 'vcpu0'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const vm = m.vm;
    const policy = ctx.sys.cfg.hyp.policy as PolicyName;
    const e = expectedMapping(policy, vm.vma, vm.caps, { exec: false, vmMte: true });
    const p = predict(e, vm.region.mteTags);
    const tagged = m.tagged.length === 0 ? ['not run', 'not run'] : m.tagged.map(text);
    const s = vm.hyp.stats;
    const expectTagFaults = p.tagged === 'stage-2 permission fault' ? 2 : 0;
    const aborts = m.tagged.filter((t) => t.fault === 'external-abort').length;
    return {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      stage2: {
        pass: observedMapping(vm) === describeExpectation(e) || (e.kind === 'fault-refused' && observedMapping(vm).startsWith('fault-refused')),
        expected: describeExpectation(e), observed: observedMapping(vm), why: e.why, outcome: p.outcome, policy,
        platform: capsText(vm.caps), region: regionText(vm.region), refusals: s.refusals.slice(0, 4),
      },
      tagged: { pass: tagged.every((t) => t === p.tagged), expected: p.tagged, load: tagged[0], store: tagged[1] },
      untagged: { pass: text(m.untagged) === p.untagged, expected: p.untagged, observed: text(m.untagged) },
      tagAccessFaults: { pass: s.tagAccessFaults === expectTagFaults, seenByHypervisor: s.tagAccessFaults, expected: expectTagFaults, externalAborts: aborts, s2Faults: s.s2Faults, faultCycles: s.faultCycles },
    };
  },
});
