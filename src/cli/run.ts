import { basename, dirname } from 'node:path';
import { existsSync, statSync } from 'node:fs';
import { DEFAULT_TIMELINE_MAX_EVENTS, Timeline, parseTimelineWindow } from '../sim/index.js';
import { UserError, sortKeys, tuneV8 } from '../sim/index.js';
import { resolveConfig } from '../sim/config.js';
import { PRESETS, DEFAULT_PLATFORM, PlatformSchema, System, type Scenario, type ScenarioContext, type Check, type PlatformConfig, type RunOutcome } from '../platform/index.js';
import { TraceReader, TraceOpSource, openTraceCursors } from '../core/index.js';
import { SCENARIOS } from '../../workloads/index.js';
import { startProgress, type ProgressBar } from './progress.js';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';

/** Flags shared by run and replay. */
export interface RunFlags {
  platform: string | undefined;
  sets: string[];
  config: string | undefined;
  seed: number;
  maxCycles: number | undefined;
  json: boolean;
  /** --timeline and its bounds (checked by `timelineFlags` before anything runs). */
  timeline?: TimelineFlags;
}

/** Where to write the run's trace-event file and what to keep (cycles [start, end), at most maxEvents). */
export interface TimelineFlags {
  readonly path: string;
  readonly start: number;
  readonly end: number;
  readonly maxEvents: number;
}

/**
 * Checks --timeline, --timeline-window and --timeline-max-events together, before the run: one-line
 * UserErrors naming the flag (so nothing is written on bad input).
 */
export function timelineFlags(path: string | undefined, window: string | undefined, maxEvents: number | undefined): TimelineFlags | undefined {
  if (path === undefined) {
    if (window !== undefined) throw new UserError('--timeline-window needs --timeline FILE');
    if (maxEvents !== undefined) throw new UserError('--timeline-max-events needs --timeline FILE');
    return undefined;
  }
  if (path === '') throw new UserError('--timeline: expected a file name');
  const dir = dirname(resolve(path));
  if (!existsSync(dir) || !statSync(dir).isDirectory()) throw new UserError(`--timeline: directory '${dir}' does not exist`);
  const { start, end } = window === undefined ? { start: 0, end: Number.POSITIVE_INFINITY } : parseTimelineWindow(window);
  return { path, start, end, maxEvents: maxEvents ?? DEFAULT_TIMELINE_MAX_EVENTS };
}

function startTimeline(sys: System, f: TimelineFlags | undefined): Timeline | undefined {
  if (f === undefined) return undefined;
  const tl = new Timeline({ start: f.start, end: f.end, maxEvents: f.maxEvents });
  sys.setTimeline(tl);
  return tl;
}

/** Writes the timeline at the end of the run; says so on stderr unless the output is --json. */
function finishTimeline(tl: Timeline | undefined, f: TimelineFlags | undefined, json: boolean): void {
  if (tl === undefined || f === undefined) return;
  tl.write(f.path);
  if (!json) process.stderr.write(`timeline: ${tl.count} events in ${f.path}${tl.truncated ? ` (truncated at --timeline-max-events ${f.maxEvents})` : ''}; open it in https://ui.perfetto.dev (1 cycle = 1 ns)\n`);
}

/** Resolves a scenario argument that is a path to a module. */
export async function importScenarioModule(path: string): Promise<unknown> {
  try {
    return await import(pathToFileURL(resolve(path)).href);
  } catch (e) {
    throw new UserError(`scenario '${path}': cannot load module (${e instanceof Error ? e.message.split('\n')[0] : String(e)})`);
  }
}

/** Everything a run prints, before formatting. `host` is the only part that is not deterministic. */
export interface RunReport {
  scenario: string;
  platform: string;
  seed: number;
  cycles: number;
  verdict: 'pass' | 'fail';
  end: { reason: string; diagnosis?: string };
  params: Record<string, unknown>;
  checks: Record<string, Check>;
  stats: Record<string, unknown>;
  ops?: number;
  host: Record<string, unknown>;
}

async function findScenario(arg: string): Promise<Scenario<any>> {
  const named = SCENARIOS.find((s) => s.name === arg);
  if (named) return named;
  if (/[/\\]|\.[cm]?js$/.test(arg) && existsSync(arg)) {
    const mod = (await importScenarioModule(arg)) as { scenario?: Scenario<any> };
    if (!mod.scenario || typeof mod.scenario.setup !== 'function') throw new UserError(`scenario '${arg}': the module exports no 'scenario'`);
    return mod.scenario;
  }
  throw new UserError(`unknown scenario '${arg}' (accepted: ${SCENARIOS.map((s) => s.name).join(', ')}, or a path to a scenario module)`);
}

