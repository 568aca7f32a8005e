import { describe, it, expect } from 'vitest';
import { wcPolicy as P } from './wc.js';
import { legacyPolicy } from './legacy.js';
import {
  BAR, BAR_STRICT, DEV_PFN, GPU, GRACE, MTE_HOST, N1, RAM, RAM_MTE, RAM_PFN, SLOT, SLOT_LOG, SLOT_MTE, XGENE1,
  show, showSlot, vma,
} from './test-fixtures.js';
import type { FaultInfo, PlatformCaps, VmaInfo } from './types.js';

const FAULTS: [string, VmaInfo, FaultInfo, PlatformCaps, string][] = [
  ['RAM read, xgene1', RAM, RAM_PFN(), XGENE1, 'normal-wb W'],
  ['RAM read, n1 (DIC)', RAM, RAM_PFN(), N1, 'normal-wb X W'],
  ['BAR with VM_ALLOW_ANY_UNCACHED: Normal-NC', BAR, DEV_PFN(), XGENE1, 'normal-nc W'],
  ['... on grace', BAR, DEV_PFN({ write: true }), GRACE, 'normal-nc W'],
  ['BAR without it: Device-nGnRE', BAR_STRICT, DEV_PFN(), N1, 'device-nGnRE W'],
  ['BAR exec (NC is still non-cacheable)', BAR, DEV_PFN({ exec: true }), GRACE, 'ENOEXEC'],
  ['GPU memory, pgprot normal, no flag', GPU, DEV_PFN(), GRACE, 'device-nGnRE W'],
  ['GPU memory with VM_ALLOW_ANY_UNCACHED', vma({ pfnmap: true, allowAnyUncached: true }), DEV_PFN(), GRACE, 'normal-nc W'],
  ['VM_ALLOW_ANY_UNCACHED on RAM PFNs: WB', vma({ pfnmap: true, allowAnyUncached: true }), RAM_PFN(), GRACE, 'normal-wb X W'],
  ['MTE VM, RAM with VM_MTE_ALLOWED', RAM_MTE, RAM_PFN({ vmMte: true }), MTE_HOST, 'normal-wb X W'],
  ['MTE VM, RAM without VM_MTE_ALLOWED', RAM, RAM_PFN({ vmMte: true }), MTE_HOST, 'EFAULT'],
  ['MTE VM, BAR NC', BAR, DEV_PFN({ vmMte: true }), MTE_HOST, 'normal-nc W'],
];

describe('wc policy', () => {
  it.each(FAULTS)('fault: %s', (_l, v, f, c, want) => expect(show(P.fault(v, f, c))).toBe(want));
  it.each([
    ['RAM', RAM, SLOT, 'ok'], ['BAR', BAR, SLOT, 'ok'], ['BAR, dirty log', BAR, SLOT_LOG, 'EINVAL'],
    ['MTE VM, RAM without VM_MTE_ALLOWED', RAM, SLOT_MTE, 'EINVAL'],
  ] as const)('memslot: %s', (_l, v, s, want) => expect(showSlot(P.memslot(v, MTE_HOST, s))).toBe(want));
  it('differs from legacy only on device PFNs with VM_ALLOW_ANY_UNCACHED', () => {
    for (const [, v, f, c] of FAULTS) {
      const a = show(P.fault(v, f, c)), b = show(legacyPolicy.fault(v, f, c));
      if (a !== b) expect([v.allowAnyUncached, f.pfnInLinearMap, a, b]).toEqual([true, false, 'normal-nc W', 'device-nGnRE W']);
    }
  });
});
