import { describe, it, expect } from 'vitest';
import { cacheablePfnmapV2Policy as P } from './cacheable-pfnmap-v2.js';
import {
  BAR, BAR_STRICT, DEV_PFN, GPU, GPU_IO, GRACE, MTE_HOST, N1, RAM, RAM_MTE, RAM_PFN, SLOT, SLOT_MTE, XGENE1, ZDEV_PFN,
  show, showSlot, vma,
} from './test-fixtures.js';
import type { FaultInfo, PlatformCaps, VmaInfo } from './types.js';

const pf = (pgprot: VmaInfo['pgprot'], o: Partial<VmaInfo> = {}) => vma({ pfnmap: true, pgprot, ...o });

const FAULTS: [string, VmaInfo, FaultInfo, PlatformCaps, string][] = [
  ['RAM', RAM, RAM_PFN(), XGENE1, 'normal-wb W'],
  ['RAM exec', RAM, RAM_PFN({ exec: true }), XGENE1, 'normal-wb X W'],
  ['RAM, DIC', RAM, RAM_PFN(), N1, 'normal-wb X W'],
  // the pgprot decides, also over RAM PFNs
  ['PFNMAP over RAM, noncached: Device-nGnRnE', pf('noncached'), RAM_PFN(), GRACE, 'device-nGnRnE W'],
  ['PFNMAP over RAM, writecombine: Normal-NC', pf('writecombine'), RAM_PFN(), GRACE, 'normal-nc W'],
  ['PFNMAP over RAM, device: Device-nGnRE', pf('device'), RAM_PFN(), GRACE, 'device-nGnRE W'],
  ['PFNMAP over RAM, tagged: WB', pf('tagged'), RAM_PFN(), XGENE1, 'normal-wb W'],
  ['... exec on noncached', pf('noncached'), RAM_PFN({ exec: true }), GRACE, 'ENOEXEC'],
  ['noncached + VM_ALLOW_ANY_UNCACHED: Normal-NC', pf('noncached', { allowAnyUncached: true }), RAM_PFN(), GRACE, 'normal-nc W'],
  // BARs: no struct page
  ['BAR on grace: Normal-NC', BAR, DEV_PFN(), GRACE, 'normal-nc W'],
  ['strict BAR on grace: Device-nGnRnE', BAR_STRICT, DEV_PFN(), GRACE, 'device-nGnRnE W'],
  ['BAR on xgene1 (no FWB): refused, Device or not', BAR, DEV_PFN(), XGENE1, 'EINVAL'],
  ['BAR on n1 (no FWB)', BAR_STRICT, DEV_PFN(), N1, 'EINVAL'],
  ['BAR exec on n1: ENOEXEC comes first', BAR, DEV_PFN({ exec: true }), N1, 'ENOEXEC'],
  // Grace GPU memory
  ['GPU memory on grace: WB, X granted by DIC', GPU, DEV_PFN(), GRACE, 'normal-wb X W'],
  ['GPU memory exec on grace: refused (!pfn_valid)', GPU, DEV_PFN({ exec: true }), GRACE, 'ENOEXEC'],
  ['GPU memory on n1: EINVAL', GPU, DEV_PFN(), N1, 'EINVAL'],
  ['GPU memory on xgene1: EINVAL', GPU, DEV_PFN(), XGENE1, 'EINVAL'],
  ['GPU memory with VM_IO (remap_pfn_range) on grace: forced Device', GPU_IO, DEV_PFN(), GRACE, 'device-nGnRE W'],
  ['... with VM_ALLOW_ANY_UNCACHED: Normal-NC', pf('normal', { io: true, allowAnyUncached: true }), DEV_PFN(), GRACE, 'normal-nc W'],
  ['VM_IO over RAM, pgprot normal: forced Device', pf('normal', { io: true }), RAM_PFN(), XGENE1, 'device-nGnRE W'],
  ['VM_IO exec', pf('normal', { io: true }), RAM_PFN({ exec: true }), GRACE, 'ENOEXEC'],
  // struct page without linear map: pfn_valid() says fine (Catalin's objection)
  ['ZONE_DEVICE page, no FWB: accepted WB', vma({ mixedmap: true }), ZDEV_PFN(), XGENE1, 'normal-wb W'],
  ['COW PFNMAP: not refused', pf('noncached', { cow: true }), DEV_PFN(), GRACE, 'device-nGnRnE'],
  // MTE
  ['MTE VM, RAM with VM_MTE_ALLOWED', RAM_MTE, RAM_PFN({ vmMte: true }), MTE_HOST, 'normal-wb X W'],
  ['MTE VM, RAM without VM_MTE_ALLOWED: forced Device', RAM, RAM_PFN({ vmMte: true }), MTE_HOST, 'device-nGnRE W'],
  ['MTE VM, RAM without VM_MTE_ALLOWED, exec', RAM, RAM_PFN({ vmMte: true, exec: true }), MTE_HOST, 'ENOEXEC'],
  ['MTE VM, GPU memory: forced Device', GPU, DEV_PFN({ vmMte: true }), MTE_HOST, 'device-nGnRE W'],
];

describe('cacheable-pfnmap-v2 policy', () => {
  it.each(FAULTS)('fault: %s', (_l, v, f, c, want) => expect(show(P.fault(v, f, c))).toBe(want));
  it.each([
    ['RAM', RAM, XGENE1, SLOT, 'ok'],
    ['GPU memory without FWB: accepted (refused only at fault)', GPU, XGENE1, SLOT, 'ok'],
    ['MTE VM, RAM without VM_MTE_ALLOWED', RAM, MTE_HOST, SLOT_MTE, 'EINVAL'],
    ['MTE VM, GPU memory', GPU, MTE_HOST, SLOT_MTE, 'EINVAL'],
  ] as const)('memslot: %s', (_l, v, c, s, want) => expect(showSlot(P.memslot(v, c, s))).toBe(want));
});
