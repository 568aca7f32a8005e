/**
 * mmu — address translation for the EL1&0 regime (VMSAv8-64), stage 1 and stage 2.
 *
 * Models so far: memory attributes. The packed 32-bit attribute word that every request carries
 * (RequestTable.attrs; 0 = Device-nGnRnE, Outer Shareable); stage-1 decode of all 256 MAIR bytes
 * (FEAT_XS forms, FEAT_MTE2 Tagged, reserved encodings flagged and resolved by a named option);
 * stage-2 MemAttr decode with FWB=0 and FWB=1 (FEAT_S2FWB); the stage-1 + stage-2 combination
 * (S2CombineS1MemAttrs, AArch64.S2ApplyFWBMemAttrs) with hints, transience, shareability, XS and
 * tags; and the controls: SCTLR_EL1.M/C/I, HCR_EL2.VM/DC/DCT/FWB/CD/ID/PTW, instruction fetch
 * from Device, walk attributes from TCR_EL1 / VTCR_EL2. Every CONSTRAINED UNPREDICTABLE or
 * IMPLEMENTATION DEFINED choice is a field of `AttrOptions`.
 *
 * Leaves out (for now): descriptors and walkers, TLBs, TLBI, faults and their syndromes, system
 * registers as state (callers pass the bits). Within attributes: AArch32 stage 1 (TEX remap),
 * the EL2 and EL2&0 regimes and HCR_EL2.TGE=1, FEAT_MTE_PERM (NoTagAccess), canonical tagging
 * (FEAT_MTE_CANONICAL_TAGS), FEAT_S1PIE/S2PIE indirection, FEAT_LS64 checks, Realm/Secure PA spaces,
 * and mismatched-attribute aliasing (a cache-model concern).
 */
export {
  // packed layout
  ATTR_NORMAL, ATTR_DEVICE_SHIFT, ATTR_DEVICE_MASK, ATTR_INNER_SHIFT, ATTR_OUTER_SHIFT, ATTR_SH_SHIFT, ATTR_SH_MASK,
  ATTR_TAGGED, ATTR_NXS, ATTR_RESERVED, ATTR_S2_FWB, ATTR_S2_USE_S1,
  LEVEL_MASK, LEVEL_CACHE_MASK, LEVEL_RA, LEVEL_WA, LEVEL_TRANSIENT,
  DeviceKind, Cacheability, Shareability, AccessKind,
  ATTR_FAULT_S1_PERMISSION, ATTR_FAULT_S2_PERMISSION,
  // ready-made words
  DEVICE_nGnRnE, DEVICE_nGnRE, DEVICE_nGRE, DEVICE_GRE,
  NORMAL_WB_RWA_ISH, NORMAL_WB_RWA_OSH, NORMAL_WB_RWA_NSH, NORMAL_TAGGED_WB_RWA_ISH, NORMAL_WT_RA_OSH, NORMAL_NC_OSH,
  // accessors
  attrIsDevice, attrIsNormal, attrDeviceKind, attrInnerCache, attrOuterCache, attrIsInnerCacheable, attrIsOuterCacheable,
  attrInnerReadAllocate, attrInnerWriteAllocate, attrInnerTransient,
  attrOuterReadAllocate, attrOuterWriteAllocate, attrOuterTransient,
  attrShare, attrIsTagged, attrXS, attrIsReserved, effectiveShareability,
  // readable form
  packAttrs, unpackAttrs, formatAttrs,
  // options
  DEFAULT_ATTR_OPTIONS, resolveAttrOptions,
  // decode, combine, controls
  mairIsReserved, decodeShareability, decodeMair, decodeWalkAttrs, s2TableWalkAttrs, decodeS2MemAttr,
  combineS1S2, stage1Enabled, stage2Enabled, s1DisabledAttrs, effectiveAttrs,
} from './attrs.js';
export type {
  AttrOptions, AttrContext, AttrsView, AttrsInit, LevelAttrs, DeviceKindName, CacheName, ShareName,
} from './attrs.js';
