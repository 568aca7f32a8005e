// `armsim run ... --timeline FILE`: the cache tracks (one process per cache instance, named by its
// stats path) with misses, memory fills, write-backs, snoops and maintenance; their counts against
// the stats the same run dumps; and that recording them changes nothing in the results.
// Runs the CLI's own functions in process.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armsimInProcess as cli, deterministicPart as withoutHost } from './cli-helpers.js';
import { Timeline } from '../src/sim/timeline.js';

/** A small guest boot on neoverse-n1 (L1s, a per-PE L2, a system-cache L3): misses, fills, DC CIVAC, IC IVAU. */
const BOOT = ['run', 'guest-boot-mmu-off', ...['scenario.imageBytes=65536', 'scenario.guestRamBytes=1048576', 'scenario.codeBytes=4096', 'hyp.cmo=clean-on-s2-fault'].flatMap((s) => ['--set', s])];
/** Four PEs in two X-Gene clusters fighting over one line: snoops between and within clusters. */
// LDXR/STXR: xgene1 is ARMv8.0, where LDADD is UNDEFINED and would reach no cache.
const CONTENTION = ['run', 'atomics-contention', '--platform', 'xgene1', '--set', 'scenario.method=llsc'];
/** X-Gene set/way cleaning of a 64 KiB image (twice the L1D): write-backs and DC CISW at L1 and L2. */
const SET_WAY = ['run', 'set-way-vs-l3', '--platform', 'xgene1', '--set', 'scenario.bytes=64KiB'];

interface TraceEvent { name: string; cat?: string; ph: string; ts: number; dur?: number; pid: number; tid: number; args?: Record<string, unknown> }
interface TraceFile { traceEvents: TraceEvent[] }
/** A span with its process (the cache's stats path) and lane names resolved. */
interface Span extends TraceEvent { process: string; lane: string }


/** Runs `args` with and without a timeline; returns the spans, the stats, and both --json outputs. */
async function traced(dir: string, name: string, args: string[]): Promise<{ spans: Span[]; stats: Record<string, any>; plain: string; withTimeline: string }> {
  const path = join(dir, `${name}.json`);
  const plain = await cli([...args, '--json']);
  expect(plain.code).toBe(0);
  const t = await cli([...args, '--json', '--timeline', path]);
  expect(t.code).toBe(0);
  const file = JSON.parse(readFileSync(path, 'utf8')) as TraceFile;
  const procs = new Map<number, string>(), lanes = new Map<string, string>();
  for (const e of file.traceEvents) {
    if (e.name === 'process_name') procs.set(e.pid, String(e.args!.name));
    if (e.name === 'thread_name') lanes.set(`${e.pid}/${e.tid}`, String(e.args!.name));
  }
  const spans = file.traceEvents.filter((e) => e.ph === 'X').map((e) => ({ ...e, process: procs.get(e.pid)!, lane: lanes.get(`${e.pid}/${e.tid}`)! }));
  return { spans, stats: (JSON.parse(t.stdout) as { stats: Record<string, any> }).stats, plain: plain.stdout, withTimeline: t.stdout };
}

/** The stats of the level at dotted path `p` (system.cpu0.l1d). */
function levelStats(stats: Record<string, any>, p: string): Record<string, number> {
  let o: any = stats;
  for (const k of p.split('.')) o = o?.[k];
  return o as Record<string, number>;
}

/** Spans of `process` on lanes called `kind` (`misses`, `misses 2`, ...). */
const on = (spans: Span[], process: string, kind: string) => spans.filter((s) => s.process === process && (s.lane === kind || s.lane.startsWith(`${kind} `)));

