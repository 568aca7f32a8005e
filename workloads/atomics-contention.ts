import { z } from 'zod';
import { ProgramOpSource, prog, type Fault, type Program } from '../src/core/index.js';
import { defineScenario, type ScenarioContext } from '../src/platform/index.js';
import { NORMAL_NC_OSH, NORMAL_WB_RWA_ISH } from '../src/mem/index.js';
import { UserError, zInt } from '../src/sim/index.js';
import { dramRegion } from './regions.js';

/**
 * N PEs increment one shared 8-byte counter M times each, with LSE LDADD or an LDXR/STXR retry
 * loop, through a Write-Back or a Normal Non-cacheable mapping (a hypervisor that maps guest RAM
 * or a device's memory NC, and a guest that does atomics on it).
 *
 * On Write-Back memory the atomics run near, in the L1D, under coherence: the count is exact. On
 * Non-cacheable memory the platform decides, per memory region (DESIGN.md "Atomics and
 * exclusives"): `ncAtomics` = far (performed at the home node / memory: exact), abort (an
 * external abort: nothing is written) or unsupported (the "Unsupported Exclusive or Atomic
 * access" fault, DFSC 0b110101); on a PE without FEAT_LSE (xgene1, ARMv8.0) LDADD itself is
 * UNDEFINED wherever it points; exclusives need the region's global monitor, and without one
 * `exclusivesWithoutMonitor` says whether STXR always fails (the loop would spin forever: it is
 * bounded by `maxAttempts`) or aborts. A faulting increment is counted and skipped, as if the
 * guest's fault handler stepped over it.
 */
const Params = z.strictObject({
  /** PEs taking part (PE 0 .. pes-1); at most core.count. */
  pes: zInt(1, 256).default(4),
  /** Increments per PE. */
  increments: zInt(1, 1_000_000).default(100),
  method: z.enum(['ldadd', 'llsc']).default('ldadd'),
  /** `wb` Normal Write-Back Inner Shareable; `nc` Normal Non-cacheable. */
  memory: z.enum(['wb', 'nc']).default('wb'),
  /**
   * LDXR/STXR attempts per increment before the program gives up on it; 0 = (pes - 1) x
   * increments + 1. That is the most a correct monitor can need: a STXR fails only when another
   * PE's store reached the counter between it and its LDXR, so the failures of one increment are
   * bounded by the other PEs' increments. It ends the run when no STXR can ever succeed.
   */
  maxAttempts: zInt(0, 1_000_000).default(0),
});
type P = z.infer<typeof Params>;

type FaultKind = 'external-abort' | 'unsupported-atomic' | 'alignment' | 'undefined-instruction';
const countFault = (t: Tally, f: Fault | undefined): void => {
  if (f === 'external-abort' || f === 'unsupported-atomic' || f === 'alignment' || f === 'undefined-instruction') t.faults[f]++;
  else throw new Error(`atomics-contention: unexpected ${f ?? 'unknown'} fault (no MMU here)`);
};

interface Tally {
  faults: Record<FaultKind, number>;
  stxrFailures: number;
  /** The most STXR failures one increment needed (starvation shows here). */
  worstRetries: number;
  givenUp: number;
  done: number;
  start: number[];
  finish: number[];
}

function* incrementer(ctx: ScenarioContext<P>, pe: number, counter: number, t: Tally): Program {
  const { increments, method } = ctx.params;
  const maxAttempts = attemptsOf(ctx.params);
  const attrs = ctx.params.memory === 'wb' ? NORMAL_WB_RWA_ISH : NORMAL_NC_OSH;
  const q = ctx.sys.q;
  t.start[pe] = q.now;
  for (let i = 0; i < increments; i++) {
    if (method === 'ldadd') {
      const r = (yield prog.atomic('add', counter, 8, 1, { attrs }))!;
      if (r.ok) t.done++; else countFault(t, r.fault);
      continue;
    }
    let attempt = 0;
    for (; attempt < maxAttempts; attempt++) {
      const old = (yield prog.ldxr(counter, 8, { attrs }))!;
      if (!old.ok) { countFault(t, old.fault); break; }
      const st = (yield prog.stxr(counter, 8, old.value + 1, { attrs }))!;
      if (!st.ok) { countFault(t, st.fault); break; }
      if (st.value === 0) { t.done++; break; }
      t.stxrFailures++;
    }
    if (attempt > t.worstRetries) t.worstRetries = attempt;
    if (attempt === maxAttempts) { t.givenUp++; yield prog.clrex(); }
  }
  t.finish[pe] = q.now;
}