function platformOf(name: string | undefined, fallback: string): [string, PlatformConfig] {
  const n = name ?? fallback;
  const p = PRESETS[n];
  if (!p) throw new UserError(`--platform must be one of ${Object.keys(PRESETS).join(', ')} (got '${n}')`);
  return [n, p];
}

function splitSets(sets: readonly string[]): { platform: string[]; scenario: string[] } {
  const platform: string[] = [], scenario: string[] = [];
  for (const s of sets) (s.startsWith('scenario.') ? scenario : platform).push(s.startsWith('scenario.') ? s.slice('scenario.'.length) : s);
  return { platform, scenario };
}

export async function runScenarioCommand(arg: string, flags: RunFlags): Promise<number> {
  const { report, timeline } = await runScenarioTimed(arg, flags, flags.json);
  finishTimeline(timeline, flags.timeline, flags.json);
  return emit(report, flags.json);
}

/**
 * Runs one scenario in this thread and returns its report (`flags.json` is not read); with
 * `flags.timeline` the trace-event file is written too. Throws UserError on bad input.
 */
export async function runScenario(arg: string, flags: Omit<RunFlags, 'json'>): Promise<RunReport> {
  const { report, timeline } = await runScenarioTimed(arg, flags, true);
  finishTimeline(timeline, flags.timeline, true);
  return report;
}

/** `quiet` true: no progress bar (--json, or a worker of a sweep). */
async function runScenarioTimed(arg: string, flags: Omit<RunFlags, 'json'>, quiet: boolean): Promise<{ report: RunReport; timeline: Timeline | undefined }> {
  const sc = await findScenario(arg);
  const [platformName, preset] = platformOf(flags.platform, sc.platform ?? DEFAULT_PLATFORM);
  const sets = splitSets(flags.sets);
  const translation = sc.translation ?? 'flat';
  // The presets translate flat; a vmsa scenario switches its platform over as its platformSets would.
  const own = translation === 'vmsa' ? ['mmu.translation=vmsa'] : [];
  const cfg = resolveConfig(PlatformSchema, preset, { file: flags.config, sets: [...own, ...(sc.platformSets ?? []), ...sets.platform] });
  if (translation !== 'either' && cfg.mmu.translation !== translation) {
    throw new UserError(`mmu.translation: expected ${translation} for ${sc.name} (${translation === 'flat' ? 'its accesses carry their own attributes' : 'its guests run on page tables and stage 2'}; got ${cfg.mmu.translation})`);
  }
  const params = resolveConfig(sc.params, {}, { sets: sets.scenario, root: 'scenario' }) as Record<string, unknown>;
  const t0 = performance.now();
  const sys = new System(cfg, flags.seed);
  try {
    const timeline = startTimeline(sys, flags.timeline);
    const ctx: ScenarioContext<unknown> = { sys, params, seed: flags.seed };
    sc.setup(ctx);
    // Simulated cycles, against --max-cycles when given (the only end known before the run).
    const bar = startProgress(quiet, { label: sc.name, unit: 'cycles', total: flags.maxCycles });
    const outcome = runWithProgress(sys, flags.maxCycles, bar, () => sys.q.now);
    const checks = sc.check(ctx, outcome);
    await sys.close();   // the SMMU worker's last counters into the stats, and the worker stopped
    return { report: makeReport(sc.name, platformName, flags.seed, params, sys, outcome, checks, t0), timeline };
  } finally {
    await sys.close();
  }
}

