import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { Hypervisor, CMO_DESCRIPTIONS, CMO_STRATEGIES, POLICIES, type CmoStrategy } from '../src/hyp/index.js';
import { Rng, UserError, zSize } from '../src/sim/index.js';
import { GUEST_RAM_HOST_OFFSET, hypervisorHost } from './regions.js';

/**
 * Seed 003 (KVM/arm64 on X-Gene, 2013) end to end: the VMM loads a multi-MiB image into guest
 * RAM through its cacheable mapping, so the image sits dirty in the host PE's caches (and in an
 * external L3). The vCPU starts with its MMU and caches off: its data accesses are
 * Device-nGnRnE and its instruction fetches Non-cacheable (AArch64.S1DisabledOutput), so they
 * read memory behind the caches — unless stage 2 or HCR_EL2 says otherwise. It reads the image,
 * fetches its first `codeBytes` as instructions, and checksums it. Stage 2 starts empty: every
 * page the guest touches is a stage-2 fault that the hypervisor model handles under `hyp.policy`,
 * cleaning as `hyp.cmo` says.
 *
 * What each strategy predicts (and the check asserts):
 * - none: stale wherever lines are still dirty above the PoC.
 * - set-way-at-start: set/way pushes the CLIDR levels only one level down; correct where that
 *   level is at the PoC (a system cache, or memory), stale with a before-PoC L3 (xgene1).
 * - clean-all-at-start, clean-on-s2-fault, vmm-clean-loaded: DC CIVAC by VA reaches the PoC.
 * - hcr-dc: the vCPU's accesses become Normal WB: coherent data; instruction fetches fill from
 *   the point of unification, so without CTR_EL0.IDC a line still dirty in the L1D is stale to
 *   them (the Arm ARM asks for DC CVAU + IC IVAU for instruction-to-data coherence).
 * - fwb: stage-2 MemAttr 0b0110 forces Normal WB whatever stage 1 says: coherent (the same
 *   instruction-side caveat as hcr-dc).
 */
const Params = z.strictObject({
  /** Bytes the VMM loads (a multiple of 64). */
  imageBytes: zSize.default(4 * 1024 * 1024),
  /** Guest RAM (what clean-all-at-start cleans). */
  guestRamBytes: zSize.default(64 * 1024 * 1024),
  /** Bytes at the start of the image the guest fetches as instructions. */
  codeBytes: zSize.default(64 * 1024),
});
type P = z.infer<typeof Params>;

const GUEST_RAM_IPA = 0x4000_0000;      // QEMU virt's RAM base
const IMAGE_OFFSET = 0x8_0000;          // arm64 Image text offset

interface Marks {
  hyp: Hypervisor;
  staleBytes: number; staleFetchBytes: number; readBytes: number; fetchedBytes: number;
  bootStart: number; bootEnd: number; checksum: number; expectedChecksum: number;
  hostFaults: number;
  /** At the vCPU's first instruction: image lines (and code lines) whose newest data is dirty above the PoC. */
  dirtyAbovePocLines: number; dirtyCodeLines: number;
}
const marks = new WeakMap<object, Marks>();

/** The image: pseudo-random bytes, never 0 (memory's initial value, so a stale byte always shows). */
function imageOf(bytes: number, seed: number): Uint8Array {
  const rng = new Rng(seed).fork('image');
  const b = new Uint8Array(bytes);
  for (let i = 0; i < bytes; i++) b[i] = 1 + rng.nextInt(255);
  return b;
}