/** LDXR/STXR attempts that guarantee an increment completes: each other increment can spoil one. */
const progressBound = (p: { pes: number; increments: number }): number => (p.pes - 1) * p.increments + 1;
export const attemptsOf = (p: { pes: number; increments: number; maxAttempts: number }): number => (p.maxAttempts === 0 ? progressBound(p) : p.maxAttempts);
/**
 * Whether, with an exact monitor, an LDXR/STXR increment may give up (and go uncounted): a
 * scenario.maxAttempts below the progress bound; the rest of the count must still be exact.
 */
export function mayGiveUp(p: { pes: number; increments: number; maxAttempts: number }): string | undefined {
  return p.maxAttempts !== 0 && p.maxAttempts < progressBound(p)
    ? `scenario.maxAttempts=${p.maxAttempts} is below the ${progressBound(p)} attempts that guarantee progress: an increment may give up, uncounted`
    : undefined;
}

/** What the architecture and the region's properties predict. */
interface Prediction {
  count: number;
  /** Every increment faults with this kind, or none does. */
  faultKind: FaultKind | 'none';
  /** STXR failures: an exact number, or 'any' (contention retries). */
  stxrFailures: number | 'any';
  givenUp: number;
  /** Set (the reason) when contention may make increments give up: the count is then those that succeeded. */
  mayGiveUp?: string;
  why: string;
}

function predict(ctx: ScenarioContext<P>, region: { ncAtomics: string; globalMonitor: boolean; exclusivesWithoutMonitor?: string | undefined }): Prediction {
  const { pes, increments, method, memory } = ctx.params;
  const maxAttempts = attemptsOf(ctx.params);
  const all = pes * increments;
  const giveUp = method === 'llsc' ? mayGiveUp(ctx.params) : undefined;
  const exact = (why: string): Prediction => ({ count: all, faultKind: 'none', stxrFailures: method === 'llsc' ? 'any' : 0, givenUp: 0, why, ...(giveUp !== undefined ? { mayGiveUp: giveUp } : {}) });
  const faulting = (kind: FaultKind, why: string): Prediction => ({ count: 0, faultKind: kind, stxrFailures: 0, givenUp: 0, why });
  if (method === 'ldadd' && !(ctx.sys.cfg.core.featLSE ?? true)) return faulting('undefined-instruction', 'core.featLSE=false (an ARMv8.0 PE): LDADD is UNDEFINED, nothing is accessed');
  if (memory === 'wb') return exact(method === 'ldadd' ? 'near atomics in the L1D on a unique line' : 'the local monitor and coherence: a lost STXR retries');
  if (method === 'ldadd') {
    if (region.ncAtomics === 'far') return exact("region ncAtomics=far: performed at the home node / memory");
    if (region.ncAtomics === 'abort') return faulting('external-abort', 'region ncAtomics=abort: the interconnect refuses the atomic');
    return faulting('unsupported-atomic', 'region ncAtomics=unsupported: Unsupported Exclusive or Atomic access');
  }
  if (region.globalMonitor) return exact('region globalMonitor=true: the home node tracks the exclusives');
  if (region.exclusivesWithoutMonitor === 'abort') return faulting('external-abort', 'no global monitor, exclusivesWithoutMonitor=abort: STXR aborts');
  return { count: 0, faultKind: 'none', stxrFailures: all * maxAttempts, givenUp: all, why: 'no global monitor, exclusivesWithoutMonitor=fail: every STXR fails; each increment gives up after maxAttempts' };
}

const tallies = new WeakMap<object, { t: Tally; counter: number }>();

const r3 = (x: number): number => Math.round(x * 1000) / 1000;

