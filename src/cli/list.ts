import { PRESETS, DEFAULT_PLATFORM } from '../platform/index.js';
import { SCENARIOS } from '../../workloads/index.js';

/**
 * Architectural features and how the model stands on each: `yes` modelled, `option` modelled and
 * selectable per platform, `no` not modelled (a program relying on it sees the behaviour without it).
 */
export const FEATURES: readonly { name: string; status: 'yes' | 'option' | 'no'; note: string }[] = [
  { name: 'VMSAv8-64 stage 1 + stage 2', status: 'yes', note: '4KB/16KB/64KB granules, nested walks through the caches, concatenated stage-2 tables' },
  { name: 'FEAT_S2FWB', status: 'option', note: 'mmu.featS2FWB (grace: on)' },
  { name: 'FEAT_XS, FEAT_MTE2 attributes', status: 'option', note: 'mmu.attrs.featXS / featMTE2' },
  { name: 'FEAT_MTE_PERM (NoTagAccess)', status: 'option', note: 'mmu.attrs.featMTEPerm; every Tagged access counts as tag-checked' },
  { name: 'FEAT_LPA (52-bit PA, 64KB)', status: 'option', note: 'mmu.features.featLPA' },
  { name: 'FEAT_VMID16, 16-bit ASID', status: 'option', note: 'mmu.features.featVMID16 / asid16' },
  { name: 'FEAT_HAFDBS (hardware AF/dirty)', status: 'option', note: 'mmu.features.hafdbs 0/1/2 (neoverse-n1, grace: 2) with TCR/VTCR HA/HD: PE walks update descriptors by CAS through the caches' },
  { name: 'SMMUv3 HTTU (hardware AF/dirty)', status: 'option', note: 'smmu.config.httu 0/1/2 (IDR0.HTTU; default 0) with CD.HA/HD, STE.S2HA/S2HD: the SMMU\'s walks update descriptors by CAS' },
  { name: 'FEAT_LPA2, FEAT_D128', status: 'no', note: '' },
  { name: 'FEAT_VHE (HCR_EL2.E2H), HCR_EL2.TGE', status: 'no', note: 'the EL2 regime is the non-VHE one' },
  { name: 'FEAT_PAN, FEAT_E0PD, AT instructions', status: 'no', note: '' },
  { name: 'LSE atomics, exclusives', status: 'yes', note: 'near in L1, far/abort/unsupported per region (ncAtomics)' },
  { name: 'FEAT_LSE, FEAT_LSE2', status: 'option', note: 'core.featLSE (xgene1: off, LDADD is UNDEFINED) / core.featLSE2 (grace: on, unaligned atomics inside 16 bytes)' },
  { name: 'FEAT_DPB (DC CVAP)', status: 'option', note: 'core.featDPB (xgene1: off, DC CVAP is UNDEFINED)' },
  { name: 'ID registers', status: 'yes', note: 'CLIDR/CCSIDR/CTR/DCZID from the caches, ID_AA64ISAR0/1, MMFR0/1/2, PFR1 from the features' },
  { name: 'SMMUv3 (stage 1, stage 2, nested)', status: 'yes', note: 'stream table, CDs, queues, IOTLB, stalls, COHACC; --smmu-threads 1 runs it in a worker (docs/smmu.md)' },
  { name: 'SMMUv3 ATS/ATC, PRI queue', status: 'no', note: 'IDR0.ATS/PRI 0 by default (smmu.config.ats/pri set only the bits); ATC_INV and PRI_RESP are counted' },
];

export function listText(): string {
  const w = Math.max(...SCENARIOS.map((s) => s.name.length), ...Object.keys(PRESETS).map((k) => k.length)) + 2;
  const lines = ['Scenarios:'];
  for (const s of SCENARIOS) {
    lines.push(`  ${s.name.padEnd(w)}${s.description}`);
    if (s.accepts?.policies) lines.push(`  ${''.padEnd(w)}  hyp.policy: ${s.accepts.policies.join(', ')}`);
    if (s.accepts?.cmo) lines.push(`  ${''.padEnd(w)}  hyp.cmo: ${s.accepts.cmo.join(', ')}`);
  }
  lines.push('', 'Platforms:');
  for (const [name, p] of Object.entries(PRESETS)) lines.push(`  ${name.padEnd(w)}${p.description}${name === DEFAULT_PLATFORM ? ' (default)' : ''}`);
  const fw = Math.max(...FEATURES.map((f) => f.name.length)) + 2;
  lines.push('', 'Architecture features (yes: modelled; option: per platform; no: not modelled):');
  for (const f of FEATURES) lines.push(`  ${f.name.padEnd(fw)}${f.status.padEnd(8)}${f.note}`.trimEnd());
  return lines.join('\n') + '\n';
}
