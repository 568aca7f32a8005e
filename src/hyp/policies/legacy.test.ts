import { describe, it, expect } from 'vitest';
import { legacyPolicy as P } from './legacy.js';
import {
  BAR, BAR_STRICT, DEV_PFN, GPU, GRACE, MTE_HOST, MTE_PERM_HOST, N1, N1_NODIC, RAM, RAM_MTE, RAM_PFN, SLOT, SLOT_LOG,
  SLOT_MTE, XGENE1, ZDEV_PFN, show, showSlot, vma,
} from './test-fixtures.js';
import type { FaultInfo, PlatformCaps, VmaInfo } from './types.js';

const FAULTS: [string, VmaInfo, FaultInfo, PlatformCaps, string][] = [
  // RAM: WB; X only on exec faults unless CTR_EL0.DIC
  ['RAM read, xgene1', RAM, RAM_PFN(), XGENE1, 'normal-wb W'],
  ['RAM exec, xgene1', RAM, RAM_PFN({ exec: true }), XGENE1, 'normal-wb X W'],
  ['RAM read, n1 (DIC)', RAM, RAM_PFN(), N1, 'normal-wb X W'],
  ['RAM read, n1 without DIC', RAM, RAM_PFN(), N1_NODIC, 'normal-wb W'],
  ['RAM read, grace', RAM, RAM_PFN(), GRACE, 'normal-wb X W'],
  ['RAM COW read: read-only until the write fault', vma({ cow: true }), RAM_PFN(), XGENE1, 'normal-wb'],
  ['RAM COW write', vma({ cow: true }), RAM_PFN({ write: true }), XGENE1, 'normal-wb W'],
  // the pgprot and VMA flags are ignored: only the linear map matters
  ['PFNMAP over RAM, pgprot noncached: still WB', vma({ pfnmap: true, io: true, pgprot: 'noncached' }), RAM_PFN(), XGENE1, 'normal-wb W'],
  ['BAR read', BAR, DEV_PFN(), XGENE1, 'device-nGnRE W'],
  ['BAR: VM_ALLOW_ANY_UNCACHED ignored', BAR, DEV_PFN(), GRACE, 'device-nGnRE W'],
  ['BAR strict', BAR_STRICT, DEV_PFN(), N1, 'device-nGnRE W'],
  ['BAR exec', BAR, DEV_PFN({ exec: true }), GRACE, 'ENOEXEC'],
  ['Grace GPU memory (pgprot normal) on grace', GPU, DEV_PFN(), GRACE, 'device-nGnRE W'],
  ['Grace GPU memory exec', GPU, DEV_PFN({ exec: true }), GRACE, 'ENOEXEC'],
  ['ZONE_DEVICE page (struct page, not in linear map)', vma({ mixedmap: true }), ZDEV_PFN(), N1, 'device-nGnRE W'],
  ['COW PFNMAP of a BAR: not refused', vma({ pfnmap: true, cow: true, pgprot: 'noncached' }), DEV_PFN({ write: true }), N1, 'device-nGnRE W'],
  // MTE
  ['MTE VM, RAM with VM_MTE_ALLOWED', RAM_MTE, RAM_PFN({ vmMte: true }), MTE_HOST, 'normal-wb X W'],
  ['MTE VM, RAM without VM_MTE_ALLOWED (VMA swapped after the memslot)', RAM, RAM_PFN({ vmMte: true }), MTE_HOST, 'EFAULT'],
  ['... FEAT_MTE_PERM not used', RAM, RAM_PFN({ vmMte: true }), MTE_PERM_HOST, 'EFAULT'],
  ['MTE VM, BAR: device, no MTE check', BAR, DEV_PFN({ vmMte: true }), MTE_HOST, 'device-nGnRE W'],
  ['vmMte on a host without MTE is ignored', RAM, RAM_PFN({ vmMte: true }), GRACE, 'normal-wb X W'],
];

const SLOTS: [string, VmaInfo, PlatformCaps, typeof SLOT, string][] = [
  ['RAM', RAM, XGENE1, SLOT, 'ok'],
  ['BAR', BAR, XGENE1, SLOT, 'ok'],
  ['GPU memory, no FWB', GPU, XGENE1, SLOT, 'ok'],
  ['PFNMAP with dirty logging', BAR, GRACE, SLOT_LOG, 'EINVAL'],
  ['RAM with dirty logging', RAM, GRACE, SLOT_LOG, 'ok'],
  ['MTE VM, RAM with VM_MTE_ALLOWED', RAM_MTE, MTE_HOST, SLOT_MTE, 'ok'],
  ['MTE VM, RAM without VM_MTE_ALLOWED', RAM, MTE_HOST, SLOT_MTE, 'EINVAL'],
  ['MTE VM, BAR (VM_PFNMAP never has VM_MTE_ALLOWED)', BAR, MTE_PERM_HOST, SLOT_MTE, 'EINVAL'],
];

describe('legacy policy', () => {
  it.each(FAULTS)('fault: %s', (_l, v, f, c, want) => expect(show(P.fault(v, f, c))).toBe(want));
  it.each(SLOTS)('memslot: %s', (_l, v, c, s, want) => expect(showSlot(P.memslot(v, c, s))).toBe(want));
});
