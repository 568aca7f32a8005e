/**
 * `cacheable-pfnmap-v2`: the patch under review in seed 000, "[PATCH v2 1/1] KVM: arm64: Allow
 * cacheable stage 2 mapping using VMA flags" (Ankit Agrawal, 2024-11-18), as issue 6 states it,
 * gaps filled from the diff. It drops kvm_is_device_pfn() and takes the stage-2 type from the
 * VMA's pgprot (the diff's mapping_type()):
 *   noncached → Device-nGnRnE, writecombine → Normal-NC, device → Device-nGnRE,
 *   normal / tagged → Normal WB; any non-normal pgprot with VM_ALLOW_ANY_UNCACHED → Normal-NC.
 * A "noncacheable" flag collects the cases the commit message calls unsafe for cacheable:
 *   (1) VM_IO; (2) an MTE VM and a VMA without VM_MTE_ALLOWED; (3) !pfn_valid(), no struct page.
 * Exec is allowed only when the pgprot is normal/tagged and none of (1)-(3) holds (-ENOEXEC).
 * Last, without FEAT_S2FWB a PFN with no struct page is refused with -EINVAL, because the host
 * cleans to PoC through the PFN's linear-map VA (kvm_flush_dcache_to_poc()).
 *
 * Where the issue and the diff differ (the issue is followed; both are reported):
 * - Issue 6: "VM_IO or MTE-without-VM_MTE_ALLOWED forces non-cacheable". In the diff the flag only
 *   gates exec, THP block upgrades and MTE tag sanitising; the stage-2 type comes from the pgprot
 *   alone, so the diff would still map such a VMA WB. Here (1) and (2) give Device-nGnRE (Normal-NC
 *   with VM_ALLOW_ANY_UNCACHED). Caution: remap_pfn_range() sets VM_IO on every VM_PFNMAP VMA, so
 *   under this reading a real nvgrace-gpu VMA (VM_IO|VM_PFNMAP, pgprot normal) ends up Device.
 * - (3) follows the diff: it refuses exec but does not change the type, so on an FWB platform a
 *   no-struct-page PFN with pgprot normal (Grace GPU memory) is WB, and exec faults on it are
 *   refused, although the cover letter says exec "should thus be allowed" on such memory. The
 *   diff still grants X proactively on CTR_EL0.DIC data faults there (its `else if (DIC)` arm);
 *   modelled as is.
 * - The diff maps all three non-normal pgprots with KVM_PGTABLE_PROT_DEVICE (nGnRE); the issue
 *   asks for noncached → nGnRnE, which this module does.
 * - The -EINVAL check does not look at the type: without FWB every BAR (no struct page) is refused,
 *   Device or not, a regression against `wc` that reviewers did not raise before v3.
 * Review outcome (seed 000): pfn_valid() does not mean "in the linear map" (Catalin Marinas,
 * 2024-12-11 22:01); "only allow such configuration if FWB is present" (same message); COW
 * VM_PFNMAP should be refused (David Hildenbrand, 2025-01-14 13:17). Those became `cacheable-pfnmap`.
 *
 * MTE: the memslot check is untouched by the diff, so an MTE VM still cannot create a slot over a
 * VMA without VM_MTE_ALLOWED (-EINVAL; Jason Gunthorpe, 2025-01-17 14:00: "this looks like it
 * happens during memslot creation, not in the fault handler"). At fault time such a VMA is forced
 * non-cacheable (case 2) instead of failing with -EFAULT. No NoTagAccess.
 */
import { commonMemslotChecks, hasStructPage, map, pgprotIsCacheable, refuse, vmHasMte, writable } from './common.js';
import type { MapDecision, S2Attr, StagePolicy } from './types.js';

const PGPROT_ATTR: Record<'noncached' | 'writecombine' | 'device', S2Attr> = {
  noncached: 'device-nGnRnE', writecombine: 'normal-nc', device: 'device-nGnRE',
};

export const cacheablePfnmapV2Policy = Object.freeze<StagePolicy>({
  name: 'cacheable-pfnmap-v2',
  description: 'seed 000 v2: stage-2 type follows the VMA pgprot; VM_IO / MTE force non-cacheable; no-struct-page PFN needs FWB',
  memslot(vma, caps, slot?) {
    return commonMemslotChecks(vma, caps, slot) ?? { ok: true };
  },
  fault(vma, f, caps) {
    const mtCacheable = pgprotIsCacheable(vma.pgprot);
    const forcedNC = vma.io || (vmHasMte(f.vmMte, caps) && !vma.mteAllowed);
    const noncacheable = forcedNC || !hasStructPage(f);
    if (f.exec && (noncacheable || !mtCacheable))
      return refuse('ENOEXEC', `exec fault on memory not determined Normal cacheable (${why(vma.io, forcedNC, hasStructPage(f), mtCacheable)})`);
    // The diff's MTE -EFAULT arm needs !noncacheable, which case (2) already excludes.
    if (!caps.featS2FWB && !hasStructPage(f))
      return refuse('EINVAL', 'no struct page and no FEAT_S2FWB: host cannot clean it by linear-map VA');
    const w = writable(vma, f.write);
    let d: MapDecision;
    if (!mtCacheable) {
      d = vma.allowAnyUncached
        ? map('normal-nc', false, w, `pgprot ${vma.pgprot} with VM_ALLOW_ANY_UNCACHED: Normal-NC`)
        : map(PGPROT_ATTR[vma.pgprot as keyof typeof PGPROT_ATTR], false, w, `pgprot ${vma.pgprot}`);
    } else if (forcedNC) {
      const r = vma.io ? 'VM_IO' : 'MTE VM, VMA without VM_MTE_ALLOWED';
      d = vma.allowAnyUncached
        ? map('normal-nc', false, w, `${r} forces non-cacheable; VM_ALLOW_ANY_UNCACHED: Normal-NC`)
        : map('device-nGnRE', false, w, `${r} forces non-cacheable: Device-nGnRE`);
    } else {
      d = map('normal-wb', f.exec || caps.ctrDic, w, `pgprot ${vma.pgprot}: Normal WB`);
    }
    return d;
  },
});

function why(io: boolean, forcedNC: boolean, hasPage: boolean, mtCacheable: boolean): string {
  if (!mtCacheable) return 'pgprot not normal';
  if (io) return 'VM_IO';
  if (forcedNC) return 'MTE VM, VMA without VM_MTE_ALLOWED';
  return hasPage ? 'non-cacheable' : 'no struct page (!pfn_valid)';
}
