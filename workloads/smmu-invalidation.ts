import { GUEST_IPA, nestedStream, ringAndWait } from './smmu-driver.js';
import { z } from 'zod';
import { ProgramOpSource, prog, type Program, type ProgramOp } from '../src/core/index.js';
import { defineScenario, type Check, type ScenarioContext } from '../src/platform/index.js';
import { dramAndDevice } from './regions.js';
import { NORMAL_NC_OSH, NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { MmuReg, PageTableBuilder, encodeTtbr } from '../src/mmu/index.js';
import {
  commandSlots, enableSmmu,
  type CmdFields, type CmdOpName, type DmaJobResult, type SmmuLayout,
} from '../src/smmu/index.js';
import { UserError, zInt } from '../src/sim/index.js';

/**
 * IOTLB behaviour and DMA throughput against the granularity of the guest driver's invalidations
 * (issue 7's smmu-invalidation suite; seed 004's nested set-up, as smmu-nested-dma).
 *
 * A device streams over `pages` IOVA pages (one checksum DMA job per page) through a nested
 * stream (STE Config 0b111: the guest's CD and stage 1 in guest memory, the host's stage 2).
 * After a cold round, each of `rounds` rounds the guest driver remaps `remapPages` contiguous
 * pages (a window that moves round by round) to other backing pages, as Linux iommu_unmap then
 * iommu_map does: it stores invalid leaves, invalidates at `granularity` and waits for CMD_SYNC
 * (CMDQ_CONS == PROD), then stores the new leaves (an invalid entry is never cached, so a map
 * needs no TLBI); then the device streams all pages again. The rounds are sequential, as a
 * driver must quiesce DMA to a page before unmapping it.
 *
 * Granularities (IHI 0070 4.4 "TLB invalidation"; Linux arm_smmu_tlb_inv_range_cmd):
 * - page: one CMD_TLBI_NH_VA (Leaf=1) per remapped page;
 * - range: CMD_TLBI_NH_VA with TG=4K and NUM/SCALE (IDR3.RIL; Linux's split of a page count into
 *   (NUM+1)*2^SCALE chunks), or, without RIL, the per-page batch (the check says which);
 * - asid: CMD_TLBI_NH_ASID; all: CMD_TLBI_NH_ALL (what a guest may issue: the host forces its
 *   VMID); vmall: CMD_TLBI_S12_VMALL (host only; also drops stage-2 and stage-2 walk-cache entries);
 * - none: the driver forgets to invalidate (the check then expects the stale pages it finds);
 * - btm: the guest CPU invalidates instead, TLBI VALE1IS (its VMID, the stream's ASID) per page and
 *   DSB ISH, as Linux SVA does when the SMMU has broadcast TLB maintenance
 *   (arm-smmu-v3-sva.c skips CMD_TLBI with ARM_SMMU_FEAT_BTM). IHI 0070 3.17: the broadcast reaches
 *   the SMMU only with IDR0.BTM (and CR2.PTM=0), so it is correct with smmu.config.btm=true and
 *   leaves stale translations without it. It needs a PE MMU (mmu.translation=vmsa) to issue TLBIs;
 *   the driver runs at EL1 with its own stage 1 off (VA = PA, Device memory: only its TLBIs
 *   matter) and VTTBR_EL2.VMID = the stream's S2VMID, as the hypervisor set it.
 * Each CMD_TLBI is followed by CMD_SYNC. Every backing page holds a distinct pattern, so each page's
 * checksum names which backing page the device read: a stale translation used after the SYNC
 * shows up as the old page's checksum.
 *
 * Cost model: the invalidation costs what the PE spends writing commands, the doorbell, and the
 * CONS poll while the SMMU consumes one command per smmu.commandCycles (SmmuHost.doorbell), plus
 * the DMA's refill misses.
 */
const Params = z.strictObject({
  granularity: z.enum(['page', 'range', 'asid', 'all', 'vmall', 'none', 'btm']).default('page'),
  /** IOVA pages the device streams over (4 KiB each). */
  pages: zInt(2, 512).default(64),
  /** Pages remapped per round (contiguous, at most `pages`). */
  remapPages: zInt(1, 512).default(8),
  /** Rounds after the cold one. */
  rounds: zInt(1, 16).default(4),
  /**
   * What streams: the DMA master (a checksum job per page in 64-byte beats, `smmu.dma.outstandingBeats` in flight) or the
   * streaming device (system.smmu0.stream0: one 4 KiB read per page every `streamInterval` cycles,
   * up to `streamOutstanding` in flight).
   */
  device: z.enum(['dma', 'stream']).default('dma'),
  streamInterval: zInt(1, 1_000_000).default(256),   // 4 KiB per 256 cycles: 16 B/cycle, the device port's rate with 64-byte beats of 4 cycles
  streamOutstanding: zInt(1, 64).default(8),
});
type P = z.infer<typeof Params>;

const SID = 6, VMID = 3, ASID = 12;
const BACKING_IPA = [GUEST_IPA + 0x40_0000, GUEST_IPA + 0x80_0000]; // backing page sets A and B (up to 512 pages each)
const IOVA_BASE = 0x8000_0000;
const PAGE = 4096;
const FNV_OFFSET = 0x811c9dc5, FNV_PRIME = 0x01000193;

interface Round {
  remapped: number[];
  invalidateCycles: number; dmaCycles: number; bytes: number;
  translations: number; tlbHits: number; descriptorReads: number; commands: number;
  stale: number; wrong: number; faults: number;
}
interface Marks {
  layout: SmmuLayout; attrs: number; pa: (ipa: number) => number; s1: PageTableBuilder; regs: number;
  /** Which backing set (0/1) each IOVA page maps now. */
  backing: number[];
  /** FNV-1a of each backing page, [set][page]. */
  sums: number[][];
  rounds: Round[];
  rangeMode: string;
  commandsByName: Record<string, number>;
}
const marks = new WeakMap<object, Marks>();
/**
 * Attributes of the driver's stores of what the SMMU reads (commands, descriptors): Normal WB on an
 * IO-coherent SMMU; Normal-NC without COHACC (Linux: dma_alloc_coherent memory is mapped
 * non-cacheable for a non-coherent device), so the stores reach memory where the SMMU reads.
 */
const swAttrs = (cohacc: boolean): number => (cohacc ? NORMAL_WB_RWA_ISH : NORMAL_NC_OSH);

function fnv(b: Uint8Array): number {
  let h = FNV_OFFSET;
  for (let i = 0; i < b.length; i++) h = Math.imul(h ^ b[i]!, FNV_PRIME) >>> 0;
  return h;
}

/** Publishes commands in queue-sized chunks; the SMMU consumes each chunk; CONS == PROD is the SYNC's completion. */
function* commands(ctx: ScenarioContext<P>, m: Marks, cmds: Array<readonly [CmdOpName, CmdFields?]>): Generator<ProgramOp, void, unknown> {
  const { engine } = ctx.sys.smmu;
  const chunk = 2 ** m.layout.cmdqLog2;
  for (let k = 0; k < cmds.length; k += chunk) {
    const part = cmds.slice(k, k + chunk);
    const { slots, prod } = commandSlots(engine, m.layout, part);
    for (const s of slots) yield prog.store(s.pa, 16, s.bytes, { attrs: m.attrs });
    yield prog.dsb();
    yield* ringAndWait(ctx.sys, m.regs, prod);
    for (const [op] of part) m.commandsByName[op] = (m.commandsByName[op] ?? 0) + 1;
  }
}

/**
 * The invalidation commands for IOVA pages [first, first+n) at `g`. Range: Linux
 * arm_smmu_tlb_inv_range_cmd: SCALE = the lowest set bit of the pages left, NUM+1 = the next five
 * bits, until none are left.
 */
function invalidation(g: P['granularity'], ril: boolean, first: number, n: number): Array<readonly [CmdOpName, CmdFields?]> {
  const out: Array<readonly [CmdOpName, CmdFields?]> = [];
  if (g === 'none' || g === 'btm') return out;
  if (g === 'page' || (g === 'range' && !ril)) {
    for (let i = 0; i < n; i++) out.push(['TLBI_NH_VA', { VMID, ASID, Address: IOVA_BASE + (first + i) * PAGE, Leaf: 1 }]);
  } else if (g === 'range') {
    let left = n, addr = IOVA_BASE + first * PAGE;
    while (left > 0) {
      let scale = 0;
      while ((left / 2 ** scale) % 2 === 0) scale++;
      const num = Math.floor(left / 2 ** scale) % 32;
      out.push(['TLBI_NH_VA', { VMID, ASID, Address: addr, Leaf: 1, TG: 1, NUM: num - 1, SCALE: scale }]);
      left -= num * 2 ** scale;
      addr += num * 2 ** scale * PAGE;
    }
  } else if (g === 'asid') out.push(['TLBI_NH_ASID', { VMID, ASID }]);
  else if (g === 'all') out.push(['TLBI_NH_ALL', { VMID }]);
  else out.push(['TLBI_S12_VMALL', { VMID }]);
  out.push(['SYNC', { CS: 0 }]);
  return out;
}

/**
 * One streaming pass over every page, by the DMA master (a checksum job per page, queued at once)
 * or the streaming device (a 4 KiB read per page); waits for the last.
 */
function* stream(ctx: ScenarioContext<P>, m: Marks, r: Round): Program {
  const p = ctx.params, smmu = ctx.sys.smmu;
  const st = p.device === 'stream' ? smmu.stream.stats : smmu.dma.stats, t0 = st.translations, h0 = st.tlbHits, d0 = st.descriptorReads;
  const seen: Array<{ done: boolean; bytes: number; checksum: number }> = [];
  if (p.device === 'stream') {
    const dev = smmu.stream, start = ctx.sys.q.now;
    dev.onRequest = (q) => { seen[q.index] = { done: q.status === 'done', bytes: q.status === 'done' ? PAGE : 0, checksum: q.checksum }; };
    dev.start({
      op: 'read', streamId: SID, base: IOVA_BASE, rangeBytes: p.pages * PAGE, bytes: PAGE, intervalCycles: p.streamInterval,
      maxOutstanding: p.streamOutstanding, count: p.pages,
    });
    while (dev.busy) yield prog.compute(64);
    r.dmaCycles = dev.lastDoneCycle - start;
  } else {
    const jobs: DmaJobResult[] = [];
    for (let i = 0; i < p.pages; i++) jobs.push(smmu.dma.submit({ op: 'checksum', streamId: SID, src: IOVA_BASE + i * PAGE, bytes: PAGE, tag: `page${i}` }));
    const last = jobs[jobs.length - 1]!;
    while (last.status === 'queued' || last.status === 'running') yield prog.compute(64);
    r.dmaCycles = last.endCycle - jobs[0]!.startCycle;
    for (const j of jobs) seen.push({ done: j.status === 'done', bytes: j.bytesDone, checksum: j.checksum });
  }
  r.translations = st.translations - t0; r.tlbHits = st.tlbHits - h0; r.descriptorReads = st.descriptorReads - d0;
  seen.forEach((j, i) => {
    r.bytes += j.bytes;
    if (!j.done) { r.faults++; return; }
    const now = m.backing[i]!;
    if (j.checksum === m.sums[now]![i]) return;
    if (j.checksum === m.sums[1 - now]![i]) r.stale++;
    else r.wrong++;
  });
}

function* driver(ctx: ScenarioContext<P>, m: Marks): Program {
  const p = ctx.params, { engine } = ctx.sys.smmu;
  const round = (remapped: number[]): Round => ({
    remapped, invalidateCycles: 0, dmaCycles: 0, bytes: 0, translations: 0, tlbHits: 0, descriptorReads: 0, commands: 0, stale: 0, wrong: 0, faults: 0,
  });
  const cold = round([]);
  if (p.granularity === 'btm') {
    // The hypervisor entered the guest with VTTBR_EL2.VMID = the VM's VMID (stage 2 of the PE is
    // not used here): the VMID the guest's broadcast TLBIs carry (IHI 0070 3.17).
    yield prog.exceptionLevel(2);
    yield prog.sysRegWriteHalves(MmuReg.VTTBR_EL2, encodeTtbr(0, VMID));
    yield prog.exceptionLevel(1);
  }
  yield* stream(ctx, m, cold);
  m.rounds.push(cold);
  for (let k = 0; k < p.rounds; k++) {
    const first = (k * p.remapPages) % p.pages;
    const pagesNow = Array.from({ length: p.remapPages }, (_, i) => (first + i) % p.pages);
    const r = round(pagesNow);
    const c0 = engine.stats.commands, t0 = ctx.sys.q.now;
    // Unmap: invalid leaves, DSB, then the invalidation (contiguous runs for the range form).
    for (const i of pagesNow) yield prog.store(m.pa(m.s1.slotAddress(IOVA_BASE + i * PAGE, 3)), 8, 0, { attrs: m.attrs });
    yield prog.dsb();
    const runs: Array<[number, number]> = [];
    for (const i of pagesNow) {
      const last = runs[runs.length - 1];
      if (last !== undefined && last[0] + last[1] === i) last[1]++;
      else runs.push([i, 1]);
    }
    const cmds: Array<readonly [CmdOpName, CmdFields?]> = [];
    if (p.granularity === 'page' || p.granularity === 'range') {
      for (const [f, n] of runs) cmds.push(...invalidation(p.granularity, engine.config.ril, f, n).filter(([op]) => op !== 'SYNC'));
      cmds.push(['SYNC', { CS: 0 }]);
    } else cmds.push(...invalidation(p.granularity, engine.config.ril, 0, 0));
    if (p.granularity === 'btm') {
      // TLBI VALE1IS, Xt (ASID, VA) per page, then DSB ISH: done for every agent in the domain.
      for (const i of pagesNow) yield prog.tlbi('vale1is', IOVA_BASE + i * PAGE, ASID);
      yield prog.dsb();
      m.commandsByName['TLBI VALE1IS (PE)'] = (m.commandsByName['TLBI VALE1IS (PE)'] ?? 0) + pagesNow.length;
    }
    yield* commands(ctx, m, cmds);
    // Map: the new leaves (the other backing set).
    for (const i of pagesNow) {
      m.backing[i] = 1 - m.backing[i]!;
      const d = m.s1.leaf(BACKING_IPA[m.backing[i]!]! + i * PAGE, 3, { s1: { nG: true, ap: 0b01 } });
      yield prog.store(m.pa(m.s1.slotAddress(IOVA_BASE + i * PAGE, 3)), 8, (BigInt(d.hi >>> 0) << 32n) | BigInt(d.lo >>> 0), { attrs: m.attrs });
    }
    yield prog.dsb();
    r.invalidateCycles = ctx.sys.q.now - t0;
    r.commands = engine.stats.commands - c0;
    yield* stream(ctx, m, r);
    m.rounds.push(r);
  }
}

export const scenario = defineScenario<P>({
  name: 'smmu-invalidation',
  description: 'nested SMMU: a device streams DMA over N pages while the guest remaps some and invalidates per page, by range, by ASID or all (+ CMD_SYNC), or with the CPU broadcast TLBI (btm): IOTLB hits/misses, walks, DMA throughput, commands, no stale translation after SYNC',
  platform: 'neoverse-n1',
  // Correct in both: flat, the driver's stores carry their attributes; vmsa, its stage 1 is off and
  // they are Device (only its TLBIs matter there). btm needs vmsa (checked in setup).
  translation: 'either',
  platformSets: ['core.count=1'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys, p = ctx.params;
    if (p.remapPages > p.pages) throw new UserError(`scenario.remapPages: at most scenario.pages (${p.pages}), got ${p.remapPages}`);
    if (p.granularity === 'btm' && sys.cfg.mmu.translation !== 'vmsa') {
      throw new UserError('scenario.granularity=btm: the guest invalidates with TLBI VALE1IS, which needs a PE MMU: add --set mmu.translation=vmsa');
    }
    const { ram, dev } = dramAndDevice(sys, 'smmu-invalidation', 0x200_0000);
    const { engine, dma } = sys.smmu;
    if (!engine.config.s1p || !engine.config.s2p) throw new UserError('smmu-invalidation needs smmu.config.s1p and s2p (nesting)');
    const { layout, pa, s1 } = nestedStream(sys, ram.base, { sid: SID, vmid: VMID, asid: ASID }, { strtab: 4, cmdq: 8, evtq: 4 });
    s1.map({ va: IOVA_BASE, oa: BACKING_IPA[0]!, size: p.pages * PAGE, level: 3, s1: { nG: true, ap: 0b01 } });
    const store = sys.coherent;
    // Each backing page: 32-bit words of (set << 24 | page << 12 | word index), so every page differs.
    const sums: number[][] = [[], []];
    const buf = new Uint8Array(PAGE), v = new DataView(buf.buffer);
    for (const set of [0, 1]) {
      for (let i = 0; i < p.pages; i++) {
        for (let w = 0; w < PAGE / 4; w++) v.setUint32(4 * w, ((set << 24) | (i << 12) | w) >>> 0, true);
        store.write(pa(BACKING_IPA[set]! + i * PAGE), buf, 0, PAGE);
        sums[set]!.push(fnv(buf));
      }
    }
    enableSmmu(engine, layout);
    dma.keepBytes = 0;
    const rangeMode = engine.config.ril
      ? `range TLBI (IDR3.RIL=1): TLBI_NH_VA TG=4K NUM/SCALE, ranges above ${engine.config.maxRangePages} pages become the ASID scope`
      : 'per-page TLBI_NH_VA batch (IDR3.RIL=0)';
    const m: Marks = { layout, attrs: swAttrs(engine.config.cohacc), pa, s1, regs: dev.base, backing: new Array<number>(p.pages).fill(0), sums, rounds: [], rangeMode, commandsByName: {} };
    marks.set(ctx, m);
    sys.attach(0, new ProgramOpSource(driver(ctx, m), 'guest driver'));
  },
  check(ctx, outcome): Record<string, Check> {
    const m = marks.get(ctx)!, p = ctx.params;
    const { engine } = ctx.sys.smmu;
    if (m.rounds.length === 0) {
      // The run stopped (--max-cycles, the watchdog) before the cold round finished: nothing to report on.
      return { completed: { pass: false, endReason: outcome.endReason, rounds: 0, unfinished: 'the run ended before the first (cold) round finished' } };
    }
    const measured = m.rounds.slice(1);
    const sum = (k: keyof Round): number => measured.reduce((a, r) => a + (r[k] as number), 0);
    const stale = sum('stale'), wrong = sum('wrong'), faults = sum('faults');
    // btm is correct only if the PE's broadcast reaches the SMMU (IDR0.BTM; enableSmmu leaves CR2.PTM=0).
    const expectStale = p.granularity === 'none' || (p.granularity === 'btm' && !engine.config.btm);
    const translations = sum('translations'), hits = sum('tlbHits'), misses = translations - hits;
    const dmaCycles = sum('dmaCycles'), bytes = sum('bytes'), invCycles = sum('invalidateCycles');
    const cold = m.rounds[0]!;
    const vs = engine.statsSnapshot().vmids[VMID];
    return {
      completed: { pass: outcome.endReason === 'done' && m.rounds.length === p.rounds + 1, endReason: outcome.endReason, rounds: m.rounds.length - 1 },
      correct: {
        // No stale translation after the SYNC: every page's checksum is that of the page it maps now.
        pass: wrong === 0 && faults === 0 && (expectStale ? stale > 0 : stale === 0),
        value: stale === 0 && wrong === 0 && faults === 0,
        expected: expectStale ? 'stale' : 'fresh', granularity: p.granularity,
        remappedPages: p.remapPages * p.rounds, stalePages: stale, wrongPages: wrong, faultedPages: faults,
        ...(stale > 0 ? { firstStale: (() => {
          const k = measured.findIndex((r) => r.stale > 0);
          return { round: k + 1, remapped: `${measured[k]!.remapped[0]}..${measured[k]!.remapped[measured[k]!.remapped.length - 1]}` };
        })() } : {}),
      },
      iotlb: {
        pass: true,
        hits, misses, translations, missRatePct: translations === 0 ? 0 : Math.round((1000 * misses) / translations) / 10,
        missesPerRound: Math.round((10 * misses) / measured.length) / 10,
        coldMisses: cold.translations - cold.tlbHits,
      },
      walks: { pass: true, descriptorReads: sum('descriptorReads'), perRound: Math.round((10 * sum('descriptorReads')) / measured.length) / 10, cold: cold.descriptorReads },
      dma: {
        pass: true, cycles: dmaCycles, bytes, bytesPerKcycle: dmaCycles === 0 ? 0 : Math.round((1000 * bytes) / dmaCycles),
        coldCycles: cold.dmaCycles, coldBytesPerKcycle: cold.dmaCycles === 0 ? 0 : Math.round((1000 * cold.bytes) / cold.dmaCycles),
        ...(p.device === 'stream' ? (() => {
          const dev = ctx.sys.smmu.stream, lat = dev.latency.summary();
          return {
            device: 'stream', intervalCycles: p.streamInterval, maxOutstanding: p.streamOutstanding, requests: dev.stats.requests,
            latencyMean: lat.mean, latencyMax: lat.max, throttledCycles: dev.stats.throttledCycles,
          };
        })() : {}),
      },
      invalidation: {
        pass: true, granularity: p.granularity,
        mode: p.granularity === 'range' ? m.rangeMode
          : p.granularity === 'btm' ? `PE TLBI VALE1IS per page + DSB ISH, no CMD_TLBI (IDR0.BTM=${engine.config.btm ? 1 : 0})` : p.granularity,
        commands: sum('commands'), commandsPerRound: Math.round((10 * sum('commands')) / measured.length) / 10,
        byName: Object.entries(m.commandsByName).map(([k, v]) => `${k}=${v}`).join(' ') || 'none', entriesRemoved: vs?.invalidations ?? 0,
        cycles: invCycles, totalCycles: invCycles + dmaCycles,
        ...(p.granularity === 'btm' ? { btm: engine.config.btm, broadcastTlbis: engine.stats.broadcastTlbis, broadcastEntriesRemoved: engine.stats.broadcastTlbiEntries } : {}),
      },
    };
  },
});
