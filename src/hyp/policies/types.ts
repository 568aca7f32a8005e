/**
 * Inputs and outputs of a stage-2 policy: what KVM/arm64 looks at when it creates a memslot
 * (`kvm_arch_prepare_memory_region`) and when it resolves a stage-2 fault (`user_mem_abort`),
 * and what it decides. Pure data; no simulator state.
 *
 * Contract: a policy never throws for any combination of these inputs. A refusal is an outcome
 * (the VMM sees the errno from KVM_SET_USER_MEMORY_REGION, or the vCPU run fails / an abort is
 * injected), not a simulator error.
 */

/** The host VMA that backs the faulting host VA, as the mapping driver (or mmap) left it. */
export interface VmaInfo {
  /** VM_PFNMAP: raw PFNs, no struct page implied (remap_pfn_range, VFIO BARs, nvgrace-gpu). */
  pfnmap: boolean;
  /** VM_MIXEDMAP: PFNs that may or may not have a struct page. */
  mixedmap: boolean;
  /** VM_IO. Note: remap_pfn_range() sets it on every VM_PFNMAP VMA it builds. */
  io: boolean;
  /** VM_ALLOW_ANY_UNCACHED: the driver says Normal-NC is safe for this device memory (vfio-pci). */
  allowAnyUncached: boolean;
  /** VM_MTE_ALLOWED: the memory has tag storage (never set on VM_PFNMAP by the core mm). */
  mteAllowed: boolean;
  /** Copy-on-write: private and writable (is_cow_mapping(), i.e. not VM_SHARED but VM_MAYWRITE). */
  cow: boolean;
  /** The VMA's page protection (vm_page_prot AttrIndx) as the mapping driver set it. */
  pgprot: Pgprot;
}

/** Linux arm64 pgprot helpers, by the MAIR index they select (arch/arm64 MT_*). */
export type Pgprot =
  | 'normal'        // MT_NORMAL (PAGE_KERNEL, default user mappings)
  | 'tagged'        // MT_NORMAL_TAGGED (pgprot_tagged, PROT_MTE)
  | 'noncached'     // MT_DEVICE_nGnRnE (pgprot_noncached)
  | 'writecombine'  // MT_NORMAL_NC (pgprot_writecombine)
  | 'device';       // MT_DEVICE_nGnRE (pgprot_device)

/** One stage-2 fault, after the VMM's VMA has been resolved to a PFN. */
export interface FaultInfo {
  /**
   * pfn_is_map_memory(): the PFN is memblock memory mapped in the kernel linear map, so the host
   * can do cache maintenance on it by its linear-map VA.
   */
  pfnInLinearMap: boolean;
  /**
   * pfn_valid(): the PFN has a struct page. Added beyond the brief: cacheable-pfnmap-v2 keys on it,
   * and Catalin Marinas (seed 000, 2024-12-11 22:01) points out it does NOT imply pfnInLinearMap
   * (commit 873ba463914c, "arm64: decouple check whether pfn is in linear map from pfn_valid()").
   * RAM: true/true. ZONE_DEVICE / hot-plugged pages outside memblock: true/false. BARs, Grace GPU
   * memory behind nvgrace-gpu: false/false. Optional: absent means `pfnInLinearMap` (true for RAM,
   * false for BARs), so callers written to the brief's interface keep working.
   */
  pfnHasStructPage?: boolean;
  /** Instruction abort (kvm_vcpu_trap_is_exec_fault). */
  exec: boolean;
  /** Write data abort (kvm_is_write_fault). */
  write: boolean;
  /** The VM has MTE enabled (KVM_CAP_ARM_MTE, kvm_has_mte()); ignored where caps.mte is false. */
  vmMte: boolean;
}

/** Per-memslot inputs KVM_SET_USER_MEMORY_REGION sees besides the VMA. Added beyond the brief. */
export interface SlotInfo {
  /** The VM has MTE enabled (kvm_has_mte()); ignored where caps.mte is false. */
  vmMte: boolean;
  /** KVM_MEM_LOG_DIRTY_PAGES requested for the slot. */
  logDirtyPages: boolean;
}

/** Host CPU features the policies consult. */
export interface PlatformCaps {
  /** FEAT_S2FWB (ID_AA64MMFR2_EL1.FWB): stage 2 can force WB, no CMOs needed for coherency. */
  featS2FWB: boolean;
  /** CTR_EL0.DIC: no I-cache invalidation to PoU needed for instruction/data coherence. */
  ctrDic: boolean;
  /** FEAT_MTE2 present (a VM can have MTE at all). */
  mte: boolean;
  /**
   * FEAT_MTE_PERM: stage-2 NoTagAccess. Added beyond the brief (same name as the MMU's
   * `AttrOptions.featMTEPerm`). Only `cacheable-pfnmap` uses it; see that module. Absent = false.
   */
  featMTEPerm?: boolean;
}

/** Stage-2 memory type the policy asks for (KVM_PGTABLE_PROT_* / MemAttr). */
export type S2Attr = 'normal-wb' | 'normal-nc' | 'device-nGnRE' | 'device-nGnRnE';

/** The errnos the policies return (negated in the kernel). */
export type Errno = 'EINVAL' | 'EFAULT' | 'ENOEXEC';

export interface MapDecision {
  kind: 'map';
  attr: S2Attr;
  /** Stage-2 executable (XN clear): on an exec fault, or proactively on cacheable memory with CTR_EL0.DIC. */
  exec: boolean;
  /** Stage-2 writable. */
  write: boolean;
  /** Map with FEAT_MTE_PERM NoTagAccess: Tagged accesses take a stage-2 Permission fault. */
  noTagAccess: boolean;
  reason: string;
}

export interface RefuseDecision {
  kind: 'refuse';
  errno: Errno;
  reason: string;
}

export type Decision = MapDecision | RefuseDecision;

export type MemslotDecision = { ok: true } | { ok: false; errno: Errno; reason: string };

/** The default SlotInfo. */
export const NO_SLOT_FLAGS: SlotInfo = Object.freeze({ vmMte: false, logDirtyPages: false });

export type PolicyName = 'legacy' | 'wc' | 'cacheable-pfnmap-v2' | 'cacheable-pfnmap';

export interface StagePolicy {
  readonly name: PolicyName;
  readonly description: string;
  /**
   * At memslot creation (KVM_SET_USER_MEMORY_REGION), once per VMA the slot covers: refuse or accept.
   * `slot` defaults to NO_SLOT_FLAGS (no MTE VM, no dirty logging): pass it for an MTE VM, or the
   * VM_MTE_ALLOWED check every policy makes at slot creation is skipped.
   */
  memslot(vma: VmaInfo, caps: PlatformCaps, slot?: SlotInfo): MemslotDecision;
  /** On a stage-2 translation fault in that memslot. */
  fault(vma: VmaInfo, f: FaultInfo, caps: PlatformCaps): Decision;
}
