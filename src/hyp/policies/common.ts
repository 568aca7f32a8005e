/** Helpers shared by the policies. Each is one line of KVM's reasoning, named. */
import { NO_SLOT_FLAGS } from './types.js';
import type { Decision, Errno, FaultInfo, MapDecision, MemslotDecision, Pgprot, PlatformCaps, S2Attr, SlotInfo, VmaInfo } from './types.js';

/** pgprot normal or tagged: the driver mapped it cacheable (kvm_vma_is_cacheable()'s default arm). */
export const pgprotIsCacheable = (p: Pgprot): boolean => p === 'normal' || p === 'tagged';

/** MTE only exists for the VM when the platform has it. */
export const vmHasMte = (vmMte: boolean, caps: PlatformCaps): boolean => vmMte && caps.mte;

export const refuse = (errno: Errno, reason: string): Decision => ({ kind: 'refuse', errno, reason });

export function map(attr: S2Attr, exec: boolean, write: boolean, reason: string, noTagAccess = false): MapDecision {
  return { kind: 'map', attr, exec, write, noTagAccess, reason };
}

/**
 * Stage-2 writable. KVM maps writable when the host PTE is writable; a read fault on a COW mapping
 * gets a read-only entry until a write fault breaks the COW. Assumed: guest memory VMAs are
 * PROT_WRITE, and dirty logging (which also maps read faults read-only) is not modelled here.
 */
export const writable = (vma: VmaInfo, write: boolean): boolean => write || !vma.cow;

/**
 * The checks every policy's kvm_arch_prepare_memory_region() has made since MTE support (v5.10):
 * an MTE VM may not use a VMA without VM_MTE_ALLOWED (a guest could otherwise turn tags on at
 * stage 1 where there is no tag storage: Catalin Marinas, seed 000, 2025-01-16 22:28), and a
 * VM_PFNMAP VMA may not be dirty-logged. Returns null when both pass.
 */
export function commonMemslotChecks(vma: VmaInfo, caps: PlatformCaps, slot: SlotInfo = NO_SLOT_FLAGS): MemslotDecision | null {
  if (vmHasMte(slot.vmMte, caps) && !vma.mteAllowed)
    return { ok: false, errno: 'EINVAL', reason: 'MTE VM: VMA lacks VM_MTE_ALLOWED' };
  if (vma.pfnmap && slot.logDirtyPages)
    return { ok: false, errno: 'EINVAL', reason: 'VM_PFNMAP region cannot be dirty-logged' };
  return null;
}

/** pfn_valid(): defaults to pfn_is_map_memory() when the caller does not say. */
export const hasStructPage = (f: FaultInfo): boolean => f.pfnHasStructPage ?? f.pfnInLinearMap;

/** FEAT_MTE_PERM, absent = false. */
export const hasMtePerm = (caps: PlatformCaps): boolean => caps.featMTEPerm === true;
