import { z } from 'zod';
import { ProgramOpSource, prog, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { NORMAL_NC_OSH, NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { UserError, zInt } from '../src/sim/index.js';
import { dramRegion } from './regions.js';

/**
 * Mismatched memory attributes (Arm ARM DDI 0487, "Mismatched memory attributes"; DESIGN.md,
 * "Coherence"): agent A writes a line through a cacheable Write-Back alias, agent B then writes
 * the same line through a Non-cacheable alias. B's write does not snoop, so A's dirty copy stays.
 * When A's line is later written back (evicted by capacity, or cleaned by DC CIVAC), it overwrites
 * B's newer data at the point of coherency: B reads back A's older value. B's update is lost.
 * Flags in Non-cacheable memory order the steps: A writes, B writes, A writes back, B reads.
 */
const Params = z.strictObject({
  /** How A's dirty line leaves its caches: streamed out by same-set loads, or DC CIVAC. */
  eviction: z.enum(['capacity', 'clean']).default('capacity'),
  /**
   * For `capacity`: lines A loads that map to the same set as the target in every cache level;
   * 0 = twice the largest associativity (enough for LRU and pseudo-LRU alike), repeated with new
   * lines while a hidden level still holds the dirty line (up to 8 rounds: see evictionPlan).
   */
  evictionLines: zInt(0, 4096).default(0),
});
type P = z.infer<typeof Params>;

const WB = NORMAL_WB_RWA_ISH;
const NC = NORMAL_NC_OSH;
/** What A (cacheable) and B (non-cacheable) write: distinct, non-zero, below 2^53. */
const VALUE_A = 0xaaaa_aaaa_aaaa;
const VALUE_B = 0xbbbb_bbbb_bbbb;

interface Marks {
  /** The target line's address. */
  x: number;
  whereAtB: string[]; whereBefore: string[]; whereAfter: string[];
  valueRead: number; readOk: boolean; bWriteDone: number; writeBackDone: number; evictionLoads: number;
}

const hex = (v: number): string => `0x${v.toString(16)}`;

/** Rounds of same-set loads the default eviction may take (it stops once the line is out). */
const MAX_ROUNDS = 8;

/**
 * How A streams its line out: the smallest address stride that maps to the same set in every
 * level (the largest of size/ways), the loads per round, and the most rounds. One round is enough
 * when every level fills on demand with LRU-like replacement; more are needed when a level picks
 * its victims at random (it may spare the line any number of times) or when the line's own
 * write-back refreshes it in the level below (writebackTouches, an exclusive level: each such level
 * then keeps it for its own ways' worth of loads after the level above let it go). The default
 * takes as many of MAX_ROUNDS as the dram region has room for.
 */
function evictionPlan(ctx: ScenarioContext<P>): { stride: number; perRound: number; rounds: number } {
  const c = ctx.sys.cfg.cache;
  const levels = [c.l1d, c.l2, ...(c.l3.kind !== 'none' ? [c.l3] : [])];
  const stride = Math.max(...levels.map((l) => l.sizeBytes / l.ways));
  const set = ctx.params.evictionLines;
  if (set !== 0) return { stride, perRound: set, rounds: 1 };
  const perRound = defaultLinesPerRound(ctx);
  // The target is one stride in and the eviction lines follow it: (n + 2) strides must fit.
  const ram = dramRegion(ctx.sys, 'mismatched-alias');
  const fit = Math.floor((ram.size / stride - 2) / perRound);
  return { stride, perRound, rounds: Math.max(1, Math.min(MAX_ROUNDS, fit)) };
}

/** The default eviction lines per round: twice the largest associativity (enough for LRU and pseudo-LRU). */
function defaultLinesPerRound(ctx: ScenarioContext<P>): number {
  const c = ctx.sys.cfg.cache;
  return 2 * Math.max(c.l1d.ways, c.l2.ways, c.l3.kind !== 'none' ? c.l3.ways : 0);
}

/** Is a level (a whereIs name) one that Non-cacheable accesses do not see? Everything but a system cache at the PoC. */
function hiddenFromNc(ctx: ScenarioContext<P>, level: string): boolean {
  return level !== 'system.l3' || ctx.sys.cfg.cache.l3.kind === 'before-poc';
}

/** The dirty copies among `where` (whereIs names) that Non-cacheable accesses do not see. */
function dirtyHidden(ctx: ScenarioContext<P>, where: string[]): string[] {
  return where.filter((w) => w.endsWith(' dirty') && hiddenFromNc(ctx, w.slice(0, -' dirty'.length)));
}

function* agentA(ctx: ScenarioContext<P>, x: number, flags: number[], m: Marks): Program {
  const sys = ctx.sys;
  yield prog.store(x, 8, VALUE_A, { attrs: WB });
  yield prog.dsb();
  yield prog.store(flags[0]!, 8, 1, { attrs: NC });             // "A has written"
  yield prog.dsb();
  yield* prog.spinUntil(flags[1]!, 8, (r) => r.value === 1, { attrs: NC });   // B has written
  m.whereBefore = sys.caches.whereIs(x);
  if (ctx.params.eviction === 'clean') {
    yield prog.dc('civac', x, { attrs: WB });
    yield prog.dsb();
  } else {
    const { stride, perRound, rounds } = evictionPlan(ctx);
    for (let r = 0; r < rounds; r++) {
      for (let k = 1; k <= perRound; k++) { yield prog.load(x + (r * perRound + k) * stride, 8, { attrs: WB, wait: false }); m.evictionLoads++; }
      yield prog.dsb();
      if (dirtyHidden(ctx, sys.caches.whereIs(x)).length === 0) break;   // a functional look: no simulated cost
    }
  }
  m.writeBackDone = sys.q.now;
  m.whereAfter = sys.caches.whereIs(x);
  yield prog.store(flags[2]!, 8, 1, { attrs: NC });             // "A's line has gone"
  yield prog.dsb();
}

function* agentB(ctx: ScenarioContext<P>, x: number, flags: number[], m: Marks): Program {
  yield* prog.spinUntil(flags[0]!, 8, (r) => r.value === 1, { attrs: NC });
  m.whereAtB = ctx.sys.caches.whereIs(x);
  yield prog.store(x, 8, VALUE_B, { attrs: NC });
  yield prog.dsb();
  m.bWriteDone = ctx.sys.q.now;
  yield prog.store(flags[1]!, 8, 1, { attrs: NC });
  yield prog.dsb();
  yield* prog.spinUntil(flags[2]!, 8, (r) => r.value === 1, { attrs: NC });
  const r = (yield prog.load(x, 8, { attrs: NC }))!;
  m.valueRead = r.value;
  m.readOk = r.ok;
}

const marks = new WeakMap<object, Marks>();

export const scenario = defineScenario<P>({
  name: 'mismatched-alias',
  description: 'a cacheable and a non-cacheable alias of one line: A writes WB, B writes NC, A\'s dirty line is written back later and B\'s update is lost',
  platformSets: ['core.count=2'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys;
    const ram = dramRegion(sys, 'mismatched-alias');
    const lb = sys.cfg.cache.lineBytes;
    const { stride, perRound, rounds } = evictionPlan(ctx);
    const n = perRound * rounds;
    // Flags on their own lines at the start of the region; the target one set-stride in, so that
    // the eviction lines x + k * stride share its set in every level.
    const flags = [ram.base, ram.base + lb, ram.base + 2 * lb];
    const x = ram.base + stride;
    if (x + (n + 1) * stride > ram.base + ram.size) throw new UserError(`scenario.evictionLines: ${n} lines ${stride} bytes apart need more dram than memory.regions.${ram.name}.size = ${ram.size} (lower the one or raise the other)`);
    const m: Marks = { x, whereAtB: [], whereBefore: [], whereAfter: [], valueRead: -1, readOk: false, bWriteDone: 0, writeBackDone: 0, evictionLoads: 0 };
    marks.set(ctx, m);
    sys.attach(0, new ProgramOpSource(agentA(ctx, x, flags, m), 'A (cacheable alias)'));
    sys.attach(1, new ProgramOpSource(agentB(ctx, x, flags, m), 'B (non-cacheable alias)'));
  },
  check(ctx, outcome) {
    const m = marks.get(ctx)!;
    // The loss needs both halves: A's line dirty where B's non-cacheable write cannot see it when
    // B writes, and that data written back to where B's read looks before B reads.
    const dirtyWhenBWrote = dirtyHidden(ctx, m.whereAtB).length > 0;
    const writtenBack = dirtyHidden(ctx, m.whereAfter).length === 0;
    const lost = m.readOk && m.valueRead === VALUE_A;
    const show = (w: string[]): string => (w.length === 0 ? 'memory only' : w.join(', '));
    // Fewer eviction lines than the default asked for may leave the line dirty where it was: then
    // nothing was written back and nothing can have been lost yet (the loss is still to come).
    const plan = evictionPlan(ctx);
    const short = ctx.params.eviction === 'capacity' && ctx.params.evictionLines !== 0 && ctx.params.evictionLines < defaultLinesPerRound(ctx);
    const stillHidden = short && !writtenBack;
    return {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      lostUpdate: {
        // The architecture predicts the loss (no coherence between the aliases); the check also
        // demands that it happened for the modelled reason.
        pass: stillHidden ? !lost : lost && dirtyWhenBWrote && writtenBack && m.writeBackDone > m.bWriteDone,
        lost, predicted: !stillHidden,
        writtenByA: hex(VALUE_A), writtenByB: hex(VALUE_B), readByB: m.readOk ? hex(m.valueRead) : 'fault',
        memoryNow: hex(le64(ctx.sys.caches.readMemory(m.x, 8))),
      },
      writeBack: {
        pass: dirtyWhenBWrote && (writtenBack || stillHidden),
        eviction: ctx.params.eviction,
        ...(ctx.params.eviction === 'capacity' ? { evictionLoads: m.evictionLoads, setStrideBytes: plan.stride } : {}),
        ...(stillHidden ? { notWrittenBack: `scenario.evictionLines=${ctx.params.evictionLines} (fewer than the default ${defaultLinesPerRound(ctx)}) left the line dirty` } : {}),
        whereWhenBWrote: show(m.whereAtB),
        whereBeforeWriteBack: show(m.whereBefore),
        whereAfterWriteBack: show(m.whereAfter),
      },
    };
  },
});

/** A little-endian 8-byte value (exact below 2^53). */
function le64(b: Uint8Array): number {
  let v = 0;
  for (let k = 7; k >= 0; k--) v = v * 256 + b[k]!;
  return v;
}