function* vcpu(ctx: ScenarioContext<P>, m: Marks, image: Uint8Array): Program {
  const { hyp } = m;
  const q = ctx.sys.q;
  const { imageBytes, codeBytes } = ctx.params;
  const ipa = GUEST_RAM_IPA + IMAGE_OFFSET;
  // The host: EL2 with its map, the VMM loads the image, start-of-day maintenance.
  yield* hyp.hostInit();
  yield* hyp.loadImage(ipa, image);
  yield* hyp.beforeFirstRun([{ ipa, bytes: imageBytes }]);
  // Where the image is now: a line reads stale to an access that bypasses the caches exactly
  // when its newest copy is dirty above the point of coherency.
  const host = hyp.slotOf(ipa)!.hostPa + (ipa - GUEST_RAM_IPA);
  const beforePoc = ctx.sys.cfg.cache.l3.kind === 'before-poc';
  for (let off = 0; off < imageBytes; off += 64) {
    const above = ctx.sys.caches.whereIs(host + off).some((w) => w.endsWith(' dirty') && (beforePoc || !w.startsWith('system.l3')));
    if (above) { m.dirtyAbovePocLines++; if (off < codeBytes) m.dirtyCodeLines++; }
  }
  // The vCPU: MMU off, reads and fetches the image (guest VA = IPA), checksums it.
  yield* hyp.enterGuest();
  m.bootStart = q.now;
  for (let off = 0; off < codeBytes; off += 64) {
    const r = (yield prog.fetch(ipa + off, 64))!;
    if (!r.ok) { m.hostFaults++; continue; }
    for (let k = 0; k < 64; k++) if (r.bytes[k] !== image[off + k]) m.staleFetchBytes++;
    m.fetchedBytes += 64;
  }
  let sum = 0;
  for (let off = 0; off < imageBytes; off += 64) {
    const r = (yield prog.load(ipa + off, 64))!;
    if (!r.ok) { m.hostFaults++; continue; }
    for (let k = 0; k < 64; k++) {
      if (r.bytes[k] !== image[off + k]) m.staleBytes++;
      sum = (sum + r.bytes[k]! * (((off + k) % 251) + 1)) % 0x7fffffff;
    }
    m.readBytes += 64;
  }
  m.checksum = sum;
  m.bootEnd = q.now;
}

function predict(ctx: ScenarioContext<P>, cmo: CmoStrategy, m: Marks): { stale: boolean; fetchStale: boolean | 'maybe'; why: string } {
  const c = ctx.sys.cfg.cache;
  const idc = c.idc || c.dic;
  // Without maintenance by VA, what is stale is what is still dirty above the PoC when the vCPU
  // starts (lines the caches already evicted reached memory): predicted line by line.
  const dirty = { stale: m.dirtyAbovePocLines > 0, fetchStale: m.dirtyCodeLines > 0 };
  switch (cmo) {
    case 'none': return { ...dirty, why: `no maintenance: ${m.dirtyAbovePocLines} image lines still dirty above the PoC when the vCPU starts` };
    case 'set-way-at-start':
      return c.l3.kind === 'before-poc'
        ? { ...dirty, why: `set/way pushes the L1/L2 lines into the L3, which sits above the PoC and is bypassed by MMU-off accesses (${m.dirtyAbovePocLines} lines dirty there)` }
        : { stale: false, fetchStale: false, why: `set/way pushes the L1/L2 lines to ${c.l3.kind === 'none' ? 'memory' : 'the system cache at the PoC'}` };
    case 'hcr-dc': case 'fwb':
      return {
        stale: false, fetchStale: idc ? false : 'maybe',
        why: `${cmo === 'fwb' ? 'stage-2 FWB forces' : 'HCR_EL2.DC makes'} the vCPU's accesses Normal WB: coherent data${idc ? '' : '; fetches fill from the PoU and may miss lines dirty in the L1D (CTR_EL0.IDC=0)'}`,
      };
    default: return { stale: false, fetchStale: false, why: `${CMO_DESCRIPTIONS[cmo]}: DC CIVAC by VA reaches the PoC` };
  }
}

