/** Shared fixtures for the policy tables (test support only). */
import type { Decision, FaultInfo, MemslotDecision, PlatformCaps, SlotInfo, VmaInfo } from './types.js';

const caps = (featS2FWB: boolean, ctrDic: boolean, mte = false, featMTEPerm = false): PlatformCaps =>
  Object.freeze({ featS2FWB, ctrDic, mte, featMTEPerm });

/** Platforms, after /work/shared/reference/platforms.md. */
export const XGENE1 = caps(false, false);                 // v8.0: no FWB, CTR_EL0 0x8444C004 (DIC=0)
export const N1 = caps(false, true);                      // preset default: DIC=1 (Graviton2-like), no FWB
export const N1_NODIC = caps(false, false);               // N1 TRM reset CTR_EL0 (DIC=0)
export const GRACE = caps(true, true);                    // FWB, DIC, no MTE exposed
export const MTE_HOST = caps(true, true, true, false);    // assumed: a hypothetical FWB+DIC host with MTE2
export const MTE_PERM_HOST = caps(true, true, true, true); // ... and FEAT_MTE_PERM

const NONE: VmaInfo = Object.freeze({
  pfnmap: false, mixedmap: false, io: false, allowAnyUncached: false, mteAllowed: false, cow: false, pgprot: 'normal',
});
export const vma = (o: Partial<VmaInfo> = {}): VmaInfo => ({ ...NONE, ...o });

/** Guest RAM: a shared anonymous/memfd VMA (MAP_SHARED, so not COW). */
export const RAM = vma();
/** Guest RAM mmapped with PROT_MTE by an MTE-aware VMM. */
export const RAM_MTE = vma({ mteAllowed: true, pgprot: 'tagged' });
/** A vfio-pci BAR: remap_pfn_range (VM_IO|VM_PFNMAP), pgprot_noncached, VM_ALLOW_ANY_UNCACHED. */
export const BAR = vma({ pfnmap: true, io: true, pgprot: 'noncached', allowAnyUncached: true });
/** A BAR mapped by a driver that does not set VM_ALLOW_ANY_UNCACHED. */
export const BAR_STRICT = vma({ pfnmap: true, io: true, pgprot: 'noncached' });
/** Grace GPU memory as the brief describes it: cacheable-device VM_PFNMAP, pgprot normal. */
export const GPU = vma({ pfnmap: true, pgprot: 'normal' });
/** ... and as remap_pfn_range() really leaves it: VM_IO too. */
export const GPU_IO = vma({ pfnmap: true, io: true, pgprot: 'normal' });

const fault = (o: Partial<FaultInfo>): FaultInfo =>
  ({ pfnInLinearMap: true, pfnHasStructPage: true, exec: false, write: false, vmMte: false, ...o });
/** A PFN that is ordinary kernel memory. */
export const RAM_PFN = (o: Partial<FaultInfo> = {}) => fault({ ...o });
/** A PFN outside the linear map with no struct page (BAR, Grace GPU memory). */
export const DEV_PFN = (o: Partial<FaultInfo> = {}) => fault({ pfnInLinearMap: false, pfnHasStructPage: false, ...o });
/** A PFN with a struct page but not in the linear map (ZONE_DEVICE; Catalin's pfn_valid() case). */
export const ZDEV_PFN = (o: Partial<FaultInfo> = {}) => fault({ pfnInLinearMap: false, pfnHasStructPage: true, ...o });

export const SLOT: SlotInfo = Object.freeze({ vmMte: false, logDirtyPages: false });
export const SLOT_MTE: SlotInfo = Object.freeze({ vmMte: true, logDirtyPages: false });
export const SLOT_LOG: SlotInfo = Object.freeze({ vmMte: false, logDirtyPages: true });

/** One decision as a short string: 'normal-wb X W', 'device-nGnRE W', 'ENOEXEC', ... */
export function show(d: Decision): string {
  if (d.kind === 'refuse') return d.errno;
  return [d.attr, d.exec ? 'X' : '', d.write ? 'W' : '', d.noTagAccess ? 'NTA' : ''].filter(Boolean).join(' ');
}
export const showSlot = (d: MemslotDecision): string => (d.ok ? 'ok' : d.errno);
