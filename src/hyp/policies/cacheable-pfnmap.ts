/**
 * `cacheable-pfnmap`: the rule merged upstream after the seed 000 review (torvalds/linux
 * arch/arm64/kvm/mmu.c: kvm_vma_is_cacheable(), user_mem_abort(), kvm_arch_prepare_memory_region(),
 * with kvm_supports_cacheable_pfnmap() = FEAT_S2FWB && CTR_EL0.DIC), as issue 6 states it.
 *
 * Fault:
 * - A copy-on-write VM_PFNMAP/VM_MIXEDMAP VMA is refused (-EINVAL): such a VMA can mix anonymous
 *   pages with PFNs and the pgprot means nothing for the anonymous ones (David Hildenbrand, seed 000,
 *   2024-12-20 15:42 and 2025-01-14 13:17 "outright refuse any page if is_cow_mapping()"; Ankit
 *   Agrawal, 2025-01-14 23:13, proposes -EINVAL). Assumption: the mmu.c we read has no explicit
 *   is_cow_mapping() test, so the errno and the place (first, before anything else) are the thread's.
 * - Only a VM_PFNMAP/VM_MIXEDMAP PFN outside the linear map is "device"; every other VMA is treated
 *   as memory and mapped WB whatever its pgprot or VM_IO (David Hildenbrand, 2025-01-17 16:58: limit
 *   the weirdness to VM_PFNMAP; Catalin Marinas, 2024-12-11: keep the !pfn_is_map_memory() test).
 * - Device with a cacheable pgprot (normal/tagged) keeps WB only with FEAT_S2FWB and CTR_EL0.DIC,
 *   because CMOs work on VAs and the PFN need not have a kernel VA: no maintenance may be needed
 *   (Catalin Marinas, 2024-12-11 22:01 "only allow such configuration if FWB is present", and
 *   2025-01-17 18:52 on rejecting the slot early). Otherwise the fault fails with -EFAULT.
 * - Device with a non-cacheable pgprot (noncached / writecombine / device) is forced non-cacheable:
 *   Device-nGnRE, or Normal-NC with VM_ALLOW_ANY_UNCACHED. Unlike v2, the pgprot's own type is not
 *   copied: noncached gives Device-nGnRE, not nGnRnE.
 * - Exec on forced-non-cacheable memory is refused (-ENOEXEC). Cacheable mappings get X on an exec
 *   fault, and on every fault where CTR_EL0.DIC holds.
 * Order as in user_mem_abort(): COW, then -EFAULT (cacheable PFNMAP without the features), then
 * -ENOEXEC, then the MTE check.
 *
 * Memslot: refused (-EINVAL) for a VM_PFNMAP VMA (VM_MIXEDMAP is not checked there) whose pgprot is
 * cacheable when FWB && DIC is missing, for VM_PFNMAP with dirty logging, and for an MTE VM with a
 * VMA lacking VM_MTE_ALLOWED. The memslot check cannot see the PFN, so it refuses a cacheable
 * VM_PFNMAP over RAM too, which the fault path would have mapped WB.
 *
 * MTE (our decision, the one thing here beyond the merged code): without FEAT_MTE_PERM, as merged —
 * the memslot is refused (-EINVAL) and a cacheable fault on a VMA without VM_MTE_ALLOWED fails with
 * -EFAULT. With FEAT_MTE_PERM the memslot is accepted and the page is mapped Normal WB with stage-2
 * NoTagAccess, so a guest's Tagged access takes a stage-2 Permission fault that the hypervisor sees
 * instead of reaching memory with no tag storage. This is the follow-up the thread agreed to
 * (Catalin Marinas, 2025-01-16 22:28 "we either disable Stage 2 cacheable or allow it with
 * FEAT_MTE_PERM", 2025-01-17 18:52 "Once the NoTagAccess feature gets in, we could allow MTE here as
 * well"; Jason Gunthorpe, 2025-01-17 14:00), not in the mmu.c we read; no platform preset has MTE,
 * so the default behaviour is the merged one. A VMA that does carry VM_MTE_ALLOWED is mapped WB
 * tagged even if its memory has no tag storage: the driver's claim is trusted (the
 * `mte-on-pfnmap` scenario's external abort).
 */
import { hasMtePerm, map, pgprotIsCacheable, refuse, vmHasMte, writable } from './common.js';
import { NO_SLOT_FLAGS, type StagePolicy } from './types.js';

/** kvm_supports_cacheable_pfnmap(). */
export const supportsCacheablePfnmap = (caps: { featS2FWB: boolean; ctrDic: boolean }): boolean => caps.featS2FWB && caps.ctrDic;

export const cacheablePfnmapPolicy = Object.freeze<StagePolicy>({
  name: 'cacheable-pfnmap',
  description: 'merged upstream: cacheable VM_PFNMAP outside the linear map needs FEAT_S2FWB and CTR_EL0.DIC; others Device or Normal-NC',
  memslot(vma, caps, slot = NO_SLOT_FLAGS) {
    if (vmHasMte(slot.vmMte, caps) && !vma.mteAllowed && !hasMtePerm(caps))
      return { ok: false, errno: 'EINVAL', reason: 'MTE VM: VMA lacks VM_MTE_ALLOWED (no FEAT_MTE_PERM)' };
    if (vma.pfnmap && slot.logDirtyPages)
      return { ok: false, errno: 'EINVAL', reason: 'VM_PFNMAP region cannot be dirty-logged' };
    if (vma.pfnmap && pgprotIsCacheable(vma.pgprot) && !supportsCacheablePfnmap(caps))
      return { ok: false, errno: 'EINVAL', reason: 'cacheable VM_PFNMAP needs FEAT_S2FWB and CTR_EL0.DIC' };
    return { ok: true };
  },
  fault(vma, f, caps) {
    const pfnmapLike = vma.pfnmap || vma.mixedmap;
    if (pfnmapLike && vma.cow) return refuse('EINVAL', 'copy-on-write VM_PFNMAP/VM_MIXEDMAP');
    const device = pfnmapLike && !f.pfnInLinearMap;
    const cacheable = pgprotIsCacheable(vma.pgprot);
    if (device && cacheable && !supportsCacheablePfnmap(caps))
      return refuse('EFAULT', 'cacheable PFNMAP outside the linear map needs FEAT_S2FWB and CTR_EL0.DIC');
    const forcedNC = device && !cacheable;
    if (f.exec && forcedNC) return refuse('ENOEXEC', 'exec fault on forced-non-cacheable memory');
    const w = writable(vma, f.write);
    if (forcedNC) {
      return vma.allowAnyUncached
        ? map('normal-nc', false, w, `device PFN, pgprot ${vma.pgprot}, VM_ALLOW_ANY_UNCACHED: Normal-NC`)
        : map('device-nGnRE', false, w, `device PFN, pgprot ${vma.pgprot}: Device-nGnRE`);
    }
    let noTagAccess = false;
    if (vmHasMte(f.vmMte, caps) && !vma.mteAllowed) {
      if (!hasMtePerm(caps)) return refuse('EFAULT', 'MTE VM: cacheable mapping of a VMA without VM_MTE_ALLOWED');
      noTagAccess = true;
    }
    const what = device ? 'cacheable PFNMAP with FWB+DIC' : 'memory';
    return map('normal-wb', f.exec || caps.ctrDic, w, `${what}: Normal WB${noTagAccess ? ', NoTagAccess' : ''}`, noTagAccess);
  },
});
