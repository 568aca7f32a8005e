import { z } from 'zod';
import { hostLayout } from './smmu-driver.js';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { dramAndDevice } from './regions.js';
import { DEVICE_nGnRE, NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { PageTableBuilder } from '../src/mmu/index.js';
import { encodeCd, encodeSte, enableSmmu, writeWords, type DmaJobResult, type SmmuLayout } from '../src/smmu/index.js';
import { zInt } from '../src/sim/index.js';

/**
 * A driver fills a descriptor ring and its payload buffers through a cacheable (Normal WB) mapping
 * and rings a device's doorbell; the device reads the ring by DMA through the SMMU and copies each
 * payload it is pointed at. Behind a non-coherent SMMU (IDR0.COHACC=0, or a translation whose final
 * attributes are not Normal WB shareable) the device reads memory at the PoC, where the driver's
 * writes are not yet: they sit dirty in the PE's L1D. Without a clean to the PoC the device reads
 * the previous round's descriptors; with DC CVAC by VA over the ring and the buffers (and a DSB)
 * before the doorbell it reads the new ones. Seed 002 (a cacheable host alias vs non-cacheable DMA);
 * IHI 0070 3.15 "Coherency considerations"; Linux dma_map_single(DMA_TO_DEVICE) does the clean.
 *
 * The PE runs flat (addresses are PAs, attributes per access). The SMMU translates the device's
 * IOVAs with stage 1 only (STE Config 0b101, one CD, MAIR0 from `dmaAttrs`).
 */
const Params = z.strictObject({
  /** What the driver does before the doorbell: nothing, or DC CVAC over every line it wrote. */
  clean: z.enum(['none', 'dc-cvac']).default('none'),
  /** Descriptors in the ring (16 bytes each, each pointing at a 64-byte payload). */
  descriptors: zInt(1, 64).default(8),
  /** Memory type of the device's mapping (CD MAIR0 Attr0): Normal WB (0xff) or Normal NC (0x44). */
  dmaAttrs: z.enum(['wb', 'nc']).default('wb'),
});
type P = z.infer<typeof Params>;

const SID = 1, ASID = 3;
const IOVA_BASE = 0x1000_0000;
const RING_OFF = 0x10_0000, PAYLOAD_OFF = 0x11_0000, DST_OFF = 0x12_0000, WINDOW = 0x3_0000;
const VALID = 0x8000_0000;
const OLD_SEQ = 0, NEW_SEQ = 1;
const OLD_BYTE = 0xee;
/** Descriptor i's new payload byte: never 0 and never OLD_BYTE (0x11 x 14 would be), so the check can tell them apart. */
const newByte = (i: number): number => { const b = (0x11 * (i + 1)) & 0xff; return b === 0 || b === OLD_BYTE ? 0x5a : b; };

interface Seen { index: number; valid: boolean; seq: number; addr: number; len: number }
interface Marks {
  ram: number; layout: SmmuLayout;
  kickCycle: number; cleanStart: number; cleanEnd: number; dmaStart: number; dmaEnd: number;
  seen: Seen[]; jobs: DmaJobResult[]; done: boolean;
}
const marks = new WeakMap<object, Marks>();
const hex = (v: number): string => `0x${v.toString(16)}`;

function descBytes(addr: number, len: number, seq: number, i: number): Uint8Array {
  const b = new Uint8Array(16), v = new DataView(b.buffer);
  v.setUint32(0, addr % 2 ** 32, true); v.setUint32(4, Math.floor(addr / 2 ** 32), true);
  v.setUint32(8, len, true); v.setUint32(12, (VALID | (seq << 16) | i) >>> 0, true);
  return b;
}

/** The device: on the doorbell, read the ring by DMA, then copy each valid descriptor's payload to its slot in DST. */
function startDevice(ctx: ScenarioContext<P>, m: Marks): void {
  const { dma } = ctx.sys.smmu;
  const n = ctx.params.descriptors;
  dma.keepBytes = n * 16;
  m.dmaStart = ctx.sys.q.now;
  const ring = dma.submit({ op: 'checksum', streamId: SID, src: IOVA_BASE, bytes: n * 16, tag: 'ring' }, (r) => {
    if (r.status !== 'done') { m.done = true; m.dmaEnd = ctx.sys.q.now; return; }
    const v = new DataView(Uint8Array.from(r.data).buffer);
    const copies: Seen[] = [];
    for (let i = 0; i < n; i++) {
      const ctl = v.getUint32(16 * i + 12, true);
      const s: Seen = {
        index: i, valid: (ctl & VALID) !== 0, seq: (ctl >>> 16) & 0x7fff,
        addr: v.getUint32(16 * i, true) + v.getUint32(16 * i + 4, true) * 2 ** 32, len: v.getUint32(16 * i + 8, true),
      };
      m.seen.push(s);
      if (s.valid && s.len > 0 && s.len <= 64) copies.push(s);
    }
    const end = (): void => { m.done = true; m.dmaEnd = ctx.sys.q.now; };
    if (copies.length === 0) { end(); return; }
    copies.forEach((s, k) => {
      m.jobs.push(dma.submit({ op: 'copy', streamId: SID, src: s.addr, dst: IOVA_BASE + DST_OFF - RING_OFF + 64 * s.index, bytes: s.len, tag: `copy${s.index}` },
        k === copies.length - 1 ? end : undefined));
    });
  });
  m.jobs.push(ring);
}

function* driver(ctx: ScenarioContext<P>, m: Marks, doorbell: number): Program {
  const n = ctx.params.descriptors, lb = ctx.sys.cfg.cache.lineBytes, WB = NORMAL_WB_RWA_ISH;
  const ring = m.ram + RING_OFF, payload = m.ram + PAYLOAD_OFF;
  for (let i = 0; i < n; i++) {
    yield prog.store(payload + 64 * i, 64, new Uint8Array(64).fill(newByte(i)), { attrs: WB });
    yield prog.store(ring + 16 * i, 16, descBytes(IOVA_BASE + PAYLOAD_OFF - RING_OFF + 64 * i, 64, NEW_SEQ, i), { attrs: WB });
  }
  yield prog.dsb();
  m.cleanStart = ctx.sys.q.now;
  if (ctx.params.clean === 'dc-cvac') {
    for (let a = ring; a < ring + 16 * n; a += lb) yield prog.dc('cvac', a, { attrs: WB });
    for (let a = payload; a < payload + 64 * n; a += lb) yield prog.dc('cvac', a, { attrs: WB });
    yield prog.dsb();
  }
  m.cleanEnd = ctx.sys.q.now;
  yield prog.store(doorbell, 4, 1, { attrs: DEVICE_nGnRE, wait: true });   // the doorbell register
  m.kickCycle = ctx.sys.q.now;
  startDevice(ctx, m);
  while (!m.done) yield prog.compute(64);                                   // the completion interrupt, as a poll
}

export const scenario = defineScenario<P>({
  name: 'smmu-noncoherent-dma',
  description: 'a driver writes a descriptor ring through a cacheable mapping and kicks a device behind a non-coherent SMMU: stale descriptors unless it cleans to PoC (DC CVAC)',
  platformSets: ['core.count=1', 'smmu.config.cohacc=false'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys;
    const { ram, dev } = dramAndDevice(sys, 'smmu-noncoherent-dma', 0x50_0000);
    const R = ram.base;
    const { engine } = sys.smmu;
    const layout = hostLayout(sys, R, { strtab: 4, cmdq: 4, evtq: 4 });
    const m: Marks = { ram: R, layout, kickCycle: 0, cleanStart: 0, cleanEnd: 0, dmaStart: 0, dmaEnd: 0, seen: [], jobs: [], done: false };
    marks.set(ctx, m);
    // The kernel set the SMMU up long ago (tables written and cleaned: through the coherent view).
    const store = sys.coherent;
    const s1 = new PageTableBuilder(store, { stage: 1, granule: '4K', inputBits: 48, allocBase: R + 0x30_0000, allocLimit: R + 0x40_0000 });
    s1.map({ va: IOVA_BASE, oa: R + RING_OFF, size: WINDOW, level: 3, s1: { nG: true, ap: 0b01 } });
    writeWords(store, layout.strtab + SID * 64, encodeSte({ V: 1, Config: 5, S1ContextPtr: R + 0x21_0000, S1CIR: 1, S1COR: 1, S1CSH: 3 }));
    writeWords(store, R + 0x21_0000, encodeCd({
      T0SZ: 16, TG0: 0, IR0: 1, OR0: 1, SH0: 3, EPD1: 1, V: 1, IPS: 5, AA64: 1, R: 1, A: 1, ASID, TTB0: s1.root,
      MAIR0: ctx.params.dmaAttrs === 'wb' ? 0xff : 0x44,
    }));
    enableSmmu(engine, layout);
    // The previous round, long done: its descriptors and payloads are in memory (not in any cache).
    for (let i = 0; i < ctx.params.descriptors; i++) {
      sys.map.store.write(R + RING_OFF + 16 * i, descBytes(IOVA_BASE + PAYLOAD_OFF - RING_OFF + 64 * i, 64, OLD_SEQ, i), 0, 16);
      sys.map.store.write(R + PAYLOAD_OFF + 64 * i, new Uint8Array(64).fill(OLD_BYTE), 0, 64);
    }
    sys.attach(0, new ProgramOpSource(driver(ctx, m, dev.base), 'driver'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!, sys = ctx.sys, p = ctx.params;
    const { engine, mem, dma } = sys.smmu;
    const coherentDma = engine.config.cohacc && p.dmaAttrs === 'wb';
    const expectStale = !coherentDma && p.clean === 'none';
    const fresh = m.seen.filter((s) => s.valid && s.seq === NEW_SEQ).length;
    const stale = m.seen.filter((s) => s.valid && s.seq === OLD_SEQ).length;
    const firstStale = m.seen.find((s) => s.seq !== NEW_SEQ);
    // What the device copied into DST, compared with the new payloads.
    let bytesNew = 0, bytesOld = 0;
    const buf = new Uint8Array(64);
    for (let i = 0; i < p.descriptors; i++) {
      sys.coherent.read(m.ram + DST_OFF + 64 * i, buf, 0, 64);
      for (const b of buf) { if (b === newByte(i)) bytesNew++; else if (b === OLD_BYTE) bytesOld++; }
    }
    const total = 64 * p.descriptors;
    const faults = m.jobs.filter((j) => j.status !== 'done').length;
    return {
      completed: { pass: outcome.endReason === 'done' && m.done && faults === 0, endReason: outcome.endReason, dmaJobs: m.jobs.length, faultedJobs: faults },
      descriptors: {
        // The expected outcome: stale descriptors exactly when the device does not snoop and the driver did not clean.
        pass: expectStale ? stale === p.descriptors && fresh === 0 : fresh === p.descriptors && stale === 0,
        expected: expectStale ? 'stale' : 'fresh', clean: p.clean, cohacc: engine.config.cohacc, dmaAttrs: p.dmaAttrs, coherentDma,
        written: p.descriptors, fresh, stale,
        ...(firstStale !== undefined ? { firstStale: { index: firstStale.index, seqSeen: firstStale.seq, seqWritten: NEW_SEQ, ringAddress: hex(m.ram + RING_OFF + 16 * firstStale.index) } } : {}),
      },
      payload: { pass: expectStale ? bytesOld === total : bytesNew === total, bytes: total, newBytes: bytesNew, staleBytes: bytesOld },
      timing: {
        pass: true,
        cleanCycles: m.cleanEnd - m.cleanStart, kickCycle: m.kickCycle, dmaCycles: m.dmaEnd - m.dmaStart,
        translations: dma.stats.translations, iotlbHits: dma.stats.tlbHits, descriptorReads: dma.stats.descriptorReads,
        translateCycles: dma.stats.translateCycles, dataCycles: dma.stats.dataCycles, dataWaitCycles: dma.stats.dataWaitCycles,
        coherentReads: mem.stats.coherentReads, nonCoherentReads: mem.stats.nonCoherentReads,
        coherentWrites: mem.stats.coherentWrites, nonCoherentWrites: mem.stats.nonCoherentWrites,
      },
    };
  },
});
