import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { DEVICE_nGnRnE, NORMAL_NC_OSH, NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { cleanInvalidateAllBySetWay } from '../src/hyp/index.js';
import { UserError, zSize } from '../src/sim/index.js';
import { dramRegion } from './regions.js';

/**
 * Seed 003 (KVM on X-Gene, 2013): the VMM writes a guest image through its cacheable mapping, the
 * guest vCPU starts with its MMU off and reads the image with Device (or Normal-NC) accesses, which
 * do not look in the caches. Whatever is still dirty above the point of coherency is invisible
 * to it. Which maintenance makes the image visible?
 *
 * - `va`: DC CIVAC on every line of the image cleans and invalidates "to the PoC" through every
 *   cache on the way, whatever it is (Arm ARM DDI 0487, "Data cache maintenance instructions").
 *   Always enough.
 * - `set-way`: DC CISW on every set and way of every level CLIDR_EL1 lists up to LoC, as Linux's
 *   __flush_dcache_all walks them. "For set/way operations, and for All (entire cache)
 *   operations, the point is defined to be to the next level of caching" (Arm ARM, quoted in the
 *   seed thread), and CLIDR lists only the L1D and the L2: the data lands in whatever sits below
 *   the L2. On neoverse-n1 that is the system cache *at* the PoC, which every access sees: enough.
 *   On xgene1 it is the L3 *above* the PoC, which MMU-off accesses bypass: the guest reads stale
 *   memory.
 * - `none`: no maintenance: the last lines written are certainly still dirty in the L1D, so the
 *   guest sees stale data.
 */
const Params = z.strictObject({
  /** Size of the image the writer loads (a whole number of cache lines). */
  bytes: zSize.default(64 * 1024),
  /** Maintenance the writer performs after writing and before the reader starts. */
  strategy: z.enum(['none', 'set-way', 'va']).default('set-way'),
  /**
   * The reader's attributes: `mmu-off` = Device-nGnRnE (a data access with SCTLR_EL1.M = 0 and
   * HCR_EL2.DC = 0, `AArch64.S1DisabledOutput`), `nc` = Normal Non-cacheable.
   */
  reader: z.enum(['mmu-off', 'nc']).default('mmu-off'),
});
type P = z.infer<typeof Params>;

const WB = NORMAL_WB_RWA_ISH;
const NC = NORMAL_NC_OSH;

/** Byte k of line i of the image: never 0, so a byte still at memory's initial zero reads as stale. */
const patternOf = (line: number, k: number): number => 1 + ((line * 131 + k * 7) % 255);

interface Marks {
  cmoStart: number; cmoEnd: number; cmoOps: number;
  /** Per level name: lines of the image dirty there after maintenance (from whereIs). */
  dirtyAt: Map<string, number>;
  /** Lines whose newest data was dirty above the PoC when the reader started. */
  dirtyAbovePocLines: number;
  staleBytes: number; staleLines: number; readBytes: number;
  /** Geometry read from CLIDR_EL1 / CCSIDR_EL1 for set/way, per level. */
  setWayLevels: { level: number; sets: number; ways: number; lineBytes: number }[];
}

/** Is a level (a whereIs name) above the point of coherency? The L3 is, when it is `before-poc`. */
function abovePoc(ctx: ScenarioContext<P>, level: string): boolean {
  return level !== 'system.l3' || ctx.sys.cfg.cache.l3.kind === 'before-poc';
}

function* writer(ctx: ScenarioContext<P>, base: number, flag: number, m: Marks): Program {
  const sys = ctx.sys, q = sys.q;
  const lb = sys.cfg.cache.lineBytes;
  const lines = ctx.params.bytes / lb;
  for (let i = 0; i < lines; i++) {
    const data = new Uint8Array(lb);
    for (let k = 0; k < lb; k++) data[k] = patternOf(i, k);
    yield prog.store(base + i * lb, lb, data, { attrs: WB });
  }
  yield prog.dsb();
  m.cmoStart = q.now;
  if (ctx.params.strategy === 'va') {
    for (let i = 0; i < lines; i++) { yield prog.dc('civac', base + i * lb, { attrs: WB }); m.cmoOps++; }
  } else if (ctx.params.strategy === 'set-way') {
    m.cmoOps += yield* cleanInvalidateAllBySetWay((l) => m.setWayLevels.push(l));
  }
  yield prog.dsb();
  m.cmoEnd = q.now;
  // Where the image sits now (a functional look, no simulated cost).
  for (let i = 0; i < lines; i++) {
    let above = false;
    for (const w of sys.caches.whereIs(base + i * lb)) {
      if (!w.endsWith(' dirty')) continue;
      const level = w.slice(0, -' dirty'.length);
      m.dirtyAt.set(level, (m.dirtyAt.get(level) ?? 0) + 1);
      if (abovePoc(ctx, level)) above = true;
    }
    if (above) m.dirtyAbovePocLines++;
  }
  // Start the vCPU: a flag in memory both sides access without caching.
  yield prog.store(flag, 8, 1, { attrs: NC });
  yield prog.dsb();
}

function* reader(ctx: ScenarioContext<P>, base: number, flag: number, m: Marks): Program {
  const lb = ctx.sys.cfg.cache.lineBytes;
  const attrs = ctx.params.reader === 'mmu-off' ? DEVICE_nGnRnE : NC;
  yield* prog.spinUntil(flag, 8, (r) => r.value === 1, { attrs });
  for (let i = 0; i < ctx.params.bytes / lb; i++) {
    const r = (yield prog.load(base + i * lb, lb, { attrs }))!;
    let stale = 0;
    for (let k = 0; k < lb; k++) if (r.bytes[k] !== patternOf(i, k)) stale++;
    m.staleBytes += stale;
    if (stale > 0) m.staleLines++;
    m.readBytes += lb;
  }
}

const marks = new WeakMap<object, Marks>();

/** What the architecture predicts the reader sees, and why. */
function predict(ctx: ScenarioContext<P>): { stale: boolean; why: string } {
  const l3 = ctx.sys.cfg.cache.l3, kind = l3.kind;
  switch (ctx.params.strategy) {
    case 'va': return { stale: false, why: 'DC CIVAC cleans every cache to the PoC, which the reader sees' };
    case 'set-way':
      if (kind === 'before-poc' && !l3.writebackAllocate && l3.inclusion !== 'exclusive') {
        // The image is written in whole lines (ownership without a fill), so the L3 holds no copy
        // for a write-back to update, and write-backs do not allocate there.
        return { stale: false, why: 'set/way pushes the L2 lines past the L3 above the PoC (cache.l3.writebackAllocate=false) to memory, the PoC' };
      }
      return kind === 'before-poc'
        ? { stale: true, why: 'set/way reaches only the CLIDR levels (L1D, L2) and pushes lines to the next level: the L3 above the PoC, which the reader bypasses' }
        : { stale: false, why: kind === 'none' ? 'set/way pushes the L2 lines to memory, the PoC' : 'set/way pushes the L2 lines into the system cache at the PoC, which the reader sees' };
    default: return { stale: true, why: 'without maintenance the last lines written are still dirty in the L1D, above the PoC' };
  }
}

export const scenario = defineScenario<P>({
  name: 'set-way-vs-l3',
  description: 'seed 003: a VMM writes a guest image cacheably, cleans it (none, set/way or by VA), and an MMU-off vCPU reads it; stale data or not, and the cost',
  platformSets: ['core.count=2'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys;
    const ram = dramRegion(sys, 'set-way-vs-l3');
    const lb = sys.cfg.cache.lineBytes;
    const { bytes } = ctx.params;
    if (bytes === 0 || bytes % lb !== 0) throw new UserError(`scenario.bytes: must be a positive multiple of the line size ${lb} (got ${bytes})`);
    // The flag sits on its own line just below the image, at the start of the region.
    const flag = ram.base, base = ram.base + 4096;
    if (base + bytes > ram.base + ram.size) throw new UserError(`scenario.bytes: the image needs more dram than memory.regions.${ram.name}.size = ${ram.size} (lower the one or raise the other)`);
    const m: Marks = { cmoStart: 0, cmoEnd: 0, cmoOps: 0, dirtyAt: new Map(), dirtyAbovePocLines: 0, staleBytes: 0, staleLines: 0, readBytes: 0, setWayLevels: [] };
    marks.set(ctx, m);
    sys.attach(0, new ProgramOpSource(writer(ctx, base, flag, m), 'vmm'));
    sys.attach(1, new ProgramOpSource(reader(ctx, base, flag, m), 'vcpu (mmu off)'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    const cfg = ctx.sys.cfg, c = cfg.cache;
    const { strategy, bytes } = ctx.params;
    const pred = predict(ctx);
    const levels = [...m.dirtyAt.keys()].sort();
    const dirtyInClidrLevels = levels.filter((l) => l !== 'system.l3').reduce((n, l) => n + m.dirtyAt.get(l)!, 0);
    // After maintenance, dirty lines may only sit where the strategy cannot reach or need not.
    const dirtyOk = strategy === 'va' ? m.dirtyAbovePocLines === 0
      : strategy === 'set-way' ? dirtyInClidrLevels === 0
        : m.dirtyAbovePocLines > 0;
    // Set/way must have covered exactly the levels and geometry the configuration has.
    const geometryOk = strategy !== 'set-way' || (m.setWayLevels.length === 2 && m.setWayLevels.every((g) => {
      const l = g.level === 1 ? c.l1d : c.l2;
      return g.lineBytes === c.lineBytes && g.ways === l.ways && g.sets === l.sizeBytes / (l.ways * c.lineBytes);
    }));
    return {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      staleBytes: {
        // The outcome the architecture predicts, and per line the mechanism: a line reads stale
        // exactly when its newest copy was still dirty above the PoC.
        pass: (m.staleBytes > 0) === pred.stale && m.staleLines === m.dirtyAbovePocLines && m.readBytes === bytes,
        bytes: m.staleBytes, of: bytes, staleLines: m.staleLines, dirtyAbovePocLines: m.dirtyAbovePocLines,
        predicted: pred.stale ? 'stale' : 'clean', why: pred.why, l3Kind: c.l3.kind,
      },
      dirtyLevel: {
        pass: dirtyOk,
        level: levels.length === 0 ? 'none' : levels.join('+'),
        lines: levels.map((l) => `${l}=${m.dirtyAt.get(l)!}`).join(' ') || 'none',
      },
      cmoCycles: {
        pass: strategy === 'none' ? m.cmoOps === 0 : m.cmoOps > 0 && m.cmoEnd > m.cmoStart && geometryOk,
        cycles: m.cmoEnd - m.cmoStart, ops: m.cmoOps,
        ...(strategy === 'set-way' ? { setWayLevels: m.setWayLevels.map((g) => `L${g.level} ${g.sets}x${g.ways}`).join(' ') } : {}),
      },
    };
  },
});