export const scenario = defineScenario<P>({
  name: 'atomics-contention',
  description: 'N PEs increment one counter with LDADD or LDXR/STXR on Write-Back or Non-cacheable memory; the count, the faults and the cost follow the region',
  // Eight PEs so that up to 8 can take part without --set core.count (and xgene1's 2-PE clusters divide it).
  platformSets: ['core.count=8'],
  params: Params,
  setup(ctx) {
    const sys = ctx.sys;
    const { pes } = ctx.params;
    if (pes > sys.pes.length) throw new UserError(`scenario.pes: ${pes} PEs need core.count >= ${pes} (the platform has ${sys.pes.length}; add --set core.count=${pes})`);
    const ram = dramRegion(sys, 'atomics-contention', 0x2000);
    const counter = ram.base + 0x1000;
    const t: Tally = { faults: { 'external-abort': 0, 'unsupported-atomic': 0, alignment: 0, 'undefined-instruction': 0 }, stxrFailures: 0, worstRetries: 0, givenUp: 0, done: 0, start: [], finish: [] };
    tallies.set(ctx, { t, counter });
    for (let pe = 0; pe < pes; pe++) sys.attach(pe, new ProgramOpSource(incrementer(ctx, pe, counter, t), `incrementer ${pe}`));
  },
  check(ctx, outcome) {
    const { t, counter } = tallies.get(ctx)!;
    const sys = ctx.sys;
    const { pes, increments, method } = ctx.params;
    const ram = sys.map.regions.find((r) => r.kind === 'dram')!;
    const p = predict(ctx, ram);
    const b = sys.caches.readCoherent(counter, 8);
    let count = 0;
    for (let k = 7; k >= 0; k--) count = count * 256 + b[k]!;
    const all = pes * increments;
    const faultsTotal = t.faults['external-abort'] + t.faults['unsupported-atomic'] + t.faults.alignment + t.faults['undefined-instruction'];
    const faultsOk = p.faultKind === 'none' ? faultsTotal === 0 : t.faults[p.faultKind] === all && faultsTotal === all;
    const perPe = t.finish.map((f, i) => (f - t.start[i]!) / increments);
    const span = Math.max(...t.finish) - Math.min(...t.start);
    return {
      completed: { pass: outcome.endReason === 'done' && t.finish.length === pes, endReason: outcome.endReason },
      count: {
        pass: p.mayGiveUp !== undefined ? count === t.done && t.done + t.givenUp === all : count === p.count && t.done === p.count,
        count, expected: p.mayGiveUp !== undefined ? `${all} less those given up` : p.count, increments: all, why: p.mayGiveUp !== undefined ? `${p.why}; ${p.mayGiveUp}` : p.why,
        region: `ncAtomics=${ram.ncAtomics} globalMonitor=${ram.globalMonitor} exclusivesWithoutMonitor=${ram.exclusivesWithoutMonitor ?? 'fail'}`,
      },
      aborts: {
        pass: faultsOk,
        externalAbort: t.faults['external-abort'], unsupportedAtomic: t.faults['unsupported-atomic'], alignment: t.faults.alignment,
        undefinedInstruction: t.faults['undefined-instruction'],
        expected: p.faultKind === 'none' ? 'none' : `${all} x ${p.faultKind}`,
      },
      stxrFailures: {
        pass: (p.stxrFailures === 'any' || t.stxrFailures === p.stxrFailures) && (p.mayGiveUp !== undefined || t.givenUp === p.givenUp) && (method === 'llsc' || t.stxrFailures === 0),
        failures: t.stxrFailures, worstRetries: t.worstRetries, givenUp: t.givenUp, expected: p.stxrFailures, expectedGivenUp: p.mayGiveUp !== undefined ? 'any' : p.givenUp, maxAttempts: attemptsOf(ctx.params),
      },
      cyclesPerIncrement: {
        pass: t.finish.length === pes,
        // Per PE: how long one increment takes under contention (mean over the PEs); for the
        // system: cycles per increment of the whole run, all PEs together.
        perPe: r3(perPe.reduce((a, x) => a + x, 0) / Math.max(1, perPe.length)),
        system: r3(span / all),
        cycles: span,
      },
    };
  },
});
