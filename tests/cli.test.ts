import { describe, expect, it } from 'vitest';
import { mkdtempSync, writeFileSync, existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { armsim, deterministicPart } from './cli-helpers.js';

const SMALL = ['--set', 'scenario.bytes=256KiB'];

/** A user error: exit 2, exactly one line on stderr, no stack trace, nothing on stdout. */
function expectUserError(args: string[], ...mentions: string[]): string {
  const r = armsim(args);
  expect(r.code, r.stderr).toBe(2);
  expect(r.stdout).toBe('');
  const lines = r.stderr.trimEnd().split('\n');
  expect(lines, r.stderr).toHaveLength(1);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  for (const m of mentions) expect(r.stderr).toContain(m);
  return r.stderr;
}

describe('armsim run', () => {
  it('dram-stream passes and prints one JSON object with the documented keys', () => {
    const r = armsim(['run', 'dram-stream', ...SMALL, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const o = JSON.parse(r.stdout);
    for (const k of ['scenario', 'platform', 'seed', 'cycles', 'verdict', 'checks', 'stats', 'host']) expect(o).toHaveProperty(k);
    expect(o.scenario).toBe('dram-stream');
    expect(o.platform).toBe('neoverse-n1');
    expect(o.verdict).toBe('pass');
    expect(o.cycles).toBeGreaterThan(0);
    expect(o.checks.readBandwidth.bytesPerCycle).toBeGreaterThan(0);
    expect(o.checks.dataIntegrity.mismatches).toBe(0);
    expect(o.stats.system.cpu0.loads).toBe(256 * 1024 / 64 + 4096 / 64);
    expect(o.stats.system.dram.reads).toBeGreaterThan(0);
  });

  it('is deterministic: the same inputs and seed give identical JSON outside host', () => {
    const a = armsim(['run', 'dram-stream', ...SMALL, '--json', '--seed', '5']);
    const b = armsim(['run', 'dram-stream', ...SMALL, '--json', '--seed', '5']);
    expect(a.code).toBe(0);
    expect(deterministicPart(a.stdout)).toBe(deterministicPart(b.stdout));
  });

  it('platform overrides change the timing (fewer DRAM channels cannot be faster)', () => {
    const base = JSON.parse(armsim(['run', 'dram-stream', ...SMALL, '--json']).stdout);
    const narrow = JSON.parse(armsim(['run', 'dram-stream', ...SMALL, '--json', '--set', 'dram.channels=1', '--set', 'core.window=64']).stdout);
    expect(narrow.checks.readBandwidth.peakBytesPerCycle).toBeLessThan(base.checks.readBandwidth.peakBytesPerCycle);
  });

  it('--max-cycles ends the run early with a failing verdict', () => {
    const r = armsim(['run', 'dram-stream', ...SMALL, '--json', '--max-cycles', '1000']);
    expect(r.code).toBe(1);
    const o = JSON.parse(r.stdout);
    expect(o.end.reason).toBe('max-cycles');
    expect(o.cycles).toBe(1000);
  });

  it('prints a human summary without --json', () => {
    const r = armsim(['run', 'dram-stream', ...SMALL]);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dram-stream on neoverse-n1 \(seed 1\): PASS/);
  });
});

describe('bad input: exit 2 with a one-line message naming the field', () => {
  it('out-of-range value', () => { expectUserError(['run', 'dram-stream', '--set', 'dram.channels=0'], 'dram.channels'); });
  it('unknown key', () => { expectUserError(['run', 'dram-stream', '--set', 'dram.chanels=2'], 'dram.chanels'); });
  it('value not in the enum', () => { expectUserError(['run', 'dram-stream', '--set', 'dram.scheduler=lifo'], 'dram.scheduler', 'fr-fcfs'); });
  it('wrong type', () => { expectUserError(['run', 'dram-stream', '--set', 'core.window=many'], 'core.window'); });
  it('bad scenario parameter', () => { expectUserError(['run', 'dram-stream', '--set', 'scenario.accessBytes=3'], 'scenario', 'accessBytes'); });
  it('an MMU feature level the architecture does not define', () => { expectUserError(['run', 'guest-boot-mmu-off', '--set', 'mmu.features.hafdbs=3'], 'mmu.features.hafdbs', '0, 1 or 2'); });
  it('unknown scenario parameter', () => { expectUserError(['run', 'dram-stream', '--set', 'scenario.nope=1'], 'nope'); });
  it('malformed --set', () => { expectUserError(['run', 'dram-stream', '--set', 'dram.channels'], '--set'); });
  it('unknown scenario', () => { expectUserError(['run', 'no-such-scenario'], 'no-such-scenario', 'dram-stream'); });
  it('unknown platform', () => { expectUserError(['run', 'dram-stream', '--platform', 'pentium'], '--platform', 'neoverse-n1'); });
  it('unknown flag', () => { expectUserError(['run', 'dram-stream', '--frobnicate'], '--frobnicate'); });
  it('bad seed', () => { expectUserError(['run', 'dram-stream', '--seed', 'x'], '--seed'); });
  it('unknown command', () => { expectUserError(['fly'], 'fly'); });
  it('a flag without its value, in every command', () => {
    expectUserError(['run', 'dram-stream', '--seed'], 'run: --seed expects a value');
    expectUserError(['replay', 'x.trace', '--platform'], 'replay: --platform expects a value');
    expectUserError(['bench', 'cmo-strategies', '--out'], 'bench: --out expects a value');
    expectUserError(['report', 'dir', '--out'], 'report: --out expects a value');
    expectUserError(['attrs', '--json'], 'attrs: --json expects a value');
    expectUserError(['smmu', 'decode', '--kind'], 'smmu decode: --kind expects a value');
    expectUserError(['trace', 'import', '--from'], 'trace import: --from expects a value');
  });
  it('a value that starts with a dash says how to write it', () => { expectUserError(['run', 'dram-stream', '--seed', '-1'], '--seed=-VALUE'); });
  it('a hypervisor scenario on a platform whose memory its host map cannot cover (cachegrind: 256 TiB)', () => {
    expectUserError(['run', 'guest-boot-mmu-off', '--platform', 'cachegrind', '--set', 'mmu.el2=true'], 'memory.regions.ram.size', 'page tables');
  });
  it('fewer PEs than a scenario runs on (set-way-vs-l3 writes on PE 0 and reads on PE 1)', () => {
    expectUserError(['run', 'set-way-vs-l3', '--set', 'core.count=1'], 'core.count', 'PE 1', 'core.count=2');
  });
  it('a platform without the regions a scenario places its buffers in names memory.regions', () => {
    expectUserError(['run', 'mte-on-pfnmap', '--platform', 'cachegrind', '--set', 'mmu.el2=true'], 'memory.regions', 'cacheable-device');
    expectUserError(['run', 'atomics-normal-nc', '--platform', 'grace', '--set', 'memory.regions.gpu-mem.size=4096'], 'memory.regions.gpu-mem.size', 'got 4096');
    // Scenarios that lay their data out at fixed offsets in DRAM (each was an internal error).
    expectUserError(['run', 'atomics-normal-nc', '--set', 'memory.regions.ram.size=64MiB'], 'memory.regions.ram.size', '1026 MiB');
    expectUserError(['run', 'pmem-persist', '--set', 'memory.regions.ram.size=1MiB'], 'memory.regions.ram.size', '1028 KiB');
    expectUserError(['run', 'atomics-contention', '--set', 'memory.regions.ram.size=4096'], 'memory.regions.ram.size', '8 KiB');
  });
  it('tree-PLRU over a non-power-of-two number of ways names the level (grace\'s L3 is 14-way; was an internal error)', () => {
    expectUserError(['run', 'mismatched-alias', '--platform', 'grace', '--set', 'cache.l3.replacement=plru'], 'cache.l3.replacement', 'cache.l3.ways = 14');
  });
  it('a TLB geometry the TLB cannot be built with names its key', () => {
    expectUserError(['run', 'guest-boot-mmu-off', '--set', 'mmu.l2.ways=3'], 'mmu.l2.entries', 'power-of-two');
    expectUserError(['run', 'guest-boot-mmu-off', '--set', 'mmu.l1d.entries=3'], 'mmu.l1d.entries');
    expectUserError(['run', 'guest-boot-mmu-off', '--set', 'mmu.walkCacheEntries=300'], 'mmu.walkCacheEntries', '256');
  });
  it('too few request slots for the caches\' own fills and write-backs names sim.requestSlots (was an internal error mid-run)', () => {
    expectUserError(['run', 'mismatched-alias', '--set', 'sim.requestSlots=16'], 'sim.requestSlots', '16 request slots ran out');
  });
  it('a hypervisor scenario without EL2 or the VMSA translation names mmu.el2 / mmu.translation (one ran into an internal error, the others failed their checks)', () => {
    expectUserError(['run', 'atomics-normal-nc', '--set', 'mmu.el2=false'], 'mmu.el2', 'expected true');
    expectUserError(['run', 'guest-boot-mmu-off', '--set', 'mmu.el2=false'], 'mmu.el2', 'guest-boot-mmu-off');
    expectUserError(['run', 'hcr-dc-dma', '--set', 'mmu.translation=flat'], 'mmu.translation', 'expected vmsa');
    // ... and a scenario whose accesses carry their attributes refuses vmsa (with the MMU off every access was Device-nGnRnE).
    expectUserError(['run', 'lat-mem-rd', '--set', 'mmu.translation=vmsa'], 'mmu.translation', 'expected flat');
  });
  it('a value given to a switch', () => { expectUserError(['run', 'dram-stream', '--json=yes'], '--json is a switch'); });
  it('bad config file values name the dotted path', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-cli-'));
    const f = join(dir, 'p.yaml');
    writeFileSync(f, 'dram:\n  tRCD: -4\n');
    expectUserError(['run', 'dram-stream', '--config', f], 'dram.tRCD');
  });
  it('unreadable config file', () => { expectUserError(['run', 'dram-stream', '--config', '/nonexistent/x.json'], 'x.json'); });
  it('a trace that is not a trace', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-cli-'));
    const f = join(dir, 'junk.trace');
    writeFileSync(f, 'hello, not a trace at all\n');
    expectUserError(['replay', f], 'junk.trace');
  });
  it('a failed import leaves no output file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'armsim-cli-'));
    const src = join(dir, 'bad.lackey');
    writeFileSync(src, 'I  04000000,3\n L zzz,8\n');
    const out = join(dir, 'bad.trace');
    expectUserError(['trace', 'import', '--from', 'lackey', src, '-o', out], 'bad.lackey');
    expect(existsSync(out)).toBe(false);
  });
});

