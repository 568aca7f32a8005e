/**
 * mmu — address translation for the EL1&0 regime (VMSAv8-64), stage 1 and stage 2.
 *
 * Models so far:
 * - Memory attributes. The packed 32-bit attribute word that every request carries
 *   (RequestTable.attrs; 0 = Device-nGnRnE, Outer Shareable); stage-1 decode of all 256 MAIR bytes
 *   (FEAT_XS forms, FEAT_MTE2 Tagged, reserved encodings flagged and resolved by a named option);
 *   stage-2 MemAttr decode with FWB=0 and FWB=1 (FEAT_S2FWB); the stage-1 + stage-2 combination
 *   (S2CombineS1MemAttrs, AArch64.S2ApplyFWBMemAttrs) with hints, transience, shareability, XS and
 *   tags; and the controls: SCTLR_EL1.M/C/I, HCR_EL2.VM/DC/DCT/FWB/CD/ID/PTW, instruction fetch
 *   from Device, walk attributes from TCR_EL1 / VTCR_EL2. Every CONSTRAINED UNPREDICTABLE or
 *   IMPLEMENTATION DEFINED choice is a field of `AttrOptions`. FEAT_MTE_PERM stage-2 NoTagAccess
 *   (`ATTR_NOTAGACCESS`, off by default). `attrsQuery` (attrs-query.ts) answers one access from
 *   raw encodings with the reserved/constrained inputs met (`attrReasons`): `armsim attrs`.
 * - Descriptors (descriptors.ts): field extraction on 32-bit halves, encoders.
 * - The regime (regime.ts): TCR_EL1, TTBR0/1_EL1, MAIR_EL1, SCTLR_EL1, HCR_EL2, VTCR_EL2,
 *   VTTBR_EL2 decoded once; start levels, stage-2 concatenation and SL0 checks, TxSZ limits,
 *   output sizes; implementation limits as `MmuFeatures` (PA size, granules, LPA/LVA/TTST/XNX/HPDS).
 * - The walk (walk.ts): a step machine (start / nextRead + readAttrs / supply(lo, hi) / done;
 *   the VA given as 32-bit halves, output addresses as numbers < 2^52) over 4KB/16KB/64KB
 *   granules, table/block/page descriptors, nested stage-1-through-stage-2 walks (up to 24 reads), AF, AP/APTable, UXN/PXN
 *   (+ tables), S2AP, stage-2 XN (FEAT_XNX), WXN, nG/ASID, VMID, Contiguous and DBM reported,
 *   HCR_EL2.PTW, with faults (Translation, Address size, Access flag, Permission at a level;
 *   stage 2 with S1PTW and the IPA) and their ESR/HPFAR encodings (faults.ts).
 * - Test support: `translateReference` (walk-reference.ts, slow, plainly written) and
 *   `PageTableBuilder` / `buildPageTables` (page-tables.ts).
 *
 * - TLBs and the walk cache (tlb.ts): combined stage-1+2 entries tagged by VA[55:52], ASID, VMID and
 *   global; one invalidation per TLBI scope; table descriptors of both stages by level.
 * - A PE's MMU (pe-mmu.ts): system registers as state (taking effect at context synchronization),
 *   the EL1&0 and EL2 regimes, L1 I/D TLBs and a unified L2 TLB, the walk cache, TLBI queued
 *   until the next DSB and broadcast to the domain for the IS forms, fault records in ESR/FAR/
 *   HPFAR. The PE sends the walker's reads through the caches (core/pe.ts).
 * - `attrsQuery` (attrs-query.ts): the `armsim attrs` command's library form.
 *
 * Hardware AF/dirty updates (FEAT_HAFDBS, `MmuFeatures.hafdbs`) for the PE's walks: the walker asks
 * for a descriptor compare-and-swap, which the PE sends through the caches.
 *
 * Leaves out (for now): PAN, E0PD, FEAT_LPA2 (52-bit with 4KB/16KB, level -1), FEAT_D128, AT instructions,
 * VHE (HCR_EL2.E2H). Within attributes: AArch32 stage 1 (TEX remap), the EL2&0 regime and
 * HCR_EL2.TGE=1, canonical tagging (FEAT_MTE_CANONICAL_TAGS), FEAT_S1PIE/S2PIE indirection,
 * FEAT_LS64 checks, Realm/Secure PA spaces, and mismatched-attribute aliasing (a cache-model concern).
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
export { ATTR_NOTAGACCESS, Reason, REASON_NAMES, attrReasons, type AttrRawEncodings } from './attrs.js';
export { attrsQuery, parseAttrsQuery, AttrsQuerySchema, attrsToMair, ATTRS_QUERY_RULES } from './attrs-query.js';
export type { AttrsQueryInput, AttrsQueryRequest, AttrsQueryResult, AttrsQueryLevel, AttrsQueryAttrs } from './attrs-query.js';
export {
  POW2, DescType, GRANULE_BITS, strideOf, levelShift, blockSupported, descType, descAddress,
  descAttrIndx, descNS, descAP, descSH, descAF, descNG, descS2MemAttr, descS2AP, descFnXS, descDBM, descContiguous,
  descPXN, descUXN, descS2XN, tablePXN, tableUXN, tableAP, tableNS, contiguousEntries, contiguousLog2,
  encodeAddress, encodeTable, encodeS1Leaf, encodeS2Leaf,
} from './descriptors.js';
export type { GranuleBits, GranuleName, Desc, TableInit, S1LeafInit, S2LeafInit } from './descriptors.js';
export {
  DEFAULT_MMU_FEATURES, resolveMmuFeatures, regimeRegisters, decodeRegime, decodeStage1, decodeStage2,
  s1StartLevel, s2StartLevel, s2InconsistentSL,
  encodeTcr, encodeVtcr, encodeTtbr, encodeHcr, encodeSctlr, encodeMair,
} from './regime.js';
export type {
  PaBits, MmuFeatures, RegimeRegisters, TableGeometry, S1Half, Stage1Params, Stage2Params, Regime, Halves,
  TcrInit, VtcrInit, HcrInit, SctlrInit,
} from './regime.js';
export {
  FaultType, FAULT_TYPE_NAMES, AccessType, faultStatusCode, WalkFault, faultTargetEl, abortEsr, hpfarEl2,
  EC_IABT_LOW, EC_IABT_CUR, EC_DABT_LOW, EC_DABT_CUR,
} from './faults.js';
export {
  PERM_R1, PERM_W1, PERM_X1, PERM_R0, PERM_W0, PERM_X0, PERM_ALL, s1Permissions, s2Permissions, permissionFault,
  WalkResult, TranslationWalker, readDescriptor, translateFunctional,
} from './walk.js';
export { PageTableBuilder, TablePoolExhausted, buildPageTables } from './page-tables.js';
export type { PageTableConfig, Mapping } from './page-tables.js';
export { translateReference } from './walk-reference.js';
export type { RefOutcome, RefFault, RefRead } from './walk-reference.js';
export {
  Tlb, TlbStats, registerTlbStats, WalkCache, TLB_GLOBAL, TLB_S1, TLB_S2, TLB_NONSHARED, TLB_MIN_PAGE_LOG2, TLB_MAX_PAGE_LOG2,
  tlbVa, tlbTop, tlbiOperandVa, tlbiOperandTop, tlbiOperandAsid, tlbiOperandIpa,
  packTableAttrs, tableAttrsAP, tableAttrsUXN, tableAttrsPXN,
} from './tlb.js';
export type { TlbConfig, WalkCacheConfig } from './tlb.js';
export { MmuReg, mmuRegName, TlbiOp, TLBI_NAMES, TLBI_IS, tlbiIsBroadcast, tlbiScope } from './sysregs.js';
export { MmuIdReg, readMmuIdRegister, type MmuIdFeatures } from './id-regs.js';
export type { MmuRegName } from './sysregs.js';
export { PeMmu, TlbDomain, DEFAULT_MMU_CONFIG, TR_HIT, TR_L2_HIT, TR_WALK } from './pe-mmu.js';
export type { MmuConfig, TlbGeometry } from './pe-mmu.js';
