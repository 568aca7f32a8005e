/**
 * `legacy`: KVM/arm64 before the 2024 Normal-NC change. The only question is whether the PFN is
 * kernel memory: `kvm_is_device_pfn(pfn) = !pfn_is_map_memory(pfn)` (the helper the v2 diff in
 * seed 000 removes). Kernel memory gets Normal WB; anything else gets Device-nGnRE, whatever the
 * VMA's pgprot or flags say, and an instruction fault on it is refused with -ENOEXEC.
 * Seed 000 cover letter: "Today KVM forces the memory to either NORMAL or DEVICE_nGnRE based on
 * pfn_is_map_memory() and ignores the per-VMA flags".
 *
 * MTE: the memslot is refused (-EINVAL) for an MTE VM when the VMA lacks VM_MTE_ALLOWED; if the
 * VMM swaps in such a VMA later, a fault that would map it cacheable fails with -EFAULT ("Check
 * the VMM hasn't introduced a new disallowed VMA"). Device mappings skip the check: a guest cannot
 * use tags on Device memory. No NoTagAccess: FEAT_MTE_PERM support postdates this code.
 */
import { commonMemslotChecks, map, refuse, vmHasMte, writable } from './common.js';
import type { Decision, FaultInfo, PlatformCaps, StagePolicy, VmaInfo } from './types.js';

/**
 * The fault rule `legacy` and `wc` share: kernel memory Normal WB, anything else non-cacheable
 * and never executable; `uncachedOk` (wc) lets a VM_ALLOW_ANY_UNCACHED device VMA be Normal-NC.
 */
export function linearMapFault(vma: VmaInfo, f: FaultInfo, caps: PlatformCaps, uncachedOk: boolean): Decision {
  const device = !f.pfnInLinearMap;
  if (f.exec && device) return refuse('ENOEXEC', 'exec fault on device PFN');
  if (!device && vmHasMte(f.vmMte, caps) && !vma.mteAllowed)
    return refuse('EFAULT', 'MTE VM: cacheable mapping of a VMA without VM_MTE_ALLOWED');
  const w = writable(vma, f.write);
  if (device) {
    return uncachedOk && vma.allowAnyUncached
      ? map('normal-nc', false, w, 'device PFN with VM_ALLOW_ANY_UNCACHED: Normal-NC')
      : map('device-nGnRE', false, w, 'PFN outside the linear map: Device-nGnRE');
  }
  // The X bit is given on every fault when CTR_EL0.DIC makes I-cache maintenance unnecessary.
  return map('normal-wb', f.exec || caps.ctrDic, w, 'PFN in the linear map: Normal WB');
}

export const legacyPolicy = Object.freeze<StagePolicy>({
  name: 'legacy',
  description: 'RAM (PFN in the linear map) Normal WB, anything else Device-nGnRE; no exec on device memory',
  memslot(vma, caps, slot?) {
    return commonMemslotChecks(vma, caps, slot) ?? { ok: true };
  },
  fault(vma, f, caps) { return linearMapFault(vma, f, caps, false); },
});
