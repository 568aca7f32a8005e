// `armsim run ... --timeline FILE`: the trace-event file of a small guest boot, its window and
// its cap, and that recording changes nothing in the results. Runs the CLI's own functions in process.
import { describe, it, expect, beforeAll, afterAll } from 'vitest';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armsimInProcess as cli, deterministicPart as withoutHost } from './cli-helpers.js';
import { Timeline, parseTimelineWindow } from '../src/sim/timeline.js';
import { UserError } from '../src/sim/index.js';

const SMALL = ['scenario.imageBytes=65536', 'scenario.guestRamBytes=1048576', 'scenario.codeBytes=4096', 'hyp.cmo=clean-on-s2-fault'];
const ARGS = ['run', 'guest-boot-mmu-off', ...SMALL.flatMap((s) => ['--set', s])];

interface TraceEvent { name: string; cat?: string; ph: string; ts: number; dur?: number; pid: number; tid: number; s?: string; args?: Record<string, unknown> }
interface TraceFile { traceEvents: TraceEvent[]; displayTimeUnit: string; otherData: Record<string, unknown> }

const spans = (t: TraceFile) => t.traceEvents.filter((e) => e.ph === 'X');

let dir: string;
let full: TraceFile;
let plainJson: string;
let tracedJson: string;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'armsim-timeline-'));
  const plain = await cli([...ARGS, '--json']);
  expect(plain.code).toBe(0);
  plainJson = plain.stdout;
  const traced = await cli([...ARGS, '--json', '--timeline', join(dir, 'full.json')]);
  expect(traced.code).toBe(0);
  expect(traced.stderr).toBe('');                      // --json: nothing extra printed
  tracedJson = traced.stdout;
  full = JSON.parse(readFileSync(join(dir, 'full.json'), 'utf8')) as TraceFile;
}, 60_000);

afterAll(() => { rmSync(dir, { recursive: true, force: true }); });

