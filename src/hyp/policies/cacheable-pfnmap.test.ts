import { describe, it, expect } from 'vitest';
import { cacheablePfnmapPolicy as P, supportsCacheablePfnmap } from './cacheable-pfnmap.js';
import {
  BAR, BAR_STRICT, DEV_PFN, GPU, GPU_IO, GRACE, MTE_HOST, MTE_PERM_HOST, N1, N1_NODIC, RAM, RAM_MTE, RAM_PFN, SLOT,
  SLOT_LOG, SLOT_MTE, XGENE1, ZDEV_PFN, show, showSlot, vma,
} from './test-fixtures.js';
import type { FaultInfo, PlatformCaps, SlotInfo, VmaInfo } from './types.js';

const pf = (pgprot: VmaInfo['pgprot'], o: Partial<VmaInfo> = {}) => vma({ pfnmap: true, pgprot, ...o });
const FWB_ONLY: PlatformCaps = { featS2FWB: true, ctrDic: false, mte: false, featMTEPerm: false };

const FAULTS: [string, VmaInfo, FaultInfo, PlatformCaps, string][] = [
  ['RAM, xgene1', RAM, RAM_PFN(), XGENE1, 'normal-wb W'],
  ['RAM exec, xgene1', RAM, RAM_PFN({ exec: true }), XGENE1, 'normal-wb X W'],
  ['RAM, n1 (DIC)', RAM, RAM_PFN(), N1, 'normal-wb X W'],
  ['RAM COW read', vma({ cow: true }), RAM_PFN(), N1, 'normal-wb X'],
  // PFNMAP inside the linear map: memory, WB whatever the pgprot / VM_IO
  ['PFNMAP over RAM, noncached: WB', pf('noncached', { io: true }), RAM_PFN(), XGENE1, 'normal-wb W'],
  // non-cacheable pgprot outside the linear map
  ['BAR (noncached, VM_ALLOW_ANY_UNCACHED): Normal-NC', BAR, DEV_PFN(), XGENE1, 'normal-nc W'],
  ['strict BAR noncached: Device-nGnRE, not nGnRnE', BAR_STRICT, DEV_PFN(), N1, 'device-nGnRE W'],
  ['writecombine BAR, strict', pf('writecombine'), DEV_PFN(), GRACE, 'device-nGnRE W'],
  ['device-pgprot BAR, VM_ALLOW_ANY_UNCACHED', pf('device', { allowAnyUncached: true }), DEV_PFN(), GRACE, 'normal-nc W'],
  ['BAR exec', BAR, DEV_PFN({ exec: true }), GRACE, 'ENOEXEC'],
  ['VM_MIXEDMAP device PFN, noncached', vma({ mixedmap: true, pgprot: 'noncached' }), ZDEV_PFN(), N1, 'device-nGnRE W'],
  // cacheable pgprot outside the linear map: needs FWB and DIC
  ['GPU memory on grace: WB', GPU, DEV_PFN(), GRACE, 'normal-wb X W'],
  ['GPU memory exec on grace', GPU, DEV_PFN({ exec: true }), GRACE, 'normal-wb X W'],
  ['GPU memory with VM_IO on grace: VM_IO ignored', GPU_IO, DEV_PFN(), GRACE, 'normal-wb X W'],
  ['GPU memory tagged pgprot on grace', pf('tagged'), DEV_PFN(), GRACE, 'normal-wb X W'],
  ['GPU memory on n1 (DIC, no FWB)', GPU, DEV_PFN(), N1, 'EFAULT'],
  ['GPU memory on n1 without DIC', GPU, DEV_PFN(), N1_NODIC, 'EFAULT'],
  ['GPU memory on FWB without DIC', GPU, DEV_PFN(), FWB_ONLY, 'EFAULT'],
  ['GPU memory on xgene1', GPU, DEV_PFN(), XGENE1, 'EFAULT'],
  ['GPU memory exec on xgene1: EFAULT before ENOEXEC', GPU, DEV_PFN({ exec: true }), XGENE1, 'EFAULT'],
  // non-PFNMAP VMAs are memory whatever the PFN
  ['ZONE_DEVICE page in a normal VMA: WB', RAM, ZDEV_PFN(), XGENE1, 'normal-wb W'],
  // COW
  ['COW PFNMAP', pf('noncached', { cow: true }), DEV_PFN(), GRACE, 'EINVAL'],
  ['COW PFNMAP over RAM', pf('normal', { cow: true }), RAM_PFN({ write: true }), GRACE, 'EINVAL'],
  ['COW MIXEDMAP', vma({ mixedmap: true, cow: true }), RAM_PFN(), GRACE, 'EINVAL'],
  // MTE
  ['MTE VM, RAM with VM_MTE_ALLOWED', RAM_MTE, RAM_PFN({ vmMte: true }), MTE_HOST, 'normal-wb X W'],
  ['MTE VM, RAM without VM_MTE_ALLOWED', RAM, RAM_PFN({ vmMte: true }), MTE_HOST, 'EFAULT'],
  ['... with FEAT_MTE_PERM: NoTagAccess', RAM, RAM_PFN({ vmMte: true }), MTE_PERM_HOST, 'normal-wb X W NTA'],
  ['MTE VM, GPU memory', GPU, DEV_PFN({ vmMte: true }), MTE_HOST, 'EFAULT'],
  ['MTE VM, GPU memory, FEAT_MTE_PERM: NoTagAccess', GPU, DEV_PFN({ vmMte: true }), MTE_PERM_HOST, 'normal-wb X W NTA'],
  ['MTE VM, GPU memory claiming VM_MTE_ALLOWED: tagged WB (driver trusted)', pf('tagged', { mteAllowed: true }), DEV_PFN({ vmMte: true }), MTE_HOST, 'normal-wb X W'],
  ['MTE VM, BAR: non-cacheable, no MTE check', BAR, DEV_PFN({ vmMte: true }), MTE_HOST, 'normal-nc W'],
];