export const scenario = defineScenario<P>({
  name: 'guest-boot-mmu-off',
  description: 'seed 003: a guest boots with its MMU off from an image the VMM left dirty in the caches; hyp.cmo picks the maintenance',
  translation: 'vmsa',
  accepts: { policies: Object.keys(POLICIES), cmo: CMO_STRATEGIES },
  params: Params,
  setup(ctx) {
    const { sys } = ctx;
    const cfg = sys.cfg;
    const { imageBytes, guestRamBytes, codeBytes } = ctx.params;
    if (imageBytes === 0 || imageBytes % 64 !== 0) throw new UserError(`scenario.imageBytes: must be a positive multiple of 64 (got ${imageBytes})`);
    if (codeBytes % 64 !== 0 || codeBytes > imageBytes) throw new UserError(`scenario.codeBytes: must be a multiple of 64 no larger than scenario.imageBytes (got ${codeBytes})`);
    if (guestRamBytes % 4096 !== 0 || guestRamBytes < IMAGE_OFFSET + imageBytes) throw new UserError(`scenario.guestRamBytes: must be a multiple of 4096 holding the image at offset 0x80000 (at least ${IMAGE_OFFSET + imageBytes}; got ${guestRamBytes})`);
    const ram = hypervisorHost(sys, 'guest-boot-mmu-off', guestRamBytes);
    const guestPa = ram.base + GUEST_RAM_HOST_OFFSET;
    const hyp = new Hypervisor({
      store: sys.coherent,
      regions: sys.map.regions,
      caps: { featS2FWB: cfg.mmu.featS2FWB, ctrDic: cfg.cache.dic, mte: false },
      lineBytes: cfg.cache.lineBytes,
    }, { policy: cfg.hyp.policy, cmo: cfg.hyp.cmo, trapCycles: cfg.hyp.trapCycles, tablesBase: ram.base + 0x100_0000 });
    const slot = hyp.addMemslot({
      name: 'guest-ram', ipa: GUEST_RAM_IPA, size: guestRamBytes, hostPa: guestPa,
      vma: { pfnmap: false, mixedmap: false, io: false, allowAnyUncached: false, mteAllowed: false, cow: false, pgprot: 'normal' },
    });
    if (!slot.ok) throw new UserError(`hyp.policy: '${cfg.hyp.policy}' refuses guest RAM (${slot.reason})`);
    const image = imageOf(imageBytes, ctx.seed);
    let expected = 0;
    for (let i = 0; i < imageBytes; i++) expected = (expected + image[i]! * ((i % 251) + 1)) % 0x7fffffff;
    const m: Marks = { hyp, staleBytes: 0, staleFetchBytes: 0, readBytes: 0, fetchedBytes: 0, bootStart: 0, bootEnd: 0, checksum: 0, expectedChecksum: expected, hostFaults: 0, dirtyAbovePocLines: 0, dirtyCodeLines: 0 };
    marks.set(ctx, m);
    hyp.attachTo(sys.pes[0]!);
    sys.attach(0, new ProgramOpSource(vcpu(ctx, m, image), 'host + vcpu0'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const cfg = ctx.sys.cfg;
    const cmo = cfg.hyp.cmo;
    const pred = predict(ctx, cmo, m);
    const s = m.hyp.stats;
    const { imageBytes, codeBytes } = ctx.params;
    const correct = m.staleBytes === 0 && m.checksum === m.expectedChecksum;
    return {
      completed: { pass: outcome.endReason === 'done' && m.hostFaults === 0 && m.readBytes === imageBytes && m.fetchedBytes === codeBytes, endReason: outcome.endReason, guestAborts: m.hostFaults },
      staleBytes: {
        // Without maintenance by VA: exactly the lines dirty above the PoC read stale.
        pass: (m.staleBytes > 0) === pred.stale && ((cmo !== 'none' && cmo !== 'set-way-at-start') || Math.ceil(m.staleBytes / 64) <= m.dirtyAbovePocLines),
        dirtyAbovePocLines: m.dirtyAbovePocLines,
        bytes: m.staleBytes, of: imageBytes, correct, predicted: pred.stale ? 'stale' : 'correct', why: pred.why,
        platform: `l3=${cfg.cache.l3.kind} idc=${cfg.cache.idc} dic=${cfg.cache.dic} fwb=${cfg.mmu.featS2FWB}`,
      },
      staleFetchBytes: {
        pass: pred.fetchStale === 'maybe' || (m.staleFetchBytes > 0) === pred.fetchStale,
        bytes: m.staleFetchBytes, of: codeBytes, predicted: pred.fetchStale === 'maybe' ? 'depends on what is still dirty in the L1D' : pred.fetchStale ? 'stale' : 'correct',
      },
      correct: { pass: correct === !pred.stale, value: correct, checksum: m.checksum, expected: m.expectedChecksum },
      // Data-cache maintenance only where the strategy calls for it; the instruction-cache
      // invalidation KVM does on exec faults (without CTR_EL0.DIC) is counted in the cycles too.
      cmoCycles: {
        pass: ((cmo === 'none' || cmo === 'hcr-dc' || cmo === 'fwb') ? s.dcOps === 0 : s.dcOps > 0) && (s.dcOps + s.icOps === 0) === (s.cmoCycles === 0),
        cycles: s.cmoCycles, dcOps: s.dcOps, icOps: s.icOps, strategy: cmo,
      },
      s2Faults: { pass: s.s2Faults === s.pagesMapped && s.s2Refused === 0 && s.s2Faults >= imageBytes / 4096, faults: s.s2Faults, pagesMapped: s.pagesMapped, faultCycles: s.faultCycles, policy: cfg.hyp.policy },
      bootCycles: { pass: m.bootEnd > m.bootStart, cycles: m.bootEnd - m.bootStart, total: outcome.cycles },
    };
  },
});