let dir: string;
let boot: Awaited<ReturnType<typeof traced>>;
let contention: Awaited<ReturnType<typeof traced>>;
let setWay: Awaited<ReturnType<typeof traced>>;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'armsim-timeline-caches-'));
  boot = await traced(dir, 'boot', BOOT);
  contention = await traced(dir, 'contention', CONTENTION);
  setWay = await traced(dir, 'set-way', SET_WAY);
}, 120_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('armsim run --timeline: cache tracks', () => {
  it('has a process per busy cache instance, named by its stats path, with lanes per kind of span', () => {
    const procs = new Set(boot.spans.map((s) => s.process));
    for (const p of ['system.cpu0.l1d', 'system.cpu0.l1i', 'system.cpu0.l2', 'system.l3']) expect(procs).toContain(p);
    expect(procs).not.toContain('system.cpu1.l1d');                   // idle caches get no track
    const xgene = new Set(contention.spans.map((s) => s.process));
    for (const p of ['system.cpu0.l1d', 'system.cpu3.l1d', 'system.cluster0.l2', 'system.cluster1.l2']) expect(xgene).toContain(p);
    const lanes = new Set(boot.spans.filter((s) => s.process.endsWith('.l1d')).map((s) => s.lane.replace(/ \d+$/, '')));
    expect([...lanes].sort()).toEqual(['maintenance', 'misses', 'write-backs']);
  });

  it('draws misses from the access to its data, and memory fills from the request leaving to the fill', () => {
    const l1 = on(boot.spans, 'system.cpu0.l1d', 'misses');
    const miss = l1.find((s) => s.name === 'read miss');
    expect(miss?.cat).toBe('cache');
    expect(miss?.args).toMatchObject({ pa: expect.stringMatching(/^0x[0-9a-f]+$/), bytes: expect.any(Number) });
    expect(l1.some((s) => s.name === 'write miss')).toBe(true);
    const fills = on(boot.spans, 'system.cpu0.l2', 'misses').filter((s) => s.name === 'memory fill');
    expect(fills.length).toBeGreaterThan(0);
    for (const f of fills) expect(f.dur).toBeGreaterThan(0);
    // A miss that waited for a memory fill ends when the fill lands.
    const waited = l1.filter((s) => fills.some((f) => f.args!.pa === s.args!.pa && Math.abs(f.ts + f.dur! - (s.ts + s.dur!)) < 1e-9));
    expect(waited.length).toBeGreaterThan(0);
    // The system-cache L3 misses on the same fills.
    const l3 = on(boot.spans, 'system.l3', 'misses').filter((s) => s.name === 'miss');
    expect(l3.length).toBe(fills.length);
  });

  it('draws the maintenance each DC/IC op does at each level, with the op name', () => {
    const dc = on(boot.spans, 'system.cpu0.l1d', 'maintenance');
    expect(dc.length).toBeGreaterThan(0);
    expect(dc.every((s) => s.name === 'DC CIVAC' && s.cat === 'cmo')).toBe(true);
    expect(dc[0]!.args).toMatchObject({ op: 'DC CIVAC', pa: expect.stringMatching(/^0x/), found: expect.any(Boolean) });
    expect(on(boot.spans, 'system.l3', 'maintenance').some((s) => s.name === 'DC CIVAC')).toBe(true);
    expect(on(boot.spans, 'system.cpu0.l1i', 'maintenance').every((s) => s.name === 'IC IVAU')).toBe(true);
    // One span per op at each level it looks up: as many as the level's cmoOps.
    for (const p of ['system.cpu0.l1d', 'system.cpu0.l1i', 'system.cpu0.l2', 'system.l3']) {
      expect(on(boot.spans, p, 'maintenance').length).toBe(levelStats(boot.stats, p).cmoOps);
    }
    const sw = on(setWay.spans, 'system.cluster0.l2', 'maintenance');
    expect(sw.length).toBe(levelStats(setWay.stats, 'system.cluster0.l2').cmoOps);
    expect(sw.find((s) => s.args!.cleaned === true)?.args).toMatchObject({ op: 'DC CISW', set: expect.any(Number), way: expect.any(Number), found: true, invalidated: true });
  });

  it('draws write-backs and snoops, as many as the stats count', () => {
    const wb = on(setWay.spans, 'system.cpu0.l1d', 'write-backs');
    expect(wb.length).toBe(levelStats(setWay.stats, 'system.cpu0.l1d').writebacks);
    expect(wb[0]!.args).toMatchObject({ to: 'system.cluster0.l2' });
    for (const p of ['system.cpu0.l1d', 'system.cpu1.l1d', 'system.cpu2.l1d', 'system.cpu3.l1d', 'system.cluster0.l2', 'system.cluster1.l2']) {
      const n = levelStats(contention.stats, p).snoopsReceived;
      expect(n).toBeGreaterThan(0);
      expect(on(contention.spans, p, 'snoops').length).toBe(n);
    }
    // An STXR's upgrade invalidates the other cluster's copy (an LDXR's read only shares it).
    const between = on(contention.spans, 'system.cluster1.l2', 'snoops').find((s) => s.args!.invalidate === true);
    expect(between).toMatchObject({ name: 'snoop', cat: 'snoop', args: { invalidate: true } });
    expect(between!.dur).toBeGreaterThan(0);                         // the snoop latency
    const within = on(contention.spans, 'system.cpu1.l1d', 'snoops').find((s) => s.args!.by !== undefined);
    expect(within?.args!.by).toBe('system.cpu0.l1d');                // its cluster sibling
  });

  it('shows DC CVAP to persistent memory cleaning the system cache (pmem-persist), and DC CVAC leaving it alone', async () => {
    const cvap = await traced(dir, 'pmem', ['run', 'pmem-persist', '--set', 'scenario.records=2']);
    const l3 = on(cvap.spans, 'system.l3', 'maintenance');
    expect(l3.length).toBe(2 * 2);                                    // two records of two lines
    expect(l3.every((s) => s.name === 'DC CVAP' && s.args!.cleaned === true && s.args!.tookDirtyData === true)).toBe(true);
    const cvac = await traced(dir, 'pmem-cvac', ['run', 'pmem-persist', '--set', 'scenario.records=2', '--set', 'scenario.strategy=cvac']);
    expect(on(cvac.spans, 'system.l3', 'maintenance').some((s) => s.args!.cleaned === true)).toBe(false);
  });

  it('keeps spans on each lane in sequence (what Perfetto needs)', () => {
    for (const { spans } of [boot, contention, setWay]) {
      const byLane = new Map<string, Span[]>();
      for (const s of spans) byLane.set(`${s.pid}/${s.tid}`, [...(byLane.get(`${s.pid}/${s.tid}`) ?? []), s]);
      for (const [lane, list] of byLane) {
        if (!list[0]!.process.includes('.l')) continue;               // cache lanes (PE lanes: timeline.test.ts)
        list.sort((a, b) => a.ts - b.ts);
        for (let i = 1; i < list.length; i++) expect(list[i]!.ts, lane).toBeGreaterThanOrEqual(list[i - 1]!.ts + list[i - 1]!.dur! - 1e-9);
      }
    }
  });

  it('changes nothing in the results (--json is the same with and without it)', () => {
    for (const r of [boot, contention, setWay]) expect(withoutHost(r.withTimeline)).toBe(withoutHost(r.plain));
  });
});