export async function runReplayCommand(path: string, flags: RunFlags): Promise<number> {
  tuneV8();                    // a long trace replay: larger inlining budgets pay (src/sim/host-tuning.ts)
  const [platformName, preset] = platformOf(flags.platform, DEFAULT_PLATFORM);
  const sets = splitSets(flags.sets);
  if (sets.scenario.length > 0) throw new UserError(`replay: unknown key 'scenario.${sets.scenario[0]}' (replay has no scenario parameters)`);
  const reader = TraceReader.open(path);
  let prefetch: { close(): void } | undefined;
  try {
    const h = reader.header;
    // One PE per trace agent unless the user sizes the platform (its other PEs would sit idle).
    const userSizes = sets.platform.some((s) => s.startsWith('core.count='));
    const cfg = resolveConfig(PlatformSchema, preset, { file: flags.config, sets: [...(userSizes ? [] : [`core.count=${Math.max(1, h.agents)}`]), ...sets.platform] });
    if (h.agents > cfg.core.count) throw new UserError(`replay: the trace has ${h.agents} agents but platform '${platformName}' has core.count=${cfg.core.count} (set core.count to at least ${h.agents})`);
    const t0 = performance.now();
    const sys = new System(cfg, flags.seed);
    const timeline = startTimeline(sys, flags.timeline);
    let fold: { base: number; size: number } | undefined;
    if (h.addressKind === 'virtual') {
      const ram = sys.map.regions.find((r) => r.kind === 'dram');
      if (!ram) throw new UserError(`replay: platform '${platformName}' has no dram region to place a virtual-address trace in`);
      fold = { base: ram.base, size: 2 ** Math.floor(Math.log2(ram.size)) };
    }
    // Chunks decoded by worker threads ahead of the run when a core is free for them (trace-prefetch.ts).
    const opened = openTraceCursors(reader);
    prefetch = opened;
    for (let a = 0; a < h.agents; a++) sys.attach(a, new TraceOpSource(opened.cursors[a]!, `${basename(path)}#${a}`, fold));
    // Ops retired of the trace's (its footer counts them per agent).
    let total = 0;
    for (let a = 0; a < h.agents; a++) total += reader.opCount(a);
    const bar = startProgress(flags.json, { label: basename(path), unit: 'ops', total });
    const outcome = runWithProgress(sys, flags.maxCycles, bar, () => { let n = 0; for (const pe of sys.pes) n += pe.stats.ops; return n; });
    let ops = 0;
    for (const pe of sys.pes) ops += pe.stats.loads + pe.stats.stores + pe.stats.fetches;
    const checks: Record<string, Check> = {
      completed: { pass: outcome.endReason === 'done', endReason: outcome.endReason },
      externalAborts: { pass: true, count: sys.pes.reduce((n, p) => n + p.stats.externalAborts, 0) },
    };
    const report = makeReport(`replay:${basename(path)}`, platformName, flags.seed, {}, sys, outcome, checks, t0);
    report.ops = ops;
    finishTimeline(timeline, flags.timeline, flags.json);
    return emit(report, flags.json);
  } finally {
    prefetch?.close();
    reader.close();
  }
}

/** sys.run, updating `bar` (if any) with `done()` from the run loop, and clearing it at the end. */
function runWithProgress(sys: System, maxCycles: number | undefined, bar: ProgressBar | undefined, done: () => number): RunOutcome {
  if (bar === undefined) return sys.run({ maxCycles });
  try {
    const outcome = sys.run({ maxCycles, onProgress: () => bar.update(done()) });
    bar.update(done());
    return outcome;
  } finally {
    bar.stop();
  }
}

function makeReport(scenario: string, platform: string, seed: number, params: Record<string, unknown>, sys: System, outcome: RunOutcome, checks: Record<string, Check>, t0: number): RunReport {
  const wall = (performance.now() - t0) / 1000;
  const pass = outcome.endReason === 'done' && Object.values(checks).every((c) => c.pass);
  return {
    scenario, platform, seed, cycles: outcome.cycles, verdict: pass ? 'pass' : 'fail',
    end: outcome.diagnosis === undefined ? { reason: outcome.endReason } : { reason: outcome.endReason, diagnosis: outcome.diagnosis },
    params: sortKeys(params) as Record<string, unknown>,
    checks: sortKeys(checks) as Record<string, Check>,
    stats: sys.stats.toTree(),
    host: {
      wallSeconds: Math.round(wall * 1000) / 1000,
      eventsPerSecond: Math.round(outcome.events / Math.max(wall, 1e-9)),
      events: outcome.events,
      rssMiB: Math.round(process.memoryUsage().rss / 1048576),
      node: process.version,
    },
  };
}

function emit(r: RunReport, json: boolean): number {
  if (json) {
    const { host, ...rest } = r;
    process.stdout.write(JSON.stringify({ ...rest, host }) + '\n');
  } else {
    process.stdout.write(summary(r));
  }
  return r.verdict === 'pass' ? 0 : 1;
}

function summary(r: RunReport): string {
  const lines = [`${r.scenario} on ${r.platform} (seed ${r.seed}): ${r.verdict.toUpperCase()} after ${r.cycles} cycles (${r.end.reason})`];
  if (r.end.diagnosis) lines.push(`  ${r.end.diagnosis}`);
  if (r.ops !== undefined) lines.push(`  ops replayed: ${r.ops}`);
  for (const [name, c] of Object.entries(r.checks)) {
    const { pass, ...measured } = c;
    const m = Object.entries(measured).map(([k, v]) => `${k}=${Array.isArray(v) ? `[${v.length} points]` : v !== null && typeof v === 'object' ? JSON.stringify(v) : String(v)}`).join(' ');
    lines.push(`  ${pass ? 'ok  ' : 'FAIL'} ${name}${m ? `: ${m}` : ''}`);
  }
  lines.push(`  (${r.host.wallSeconds} s wall, ${r.host.eventsPerSecond} events/s; --json for every stat)`);
  return lines.join('\n') + '\n';
}
