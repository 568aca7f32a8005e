/**
 * SMMU worker speed (issue 5's target; reported, never asserted): `smmu-dma-worker`.
 *
 * A DMA-heavy system on neoverse-n1: 8 streaming devices (src/smmu/stream-device.ts), each on its
 * own StreamID with its own CD (ASID) and stage-1 tables in guest memory behind one stage 2
 * (nested, STE Config 0b111, the seed 004 layout), read 1 KiB requests over 256 IOVA pages at one
 * request every 48 cycles with up to 4 in flight, while 4 PEs stream loads and stores over their
 * own buffers (the CPUs keep working while the devices move data). Every new page misses the
 * IOTLB (the 8 x 256 pages exceed it): its first request walks and the next three, issued while
 * that walk is in flight, wait for it (merged misses, answered as hits), so the miss rate is
 * about 24% and nested walks are a large share of the work.
 *
 * Run twice per mode, interleaved (inline, worker, inline, worker), best of two: `smmu.threads=0`
 * runs the engine on the simulation's thread, `smmu.threads=1` in a piscina worker. Reported:
 * simulated DMA transactions (translated requests) per host second for each, their ratio (target
 * >= 1.3 on the 2-core machine), and whether the two runs' stats are identical (they must be).
 * Host time counts the run only (System.run and the drain of the devices), not the set-up.
 *
 * A fifth, inline run times the engine side of the protocol (`SmmuCore`: `input`, `call`, `sync`,
 * the code a worker would run) and reports its share of that run and the bound it sets:
 * whatever overlaps, the simulation's thread keeps the rest of the work, so worker / inline
 * cannot exceed 1 / (1 - share) even with free communication (Amdahl). The timers add to both
 * sides, so the share is an estimate (reported in the detail, not a target).
 */
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { PageTableBuilder } from '../src/mmu/index.js';
import { buildSystem, type System } from '../src/platform/index.js';
import { StreamDevice, enableSmmu, encodeCd, encodeSte, writeWords, type SmmuLayout } from '../src/smmu/index.js';
import { SmmuCore } from '../src/smmu/host.js';
import { registerBench, type BenchResult } from './harness.js';

const STREAMS = 8, PAGES = 256, PES = Number(process.env.BENCH_SMMU_PES ?? 0);
const REQ_BYTES = 1024, INTERVAL = 48, OUTSTANDING = 4;
const REQUESTS = 6000;               // per stream
const PE_LINES = 48_000;             // per PE: a load and a store per 64-byte line
const IPA_BASE = 0x4000_0000, GUEST_BYTES = 0x200_0000;
const CD_IPA = IPA_BASE + 0x1000, DATA_IPA = IPA_BASE + 0x100_0000, IOVA = 0x10_0000_0000;
const VMID = 7, TARGET_RATIO = 1.3;

interface Run { threads: 0 | 1; ms: number; translations: number; misses: number; stats: string; cycles: number; host: Record<string, number> }

function setUp(threads: 0 | 1): { sys: System; devs: StreamDevice[] } {
  const sys = buildSystem('neoverse-n1', [`core.count=${Math.max(1, PES)}`, `smmu.threads=${threads}`, ...(process.env.BENCH_SMMU_SETS ?? '').split(',').filter((x) => x !== '')]);
  const ram = sys.map.regions.find((r) => r.kind === 'dram')!;
  const R = ram.base, GUEST_PA = R + 0x400_0000;
  const pa = (ipa: number): number => ipa - IPA_BASE + GUEST_PA;
  const { engine, host, mem } = sys.smmu;
  const layout: SmmuLayout = { strtab: R + 0x20_0000, strtabLog2: 4, cmdq: R + 0x22_0000, cmdqLog2: 8, evtq: R + 0x23_0000, evtqLog2: 4, attrs: 'wb-ish' };
  const s2 = new PageTableBuilder(sys.coherent, { stage: 2, granule: '4K', inputBits: 48, startLevel: 0, allocBase: R + 0x30_0000, allocLimit: R + 0x40_0000 });
  s2.map({ va: IPA_BASE, oa: GUEST_PA, size: GUEST_BYTES, level: 3, s2: {} });
  for (let s = 0; s < STREAMS; s++) {
    const s1 = new PageTableBuilder(sys.coherent, {
      stage: 1, granule: '4K', inputBits: 48, allocBase: IPA_BASE + 0x10_0000 + s * 0x2_0000, allocLimit: IPA_BASE + 0x10_0000 + (s + 1) * 0x2_0000, physOf: pa,
    });
    s1.map({ va: IOVA, oa: DATA_IPA, size: PAGES * 4096, level: 3, s1: { nG: true, ap: 0b01 } });
    writeWords(sys.coherent, pa(CD_IPA + s * 64), encodeCd({ T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID: 20 + s, TTB0: s1.root, MAIR0: 0xff }));
    writeWords(sys.coherent, layout.strtab + s * 64, encodeSte({
      V: 1, Config: 7, S1ContextPtr: CD_IPA + s * 64, S1CIR: 1, S1COR: 1, S1CSH: 3, S2VMID: VMID, S2T0SZ: 16, S2SL0: 2, S2IR0: 1, S2OR0: 1, S2SH0: 3,
      S2TG: 0, S2PS: 5, S2AA64: 1, S2R: 1, S2TTB: s2.root,
    }));
  }
  enableSmmu(engine, layout);
  const devs: StreamDevice[] = [];
  for (let s = 0; s < STREAMS; s++) {
    const d = new StreamDevice(`bench.stream${s}`, sys.q, host, mem, sys.cfg.smmu!.dma as never);
    d.start({ op: 'read', streamId: s, base: IOVA, rangeBytes: PAGES * 4096, bytes: REQ_BYTES, intervalCycles: INTERVAL + s, maxOutstanding: OUTSTANDING, count: REQUESTS });
    devs.push(d);
  }
  for (let p = 0; p < PES; p++) {
    const base = R + 0x100_0000 + p * 0x40_0000;
    const body = function* (): Program {
      for (let i = 0; i < PE_LINES; i++) {
        const a = base + (i % 32768) * 64;
        yield prog.load(a, 8);
        yield prog.store(a + 8, 8, i);
      }
    };
    sys.attach(p, new ProgramOpSource(body(), `bench-pe${p}`));
  }
  return { sys, devs };
}