describe('TimelineLanes', () => {
  it('puts overlapping spans on separate lanes whatever order they come in, and drops past maxLanes', () => {
    const tl = new Timeline();
    const lanes = tl.lanes('system.cpu0.l1d', 'misses', { process: 2001, thread: 0 }, 2);
    lanes.span('a', 'c', 10, 20);
    lanes.span('b', 'c', 15, 30);      // overlaps a: lane 2
    lanes.span('c', 'c', 0, 5);        // starts before both ended: no free lane, dropped
    lanes.span('d', 'c', 20, 25);      // a has ended: lane 1
    lanes.span('e', 'c', 40, 40);
    const f = JSON.parse(tl.toJSON()) as TraceFile;
    const names = new Map(f.traceEvents.filter((e) => e.name === 'thread_name').map((e) => [e.tid, e.args!.name]));
    const x = f.traceEvents.filter((e) => e.ph === 'X').map((e) => `${e.name}@${String(names.get(e.tid))}`);
    expect(x).toEqual(['a@misses', 'b@misses 2', 'd@misses', 'e@misses']);
    expect(tl.dropped).toBe(1);
    const windowed = new Timeline({ start: 100 });
    windowed.lanes('p', 't', { process: 1, thread: 0 }).span('early', 'c', 50, 60);
    expect(windowed.dropped).toBe(1);
    expect(JSON.parse(windowed.toJSON()).traceEvents.some((e: TraceEvent) => e.name === 'thread_name' && e.args!.name === 't')).toBe(false);
  });
});