describe('armsim run --timeline', () => {
  it('writes trace-event JSON with named tracks and the time unit', () => {
    expect(full.displayTimeUnit).toBe('ns');
    expect(full.otherData.timeUnit).toMatch(/1 cycle = 1 ns/);
    const meta = full.traceEvents.filter((e) => e.ph === 'M');
    const procs = meta.filter((e) => e.name === 'process_name').map((e) => e.args!.name);
    expect(procs).toContain('system.cpu0');
    expect(procs).not.toContain('system.cpu1');        // idle PEs get no track
    const threads = meta.filter((e) => e.name === 'thread_name').map((e) => e.args!.name);
    expect(threads).toEqual(expect.arrayContaining(['system.cpu0', 'walks', 'ops 0']));
    expect(meta.some((e) => e.name === 'process_labels' && /1 cycle = 1 ns/.test(String(e.args!.labels)))).toBe(true);
    for (const e of spans(full)) {
      expect(typeof e.ts).toBe('number');
      expect(e.dur).toBeGreaterThanOrEqual(0);
      expect(meta.some((m) => m.name === 'thread_name' && m.pid === e.pid && m.tid === e.tid)).toBe(true);
    }
  });

  it('has spans for loads, walks, DC maintenance and stage-2 faults with their IPA and decision', () => {
    const x = spans(full);
    const load = x.find((e) => e.name === 'load');
    expect(load?.cat).toBe('mem');
    expect(load?.args).toMatchObject({ va: expect.stringMatching(/^0x/), pa: expect.stringMatching(/^0x/) });
    const walk = x.find((e) => e.name === 'walk');
    expect(walk?.cat).toBe('walk');
    const dc = x.filter((e) => e.name === 'DC CIVAC' && e.pid === load!.pid);   // the PE's (caches have their own: timeline-caches.test.ts)
    expect(dc.length).toBe(1024);                      // 16 pages of 64-byte lines, cleaned as stage 2 maps them
    expect(dc[0]!.args).toMatchObject({ reach: 'PoC', bytes: 64, el: 2 });
    const faults = x.filter((e) => e.name === 'stage-2 fault');
    expect(faults.length).toBe(16);
    const f = faults[0]!;
    expect(f.args).toMatchObject({ ipa: expect.stringMatching(/^0x[0-9a-f]+$/), resolution: 'retry', decision: expect.stringMatching(/^map normal-wb/), cleaned: true });
    expect(f.dur).toBeGreaterThan(0);
    // The handler's DC CIVACs run inside the fault's span.
    const inside = dc.filter((d) => d.ts >= f.ts && d.ts + d.dur! <= f.ts + f.dur! + 1e-9);
    expect(inside.length).toBe(64);
  });

  it('keeps spans on one track nested or in sequence (what Perfetto needs)', () => {
    const byTrack = new Map<string, TraceEvent[]>();
    for (const e of spans(full)) { const k = `${e.pid}/${e.tid}`; byTrack.set(k, [...(byTrack.get(k) ?? []), e]); }
    for (const list of byTrack.values()) {
      list.sort((a, b) => a.ts - b.ts || b.dur! - a.dur!);
      const open: number[] = [];
      for (const e of list) {
        while (open.length > 0 && open[open.length - 1]! <= e.ts + 1e-9) open.pop();
        if (open.length > 0) expect(e.ts + e.dur!).toBeLessThanOrEqual(open[open.length - 1]! + 1e-9);
        open.push(e.ts + e.dur!);
      }
    }
  });

  it('changes nothing in the results (the --json output is the same with and without it)', async () => {
    expect(withoutHost(tracedJson)).toBe(withoutHost(plainJson));
    const again = await cli([...ARGS, '--json']);
    expect(withoutHost(again.stdout)).toBe(withoutHost(plainJson));
  }, 60_000);

  it('--timeline-window keeps only spans that start in the window', async () => {
    const path = join(dir, 'window.json');
    const r = await cli([...ARGS, '--json', '--timeline', path, '--timeline-window', '20000:60000']);
    expect(r.code).toBe(0);
    const t = JSON.parse(readFileSync(path, 'utf8')) as TraceFile;
    const x = spans(t);
    expect(x.length).toBeGreaterThan(0);
    expect(x.length).toBeLessThan(spans(full).length);
    for (const e of x) { expect(e.ts * 1000).toBeGreaterThanOrEqual(20000); expect(e.ts * 1000).toBeLessThan(60000); }
    expect(t.otherData).toMatchObject({ windowStart: 20000, windowEnd: 60000 });
  }, 60_000);

  it('--timeline-max-events stops recording and marks the file truncated', async () => {
    const path = join(dir, 'capped.json');
    const r = await cli([...ARGS, '--timeline', path, '--timeline-max-events', '100']);
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(/truncated/);
    const t = JSON.parse(readFileSync(path, 'utf8')) as TraceFile;
    expect(spans(t).length).toBe(100);
    const last = t.traceEvents[t.traceEvents.length - 1]!;
    expect(last).toMatchObject({ name: 'timeline truncated', ph: 'i' });
    expect(t.otherData.truncated).toBe(true);
  }, 60_000);

  it('rejects a bad window before the run (exit 2, one line naming the flag, nothing written)', async () => {
    for (const w of ['5000:1000', 'abc', ':', '10:10']) {
      const path = join(dir, `bad-${w.replace(/\W/g, '_')}.json`);
      const r = await cli([...ARGS, '--timeline', path, '--timeline-window', w]);
      expect(r.code).toBe(2);
      expect(r.stdout).toBe('');
      expect(r.stderr).toMatch(/^armsim: --timeline-window: .*\n$/);
      expect(existsSync(path)).toBe(false);
      expect(existsSync(`${path}.tmp`)).toBe(false);
    }
    const r = await cli([...ARGS, '--timeline-window', '0:10']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/--timeline-window needs --timeline/);
    const m = await cli([...ARGS, '--timeline', join(dir, 'm.json'), '--timeline-max-events', '0']);
    expect(m.code).toBe(2);
    expect(m.stderr).toMatch(/--timeline-max-events/);
    const d = await cli([...ARGS, '--timeline', join(dir, 'no-such-dir', 'x.json')]);
    expect(d.code).toBe(2);
    expect(d.stderr).toMatch(/^armsim: --timeline: directory/);
  });
});

describe('Timeline', () => {
  it('parses windows with open ends and refuses bad ones with UserError', () => {
    expect(parseTimelineWindow('100:200')).toEqual({ start: 100, end: 200 });
    expect(parseTimelineWindow(':200')).toEqual({ start: 0, end: 200 });
    expect(parseTimelineWindow('100:')).toEqual({ start: 100, end: Number.POSITIVE_INFINITY });
    expect(() => parseTimelineWindow('200:100')).toThrow(UserError);
    expect(() => parseTimelineWindow('1e3:2e3')).toThrow(/--timeline-window/);
  });

  it('is valid JSON when empty and when truncated', () => {
    expect(JSON.parse(new Timeline().toJSON())).toMatchObject({ displayTimeUnit: 'ns' });
    const tl = new Timeline({ maxEvents: 2 });
    const t = tl.track('p', 't');
    for (let i = 0; i < 5; i++) tl.span(t, `s"${i}`, 'c', i * 10, i * 10 + 5, { k: 'v"\n' });
    const f = JSON.parse(tl.toJSON()) as TraceFile;
    expect(f.traceEvents.filter((e) => e.ph === 'X').map((e) => e.name)).toEqual(['s"0', 's"1']);
    expect(f.traceEvents.at(-1)!.name).toBe('timeline truncated');
    expect(tl.truncated).toBe(true);
    expect(tl.dropped).toBe(3);
  });
});