export async function once(threads: 0 | 1): Promise<Run> {
  const { sys, devs } = setUp(threads);
  const t0 = performance.now();
  const out = sys.run();
  if (out.endReason !== 'done') throw new Error(`smmu-dma-worker: the PEs ended with ${out.endReason}`);
  sys.q.runUntil(Number.MAX_SAFE_INTEGER);     // the devices' last requests
  const ms = performance.now() - t0;
  const engineStats = sys.smmu.engine.statsSnapshot();
  const hostStats = { ...sys.smmu.host.hostStats };
  await sys.close();
  let translations = 0, hits = 0;
  for (const d of devs) {
    if (d.busy || d.stats.completed !== REQUESTS) throw new Error(`smmu-dma-worker: ${d.name} completed ${d.stats.completed} of ${REQUESTS}`);
    translations += d.stats.translations;
    hits += d.stats.tlbHits;
  }
  const stats = JSON.stringify({ tree: sys.stats.toTree(), devs: devs.map((d) => [d.stats, d.latency.summary()]), engine: engineStats });
  return { threads, ms, translations, misses: translations - hits, stats, cycles: sys.q.now, host: hostStats };
}

/** The share of an inline run's host time spent in the engine side (SmmuCore), timed around its entry points. */
async function engineShare(): Promise<number> {
  const proto = SmmuCore.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
  const names = ['input', 'call', 'sync'] as const;
  const saved = names.map((n) => proto[n]!);
  let inside = 0, depth = 0;
  names.forEach((n, i) => {
    const orig = saved[i]!;
    proto[n] = function (this: unknown, ...a: unknown[]): unknown {
      if (depth++ > 0) { try { return orig.apply(this, a); } finally { depth--; } }
      const t = performance.now();
      try { return orig.apply(this, a); } finally { inside += performance.now() - t; depth--; }
    };
  });
  try {
    const r = await once(0);
    return inside / r.ms;
  } finally {
    names.forEach((n, i) => { proto[n] = saved[i]!; });
  }
}

registerBench({
  name: 'smmu-dma-worker',
  async run(): Promise<BenchResult[]> {
    const runs: Run[] = [];
    for (const t of [0, 1, 0, 1] as const) runs.push(await once(t));
    const best = (t: 0 | 1): Run => runs.filter((r) => r.threads === t).sort((a, b) => a.ms - b.ms)[0]!;
    const inline = best(0), worker = best(1);
    const identical = runs.every((r) => r.stats === runs[0]!.stats);
    const rate = (r: Run): number => r.translations / (r.ms / 1000);
    const detail = {
      streams: STREAMS, pes: PES, translations: inline.translations, iotlbMissRate: Math.round((1e4 * inline.misses) / inline.translations) / 1e4,
      simulatedCycles: inline.cycles, inlineMs: Math.round(inline.ms), workerMs: Math.round(worker.ms), identical, workerHost: worker.host,
    };
    if (!identical) throw new Error('smmu-dma-worker: inline and worker runs differ');
    const share = await engineShare();
    Object.assign(detail, { engineShareInline: Math.round(share * 1000) / 1000, ratioBoundIfFreeOverlap: Math.round(100 / (1 - share)) / 100 });
    return [
      { name: 'smmu-dma-worker', metric: 'inline (smmu.threads=0)', value: rate(inline), unit: 'transactions/s', detail },
      { name: 'smmu-dma-worker', metric: 'worker (smmu.threads=1)', value: rate(worker), unit: 'transactions/s' },
      { name: 'smmu-dma-worker', metric: 'worker / inline', value: rate(worker) / rate(inline), unit: 'x', target: TARGET_RATIO },
    ];
  },
});
