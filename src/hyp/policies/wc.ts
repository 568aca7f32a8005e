/**
 * `wc`: `legacy` plus the 2024 change (upstream commit 8c47ce3e1d2c, "KVM: arm64: Set io memory
 * s2 pte as normalnc for vfio pci devices", the v9 at lore 20240224150546.368-1-ankita@nvidia.com
 * that Will Deacon cites in seed 000, 2024-12-10 14:07; the v3 discussion is seed 001). Device
 * memory whose VMA carries VM_ALLOW_ANY_UNCACHED (set by vfio-pci) is mapped Normal-NC instead
 * of Device-nGnRE, so a guest can use write-combining on BARs. The rationale (seed 001, Lorenzo
 * Pieralisi, 2023-12-14): mismatched Device-* / Normal-NC aliases are not a problem as long as
 * none is cacheable. Still non-cacheable, so exec stays refused (the `device` flag is unchanged).
 *
 * MTE: as `legacy`.
 */
import { commonMemslotChecks } from './common.js';
import { linearMapFault } from './legacy.js';
import type { StagePolicy } from './types.js';

export const wcPolicy = Object.freeze<StagePolicy>({
  name: 'wc',
  description: 'as legacy, but device memory with VM_ALLOW_ANY_UNCACHED is Normal-NC',
  memslot(vma, caps, slot?) {
    return commonMemslotChecks(vma, caps, slot) ?? { ok: true };
  },
  fault(vma, f, caps) { return linearMapFault(vma, f, caps, true); },
});
