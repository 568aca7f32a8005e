import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { UserError, zInt, zSize } from '../src/sim/index.js';
import { dramRegion } from './regions.js';

/**
 * A PE appends records to a log in persistent memory and makes each one durable before the next,
 * then the power fails: which records survive, and what did making them durable cost?
 *
 * The RAM is declared persistent memory whose persistence domain is the memory device
 * (`memory.regions.ram.pointOfPersistence=memory`, set by the scenario), so the point of
 * persistence lies past any system cache at the PoC. After writing a record the PE cleans its
 * lines with the chosen `strategy` and waits with DSB:
 *
 * - `cvap`: DC CVAP, clean to the point of persistence (FEAT_DPB; Arm ARM "DC CVAP"): every record
 *   survives. On a PE without FEAT_DPB (xgene1) the instruction is UNDEFINED and cleans nothing.
 * - `cvac`: DC CVAC, clean to the PoC: enough only where the PoC is the memory itself (no L3, or
 *   xgene1's L3 above the PoC); a system cache at the PoC (neoverse-n1, grace) keeps the lines
 *   and the power failure loses them.
 * - `none`: the records stay dirty in the L1D (the log is far smaller than it) and are lost.
 *
 * The power failure is modelled as reading what memory holds at the end (`System.caches.readMemory`):
 * what was still in any cache is gone.
 */
const Params = z.strictObject({
  records: zInt(1, 4096).default(32),
  /** Bytes per record (a size: 128, '1KiB'): a whole number of cache lines. */
  recordBytes: zSize.default(128),
  strategy: z.enum(['none', 'cvac', 'cvap']).default('cvap'),
});
type P = z.infer<typeof Params>;

const WB = NORMAL_WB_RWA_ISH;
/** Where the log starts in the dram region. */
const LOG_OFFSET = 0x10_0000;

/** Byte k of record i: never 0, so a byte memory never received reads as lost. */
const patternOf = (i: number, k: number): number => 1 + ((i * 37 + k * 11) % 255);

interface Tally { cycles: number[]; faults: number; cleaned: number }
const tallies = new WeakMap<object, { t: Tally; base: number }>();

function* logger(ctx: ScenarioContext<P>, base: number, t: Tally): Program {
  const { records, recordBytes, strategy } = ctx.params;
  const lb = ctx.sys.cfg.cache.lineBytes, q = ctx.sys.q;
  for (let i = 0; i < records; i++) {
    const at = base + i * recordBytes;
    for (let off = 0; off < recordBytes; off += lb) {
      const data = new Uint8Array(lb);
      for (let k = 0; k < lb; k++) data[k] = patternOf(i, off + k);
      yield prog.store(at + off, lb, data, { attrs: WB });
    }
    const t0 = q.now;
    if (strategy !== 'none') {
      for (let off = 0; off < recordBytes; off += lb) {
        const r = (yield prog.dc(strategy, at + off, { attrs: WB, wait: true }))!;
        if (r.ok) t.cleaned++; else t.faults++;
      }
    }
    yield prog.dsb();
    t.cycles.push(q.now - t0);
  }
}

/** What the architecture predicts survives, and why. */
function predict(ctx: ScenarioContext<P>): { survive: boolean; undefinedOps: boolean; why: string } {
  const cfg = ctx.sys.cfg, l3 = cfg.cache.l3.kind;
  switch (ctx.params.strategy) {
    case 'cvap':
      if (cfg.core.featDPB === false) return { survive: false, undefinedOps: true, why: 'no FEAT_DPB: DC CVAP is UNDEFINED and cleans nothing' };
      return { survive: true, undefinedOps: false, why: 'DC CVAP cleans to the point of persistence, the memory' };
    case 'cvac':
      return l3 === 'system-cache'
        ? { survive: false, undefinedOps: false, why: 'DC CVAC stops at the PoC, a system cache the power failure empties' }
        : { survive: true, undefinedOps: false, why: l3 === 'none' ? 'the PoC is the memory: DC CVAC reaches it' : 'the L3 sits above the PoC, so DC CVAC cleans through it to memory' };
    default:
      return { survive: false, undefinedOps: false, why: 'no maintenance: the records are still dirty in the L1D' };
  }
}

export const scenario = defineScenario<P>({
  name: 'pmem-persist',
  description: 'a PE appends records to persistent memory and makes each durable (DC CVAP, DC CVAC or nothing) before a power failure: which records survive, and the cost',
  platformSets: ['core.count=1', 'memory.regions.ram.pointOfPersistence=memory'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys;
    const lb = sys.cfg.cache.lineBytes;
    const { records, recordBytes } = ctx.params;
    const ram = dramRegion(sys, 'pmem-persist', LOG_OFFSET + records * recordBytes);
    if (recordBytes === 0 || recordBytes % lb !== 0) throw new UserError(`scenario.recordBytes: must be a positive multiple of the line size ${lb} (got ${recordBytes})`);
    if (records * recordBytes > sys.cfg.cache.l1d.sizeBytes / 2) {
      throw new UserError(`scenario.records x scenario.recordBytes: the log (${records * recordBytes} bytes) must fit in half the L1D (${sys.cfg.cache.l1d.sizeBytes / 2} bytes), so that only maintenance moves it`);
    }
    const base = ram.base + LOG_OFFSET;
    const t: Tally = { cycles: [], faults: 0, cleaned: 0 };
    tallies.set(ctx, { t, base });
    sys.attach(0, new ProgramOpSource(logger(ctx, base, t), 'logger'));
  },
  check(ctx, outcome) {
    const { t, base } = tallies.get(ctx)!;
    const { records, recordBytes, strategy } = ctx.params;
    const lines = recordBytes / ctx.sys.cfg.cache.lineBytes;
    const p = predict(ctx);
    // The power failure: only what memory holds is left.
    let survived = 0, lostBytes = 0;
    for (let i = 0; i < records; i++) {
      const m = ctx.sys.caches.readMemory(base + i * recordBytes, recordBytes);
      let lost = 0;
      for (let k = 0; k < recordBytes; k++) if (m[k] !== patternOf(i, k)) lost++;
      lostBytes += lost;
      if (lost === 0) survived++;
    }
    const ops = strategy === 'none' ? 0 : records * lines;
    const mean = t.cycles.reduce((a, x) => a + x, 0) / Math.max(1, t.cycles.length);
    return {
      completed: { pass: outcome.endReason === 'done' && t.cycles.length === records, endReason: outcome.endReason },
      survived: {
        pass: survived === (p.survive ? records : 0) && lostBytes === (p.survive ? 0 : records * recordBytes),
        records: survived, of: records, lostBytes, predicted: p.survive ? 'all' : 'none', why: p.why,
        l3Kind: ctx.sys.cfg.cache.l3.kind,
      },
      maintenance: {
        pass: p.undefinedOps ? t.faults === ops && t.cleaned === 0 : t.faults === 0 && t.cleaned === ops,
        ops, undefinedInstructions: t.faults,
      },
      // Cycles from a record's last store to the end of its DSB: what durability costs per record.
      cyclesPerRecord: { pass: t.cycles.length === records, mean: Math.round(mean * 10) / 10, max: Math.max(0, ...t.cycles) },
    };
  },
});