const SLOTS: [string, VmaInfo, PlatformCaps, SlotInfo, string][] = [
  ['RAM', RAM, XGENE1, SLOT, 'ok'],
  ['BAR on xgene1', BAR, XGENE1, SLOT, 'ok'],
  ['GPU memory on grace', GPU, GRACE, SLOT, 'ok'],
  ['GPU memory on n1', GPU, N1, SLOT, 'EINVAL'],
  ['GPU memory on xgene1', GPU, XGENE1, SLOT, 'EINVAL'],
  ['GPU memory on FWB without DIC', GPU, FWB_ONLY, SLOT, 'EINVAL'],
  ['cacheable PFNMAP over RAM on n1: refused (no PFN at slot time)', pf('normal'), N1, SLOT, 'EINVAL'],
  ['cacheable VM_MIXEDMAP on n1: not checked at slot time', vma({ mixedmap: true }), N1, SLOT, 'ok'],
  ['BAR, dirty log', BAR, GRACE, SLOT_LOG, 'EINVAL'],
  ['MTE VM, RAM with VM_MTE_ALLOWED', RAM_MTE, MTE_HOST, SLOT_MTE, 'ok'],
  ['MTE VM, RAM without VM_MTE_ALLOWED', RAM, MTE_HOST, SLOT_MTE, 'EINVAL'],
  ['... with FEAT_MTE_PERM', RAM, MTE_PERM_HOST, SLOT_MTE, 'ok'],
  ['MTE VM, GPU memory, FEAT_MTE_PERM', GPU, MTE_PERM_HOST, SLOT_MTE, 'ok'],
];

describe('cacheable-pfnmap policy', () => {
  it.each(FAULTS)('fault: %s', (_l, v, f, c, want) => expect(show(P.fault(v, f, c))).toBe(want));
  it.each(SLOTS)('memslot: %s', (_l, v, c, s, want) => expect(showSlot(P.memslot(v, c, s))).toBe(want));
  it('kvm_supports_cacheable_pfnmap() is FWB and DIC', () => {
    expect([XGENE1, N1, N1_NODIC, FWB_ONLY, GRACE].map(supportsCacheablePfnmap)).toEqual([false, false, false, false, true]);
  });
});
