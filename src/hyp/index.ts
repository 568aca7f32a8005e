/**
 * hyp — models of the software that decides: KVM/arm64's stage-2 fault handling and its VMM.
 *
 * Models: memslots over host memory with VMA flags and pgprot; an empty stage 2 filled on
 * faults by a handler that asks a policy (policies/: legacy, wc, cacheable-pfnmap-v2,
 * cacheable-pfnmap) for attributes, permissions or a refusal, writes real stage-2 descriptors and
 * performs the selected cache-maintenance strategy as real DC/IC ops on the faulting PE; the
 * host's own EL2 identity map; start-of-day maintenance (clean all, clean what was loaded,
 * set/way); HCR_EL2.DC and FWB as strategies.
 * Emulated MMIO: a fault in an MMIO region (addMmio) with ISV exits to the VMM's device model and
 * completes the access with its value. Leaves out: the VMM's
 * own EL0 mapping (it shares the host map), huge pages at stage 2 (4KB pages only), guest
 * exception vectors, vCPU scheduling and migration.
 */
export { Hypervisor, HypStats, CMO_STRATEGIES, CMO_DESCRIPTIONS, DIRTY_LOG_MODES } from './hypervisor.js';
export type { CmoStrategy, DirtyLogMode, HypervisorConfig, HypervisorDeps, Memslot, MmioRegion } from './hypervisor.js';
export { cleanInvalidateAllBySetWay, dcByVaRange } from './cmo.js';
export type { SetWayLevel } from './cmo.js';
export * from './policies/index.js';
