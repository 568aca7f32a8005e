import { z } from 'zod';
import { ProgramOpSource, prog, type OpResult, type Program } from '../src/core/index.js';
import { defineScenario } from '../src/platform/index.js';
import type { Hypervisor } from '../src/hyp/index.js';
import { UserError } from '../src/sim/index.js';
import { ACCEPTS, ATTRIDX_WB, PT_IPA, VmaParams, barRegion, enterVcpu, passthroughVm, regionText, vmaOf, zPgprot, type PassthroughVm } from './atomics-normal-nc.js';

/**
 * Seed 004's crash (v5.12, Tegra validation model without FEAT_S2FWB): QEMU mmaps a PCIe BAR
 * through vfio (a VM_PFNMAP VMA at a user VA; the BAR's PFN is not in the kernel linear map); the
 * guest uses the BAR; then the host PTE of that user VA changes (an access-flag update, with the
 * "mm: notify remote TLBs when dirtying a PTE" patch) and the MMU notifier calls
 * kvm_set_spte_hva(), which cleans the "guest page" to PoC by page_address(pfn) — the PFN's
 * linear-map VA, which maps nothing. The host's DC CIVAC takes a translation fault at EL2: the Oops
 * with ESR 0x96000145 (EC 0x25 DABT current EL, CM=1, WnR=1) at __flush_dcache_area.
 * Marc Zyngier's fix in the thread (`--set scenario.fix=true`): `if (!kvm_is_device_pfn(pfn))
 * clean_dcache_guest_page(pfn, PAGE_SIZE)` — no maintenance for a PFN outside the linear map.
 * With FEAT_S2FWB KVM never cleans here, so there is no crash either way.
 *
 * The BAR is the platform's first `device` region outside the linear map (neoverse-n1: pcie-mmio).
 * The host's linear map is the identity map of its RAM (Hypervisor.hostMap), so page_address() of
 * the BAR's PFN is its PA, which the host map leaves unmapped: the host kernel has no mapping of
 * the BAR (`hostMapsDevices: false`) and the VMM's mapping of it sits at another VA (`Memslot.hostVa`). The VMA is shared (vfio's mmap), not CoW: the path
 * "was only ever expected to be called for CoW" (Marc Zyngier), which is the bug.
 */
const Params = z.strictObject({
  ...VmaParams,
  /** vfio-pci maps BARs with pgprot_noncached. */
  pgprot: zPgprot.default('noncached'),
  /** VM_ALLOW_ANY_UNCACHED did not exist in 2021. */
  allowAnyUncached: z.boolean().default(false),
  /** Apply the fix: skip the clean for a PFN outside the linear map. */
  fix: z.boolean().default(false),
});
type P = z.infer<typeof Params>;

/** The VMM's user VA of the BAR mapping (QEMU's mmap), away from every PA the host maps. */
const VMM_BAR_VA = 0x7f00_0000_0000;

type CleanResult = Parameters<Hypervisor['changePte']>[2];
interface Marks { vm: PassthroughVm; guestRead?: OpResult; clean: CleanResult }
const marks = new WeakMap<object, Marks>();

function* host(m: Marks, fix: boolean): Program {
  // The vCPU uses the BAR once (a stage-2 fault maps it under hyp.policy) ...
  yield* enterVcpu(m.vm);
  m.guestRead = (yield prog.load(PT_IPA, 4))!;
  // ... then exits to the host, where the VMM's PTE for the BAR changes.
  yield prog.exceptionLevel(2);
  yield* m.vm.hyp.changePte(VMM_BAR_VA, { skipDevicePfn: fix }, m.clean);
}


export const scenario = defineScenario<P>({
  name: 'cow-device-pfn-clean',
  description: "seed 004: KVM's change_pte notifier cleans a vfio BAR page by its linear-map address on a host without FWB, and the host faults (Oops); scenario.fix=true skips PFNs outside the linear map",
  platform: 'neoverse-n1',
  translation: 'vmsa',
  accepts: ACCEPTS,
  params: Params,
  setup(ctx) {
    const { sys, params } = ctx;
    const vm = passthroughVm(sys, { vma: vmaOf(params), windowAttrIndx: ATTRIDX_WB, ptHostVa: VMM_BAR_VA, region: barRegion(sys, 'cow-device-pfn-clean'), hostMapsDevices: false });
    if (vm.memslotRefused !== undefined) throw new UserError(`hyp.policy: '${sys.cfg.hyp.policy}' refuses the BAR memslot (${vm.memslotRefused}); this scenario needs it accepted`);
    const m: Marks = { vm, clean: { dcOps: 0, cycles: 0 } };
    marks.set(ctx, m);
    vm.hyp.attachTo(sys.pes[0]!);
    sys.attach(0, new ProgramOpSource(host(m, params.fix), 'host + vcpu0'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const { params, sys } = ctx;
    const fwb = m.vm.caps.featS2FWB;
    const expectCrash = !fwb && !params.fix;
    const f = m.clean.fault;
    const esr = f?.esr ?? 0;
    const fields = { ec: (esr >>> 26) & 0x3f, cm: (esr >>> 8) & 1, wnr: (esr >>> 6) & 1, dfsc: esr & 0x3f };
    // Seed 004: ESR 0x96000145 = EC 0x25, CM 1, WnR 1, DFSC 0b000101 (translation, level 1 with 64KB pages).
    const likeSeed = fields.ec === 0x25 && fields.cm === 1 && fields.wnr === 1 && (fields.dfsc & 0x3c) === 0x04;
    return {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      guestUsedBar: { pass: m.guestRead !== undefined && m.guestRead.ok, ok: m.guestRead?.ok ?? false, stage2: [...m.vm.hyp.mapped.values()].map((d) => d.attr).at(-1) ?? 'none', policy: sys.cfg.hyp.policy },
      hostFault: {
        pass: (f !== undefined) === expectCrash && (f === undefined || likeSeed),
        crashed: f !== undefined, expected: expectCrash ? 'translation fault at EL2 (Oops)' : 'no fault',
        why: fwb ? 'FEAT_S2FWB: KVM does not clean' : params.fix ? 'fix: kvm_is_device_pfn() skips the clean' : 'page_address() of a BAR PFN is not mapped by the host',
        fault: f?.fault ?? 'none', esr: `0x${esr.toString(16)}`, esrFields: fields, far: f ? `0x${f.far.toString(16)}` : 'none', likeSeed004: f !== undefined && likeSeed,
      },
      clean: { pass: expectCrash ? m.clean.dcOps === 1 : m.clean.dcOps === 0, dcOps: m.clean.dcOps, skipped: m.clean.skipped ?? 'no', cycles: m.clean.cycles, fwb, fix: params.fix, region: regionText(m.vm.region) },
    };
  },
});
