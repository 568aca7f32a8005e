import { z } from 'zod';
import { ProgramOpSource, prog, type OpResult, type Program } from '../src/core/index.js';
import { defineScenario } from '../src/platform/index.js';
import type { PolicyName } from '../src/hyp/index.js';
import {
  ATTRIDX_WB, PT_IPA, VmaParams, capsText, describeExpectation, enterVcpu, expectedMapping, observedMapping, passthroughVm, regionText, vmaOf,
  type Expectation, type PassthroughVm,
  ACCEPTS,
} from './atomics-normal-nc.js';

/**
 * An instruction fetch from the passthrough region (the same VM as atomics-normal-nc: a VM_PFNMAP
 * VMA outside the host's linear map, mapped Normal WB and executable at stage 1 by the guest).
 * Each policy either refuses the exec fault (-ENOEXEC: the guest sees a stage-2 fault) or maps the
 * page executable, and the fetch returns the bytes the device holds:
 * - legacy, wc: refused (kvm_is_device_pfn(): no exec on device memory).
 * - cacheable-pfnmap-v2: refused (VM_IO, and no struct page: "not determined Normal cacheable").
 * - cacheable-pfnmap: with FEAT_S2FWB and CTR_EL0.DIC the page is Normal WB and executable;
 *   without them the memslot is refused and nothing runs.
 * Two ways in, both checked: page 0 is fetched first (a stage-2 translation fault with the exec
 * bit); page 1 is read first and then fetched (the read maps it, XN unless the policy grants X
 * proactively on CTR_EL0.DIC; the fetch then takes a stage-2 permission fault, or hits).
 */
const Params = z.strictObject({
  /** Bytes fetched from each of the two pages (a multiple of 4). */
  fetchBytes: z.number().int().min(4).max(4096).multipleOf(4).default(64),
  ...VmaParams,
});
type P = z.infer<typeof Params>;

interface Probe { ok: boolean; fault?: string; stage?: number; correct: boolean }
interface Marks { vm: PassthroughVm; code: Uint8Array; fetchFirst?: Probe; readFirst?: { read: Probe; fetch: Probe } }
const marks = new WeakMap<object, Marks>();

function probe(r: OpResult, want: Uint8Array): Probe {
  if (!r.ok) return { ok: false, fault: r.fault ?? 'unknown', stage: r.syndrome?.stage ?? 0, correct: false };
  return { ok: true, correct: r.bytes.every((b, i) => b === want[i]) };
}

function* vcpu(m: Marks, bytes: number): Program {
  yield* enterVcpu(m.vm);
  m.fetchFirst = probe((yield prog.fetch(PT_IPA, bytes))!, m.code.subarray(0, bytes));
  const read = probe((yield prog.load(PT_IPA + 0x1000, 8))!, m.code.subarray(0x1000, 0x1008));
  const fetch = probe((yield prog.fetch(PT_IPA + 0x1000, bytes))!, m.code.subarray(0x1000, 0x1000 + bytes));
  m.readFirst = { read, fetch };
}

const describe = (p: Probe | undefined): string => (p === undefined ? 'not run' : p.ok ? (p.correct ? 'ok' : 'ok, wrong bytes') : `stage-${p.stage} ${p.fault} fault`);

/** What the fetch (and the read before it) should give under the expectation for an exec fault, and for the read. */
function predict(execE: Expectation, dataE: Expectation): { fetch: string; read: string; fetchAfterRead: string; outcome: string } {
  if (execE.kind === 'memslot-refused') return { fetch: 'not run', read: 'not run', fetchAfterRead: 'not run', outcome: `memslot refused (-${execE.errno}): no vCPU runs` };
  const read = dataE.kind === 'map' ? 'ok' : 'stage-2 translation fault';
  if (execE.kind === 'fault-refused') {
    // After the read mapped the page XN, the fetch is a permission fault; else still a translation fault.
    return { fetch: 'stage-2 translation fault', read, fetchAfterRead: dataE.kind === 'map' ? 'stage-2 permission fault' : 'stage-2 translation fault', outcome: `exec refused (-${execE.errno}): the guest sees a stage-2 fault` };
  }
  return { fetch: 'ok', read, fetchAfterRead: 'ok', outcome: `exec allowed: ${describeExpectation(execE)}, executable` };
}

export const scenario = defineScenario<P>({
  name: 'exec-on-device-memory',
  description: 'an instruction fetch from a passthrough VM_PFNMAP region (grace gpu-mem): each hyp.policy refuses it (-ENOEXEC, a stage-2 fault in the guest) or maps it executable',
  platform: 'grace',                   // the Grace Hopper GPU memory of seed 000: a cacheable-device region outside the linear map
  translation: 'vmsa',
  accepts: ACCEPTS,
  params: Params,
  setup(ctx) {
    const { sys, params } = ctx;
    const vm = passthroughVm(sys, { vma: vmaOf(params), windowAttrIndx: ATTRIDX_WB });
    // What the device memory holds (written by the device / a previous owner, not through any cache).
    const code = new Uint8Array(0x2000);
    for (let i = 0; i < code.length; i++) code[i] = 1 + ((i * 37 + 11) % 255);
    sys.coherent.write(vm.ptPa, code, 0, code.length);
    const m: Marks = { vm, code };
    marks.set(ctx, m);
    vm.hyp.attachTo(sys.pes[0]!);
    if (vm.memslotRefused !== undefined) {
      sys.attach(0, new ProgramOpSource((function* (): Program { yield* vm.hyp.hostInit(); })(), 'vmm'));
      return;
    }
    sys.attach(0, new ProgramOpSource(vcpu(m, params.fetchBytes), 'vcpu0'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const vm = m.vm;
    const policy = ctx.sys.cfg.hyp.policy as PolicyName;
    const execE = expectedMapping(policy, vm.vma, vm.caps, { exec: true, vmMte: false });
    const dataE = expectedMapping(policy, vm.vma, vm.caps, { exec: false, vmMte: false });
    const p = predict(execE, dataE);
    const got = { fetch: describe(m.fetchFirst), read: describe(m.readFirst?.read), fetchAfterRead: describe(m.readFirst?.fetch) };
    const s = vm.hyp.stats;
    const refusedExec = s.refusals.filter((r) => r.includes('ENOEXEC')).length;
    return {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      fetch: {
        pass: got.fetch === p.fetch,
        expected: p.fetch, observed: got.fetch, outcome: p.outcome, why: execE.why, policy,
        platform: capsText(vm.caps), region: regionText(vm.region),
      },
      fetchAfterRead: {
        pass: got.read === p.read && got.fetchAfterRead === p.fetchAfterRead,
        expectedRead: p.read, observedRead: got.read, expected: p.fetchAfterRead, observed: got.fetchAfterRead,
      },
      stage2: {
        pass: execE.kind !== 'map' || observedMapping(vm) === describeExpectation(execE),
        mapped: observedMapping(vm), execRefusals: refusedExec, s2Faults: s.s2Faults, s2Refused: s.s2Refused, pagesMapped: s.pagesMapped,
        icOps: s.icOps, faultCycles: s.faultCycles, refusals: s.refusals.slice(0, 4),
      },
    };
  },
});
