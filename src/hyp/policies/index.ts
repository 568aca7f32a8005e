/**
 * hyp/policies — what KVM/arm64 decides on a stage-2 fault, as four named, pure policies:
 * the stage-2 memory type, execute and write permission, FEAT_MTE_PERM NoTagAccess, or a refusal
 * with its errno; and whether a memslot over a VMA is accepted at KVM_SET_USER_MEMORY_REGION.
 *
 *   legacy               RAM (PFN in the linear map) WB, anything else Device-nGnRE, no exec on device.
 *   wc                   legacy + VM_ALLOW_ANY_UNCACHED device memory is Normal-NC (2024).
 *   cacheable-pfnmap-v2  seed 000's patch under review: the type follows the VMA pgprot.
 *   cacheable-pfnmap     the rule merged upstream: cacheable VM_PFNMAP needs FEAT_S2FWB + CTR_EL0.DIC.
 *
 * Left out: *when* to clean (the hyp.cmo strategies; KVM cleans new pages to PoC without FWB and
 * invalidates the I-cache on exec faults without DIC), block-mapping size (THP, PUD/PMD PFNMAP
 * blocks), dirty logging's read-only mappings, nested stage 2, pKVM, guest_memfd, the -EAGAIN
 * retry on an MMU-notifier race, hwpoison. Each module says which mails and code it follows.
 */
import { cacheablePfnmapPolicy } from './cacheable-pfnmap.js';
import { cacheablePfnmapV2Policy } from './cacheable-pfnmap-v2.js';
import { legacyPolicy } from './legacy.js';
import { wcPolicy } from './wc.js';
import type { PolicyName, StagePolicy } from './types.js';

export type {
  Decision, Errno, FaultInfo, MapDecision, MemslotDecision, Pgprot, PlatformCaps, PolicyName, RefuseDecision, S2Attr,
  SlotInfo, StagePolicy, VmaInfo,
} from './types.js';
export { legacyPolicy, wcPolicy, cacheablePfnmapV2Policy, cacheablePfnmapPolicy };
export { supportsCacheablePfnmap } from './cacheable-pfnmap.js';
export { NO_SLOT_FLAGS } from './types.js';

/** Every policy by name, for `--set hyp.policy=<name>`. */
export const POLICIES: Readonly<Record<string, StagePolicy>> = Object.freeze<Record<PolicyName, StagePolicy>>({
  legacy: legacyPolicy,
  wc: wcPolicy,
  'cacheable-pfnmap-v2': cacheablePfnmapV2Policy,
  'cacheable-pfnmap': cacheablePfnmapPolicy,
});

export const POLICY_NAMES = Object.keys(POLICIES) as PolicyName[];

/** Look a policy up by name; a one-line error naming the accepted values otherwise. */
export function policyByName(name: string): StagePolicy {
  const p = Object.hasOwn(POLICIES, name) ? POLICIES[name] : undefined;
  if (!p) throw new Error(`hyp.policy: unknown policy '${name}' (accepted: ${POLICY_NAMES.join(', ')})`);
  return p;
}