describe('armsim list / help / version', () => {
  it('list names the scenarios and presets with descriptions', () => {
    const r = armsim(['list']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/dram-stream\s+\S/);
    expect(r.stdout).toMatch(/neoverse-n1\s+.*\(default\)/);
    // Optional features are flagged with where they stand.
    expect(r.stdout).toMatch(/FEAT_HAFDBS[^\n]*\s+option\s+mmu.features.hafdbs/);
    expect(r.stdout).toMatch(/FEAT_PAN[^\n]*\s+no(\s|$)/m);
    expect(r.stdout).toMatch(/FEAT_S2FWB\s+option\s/);
  });
  it('--help and per-command help', () => {
    expect(armsim(['--help']).stdout).toContain('armsim run');
    expect(armsim(['run', '--help']).stdout).toContain('Usage: armsim run');
    expect(armsim(['replay', '--help']).stdout).toContain('Usage: armsim replay');
  });
  it('--version prints the package version', () => {
    expect(armsim(['--version']).stdout.trim()).toMatch(/^\d+\.\d+\.\d+$/);
  });
});

describe('armsim bench speed', () => {
  it('runs the per-block speed benchmarks (--only narrows them) and refuses sweep flags with exit 2', () => {
    const r = armsim(['bench', 'speed', '--only', 'cache-build']);
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/build neoverse-n1 with core\.count=64[^\n]*build time[^\n]*(pass|FAIL)/);
    const bad = armsim(['bench', 'speed', '--jobs', '2']);
    expect(bad.code).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('--jobs does not apply to the speed suite');
  });
});
