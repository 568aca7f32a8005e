/** The differences the seed threads argue about, one row per situation, one column per policy. */
import { describe, it, expect } from 'vitest';
import { POLICIES, POLICY_NAMES, policyByName } from './index.js';
import {
  BAR, BAR_STRICT, DEV_PFN, GPU, GPU_IO, GRACE, MTE_HOST, MTE_PERM_HOST, N1, RAM, RAM_PFN, XGENE1, ZDEV_PFN, show, vma,
} from './test-fixtures.js';
import type { FaultInfo, PlatformCaps, VmaInfo } from './types.js';

type Row = [string, VmaInfo, FaultInfo, PlatformCaps, [legacy: string, wc: string, v2: string, merged: string]];
const ROWS: Row[] = [
  ['RAM on xgene1', RAM, RAM_PFN(), XGENE1, ['normal-wb W', 'normal-wb W', 'normal-wb W', 'normal-wb W']],
  ['Grace GPU memory (PFNMAP, pgprot normal) on grace', GPU, DEV_PFN(), GRACE,
    ['device-nGnRE W', 'device-nGnRE W', 'normal-wb X W', 'normal-wb X W']],
  ['... with VM_ALLOW_ANY_UNCACHED', vma({ pfnmap: true, allowAnyUncached: true }), DEV_PFN(), GRACE,
    ['device-nGnRE W', 'normal-nc W', 'normal-wb X W', 'normal-wb X W']],
  ['... with VM_IO as remap_pfn_range sets it', GPU_IO, DEV_PFN(), GRACE,
    ['device-nGnRE W', 'device-nGnRE W', 'device-nGnRE W', 'normal-wb X W']],
  ['... on n1 (no FWB)', GPU, DEV_PFN(), N1, ['device-nGnRE W', 'device-nGnRE W', 'EINVAL', 'EFAULT']],
  ['... on xgene1', GPU, DEV_PFN(), XGENE1, ['device-nGnRE W', 'device-nGnRE W', 'EINVAL', 'EFAULT']],
  ['... exec on grace', GPU, DEV_PFN({ exec: true }), GRACE, ['ENOEXEC', 'ENOEXEC', 'ENOEXEC', 'normal-wb X W']],
  ['vfio-pci BAR on n1', BAR, DEV_PFN(), N1, ['device-nGnRE W', 'normal-nc W', 'EINVAL', 'normal-nc W']],
  ['strict BAR (noncached) on grace', BAR_STRICT, DEV_PFN(), GRACE,
    ['device-nGnRE W', 'device-nGnRE W', 'device-nGnRnE W', 'device-nGnRE W']],
  ['PFNMAP over RAM, pgprot writecombine', vma({ pfnmap: true, pgprot: 'writecombine' }), RAM_PFN(), GRACE,
    ['normal-wb X W', 'normal-wb X W', 'normal-nc W', 'normal-wb X W']],
  ['ZONE_DEVICE page, struct page, not in linear map, xgene1', vma({ mixedmap: true }), ZDEV_PFN(), XGENE1,
    ['device-nGnRE W', 'device-nGnRE W', 'normal-wb W', 'EFAULT']],
  ['COW PFNMAP of a BAR (MAP_PRIVATE /dev/mem)', vma({ pfnmap: true, cow: true, pgprot: 'noncached' }), DEV_PFN({ write: true }), GRACE,
    ['device-nGnRE W', 'device-nGnRE W', 'device-nGnRnE W', 'EINVAL']],
  ['MTE VM, RAM without VM_MTE_ALLOWED', RAM, RAM_PFN({ vmMte: true }), MTE_HOST, ['EFAULT', 'EFAULT', 'device-nGnRE W', 'EFAULT']],
  ['... with FEAT_MTE_PERM', RAM, RAM_PFN({ vmMte: true }), MTE_PERM_HOST, ['EFAULT', 'EFAULT', 'device-nGnRE W', 'normal-wb X W NTA']],
];

describe('cross-policy', () => {
  it('POLICIES holds the four policies by name', () => {
    expect(POLICY_NAMES).toEqual(['legacy', 'wc', 'cacheable-pfnmap-v2', 'cacheable-pfnmap']);
    for (const n of POLICY_NAMES) expect(POLICIES[n].name).toBe(n);
    expect(() => policyByName('kvm')).toThrow(/accepted: legacy, wc, cacheable-pfnmap-v2, cacheable-pfnmap/);
  });
  it.each(ROWS)('%s', (_l, v, f, c, want) => {
    expect(POLICY_NAMES.map((n) => show(POLICIES[n].fault(v, f, c)))).toEqual(want);
  });
  it('Grace GPU memory slot: accepted by all on grace; on n1 only the merged rule refuses it up front', () => {
    const slot = { vmMte: false, logDirtyPages: false };
    expect(POLICY_NAMES.map((n) => POLICIES[n].memslot(GPU, GRACE, slot).ok)).toEqual([true, true, true, true]);
    expect(POLICY_NAMES.map((n) => POLICIES[n].memslot(GPU, N1, slot).ok)).toEqual([true, true, true, false]);
  });
});

describe('brief-interface callers (optional fields absent)', () => {
  it('pfnHasStructPage defaults to pfnInLinearMap, featMTEPerm to false, slot to no flags', () => {
    const caps = { featS2FWB: false, ctrDic: true, mte: false };
    const f = { pfnInLinearMap: false, exec: false, write: true, vmMte: false };
    expect(POLICY_NAMES.map((n) => show(POLICIES[n].fault(GPU, f, caps)))).toEqual(['device-nGnRE W', 'device-nGnRE W', 'EINVAL', 'EFAULT']);
    expect(POLICY_NAMES.map((n) => POLICIES[n].memslot(GPU, caps).ok)).toEqual([true, true, true, false]);
  });
});
