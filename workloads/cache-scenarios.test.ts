import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';
import { PRESETS } from '../src/platform/index.js';

const KiB = 1024, MiB = 1024 * KiB;
const N1 = PRESETS['neoverse-n1']!;
const XG = PRESETS['xgene1']!;

describe('lat-mem-rd', () => {
  // Small caches so that four times the largest one (the DRAM plateau) is only 4 MiB.
  const SMALL = ['cache.l1d.sizeBytes=8KiB', 'cache.l2.sizeBytes=64KiB', 'cache.l3.sizeBytes=1MiB', 'scenario.loads=500'];
  const caps = { l1d: 8 * KiB, l2: 64 * KiB, l3: 1 * MiB };
  // Hit latencies as the hierarchy's timing model states them, from the preset's numbers: the
  // interconnect is crossed up and down (its latency once in all) and the home node adds it once more.
  const c = N1.cache, ic = N1.interconnect.latency;
  const lat = {
    l1d: c.l1d.hitLatency,
    l2: c.l1d.tagLatency + c.l2.hitLatency,
    l3: c.l1d.tagLatency + c.l2.tagLatency + 2 * ic + c.l3.hitLatency,
  };

  it('plateaus at the configured latency of each level (within 5%) and steps at each capacity (neoverse-n1, small caches)', async () => {
    const { code, r } = await run('lat-mem-rd', { sets: SMALL });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.verdict).toBe('pass');
    const pts = r.checks.points!.points as { sizeBytes: number; cyclesPerLoad: number }[];
    expect(pts.map((p) => p.sizeBytes)).toEqual([4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 4096].map((k) => k * KiB));
    const at = (size: number): number => pts.find((p) => p.sizeBytes === size)!.cyclesPerLoad;
    // Plateaus: at most half a level's capacity, more than the level above's.
    const near = (v: number, want: number): void => { expect(Math.abs(v - want) / want, `${v} vs ${want}`).toBeLessThanOrEqual(0.05); };
    near(at(4 * KiB), lat.l1d);
    for (const s of [16 * KiB, 32 * KiB]) near(at(s), lat.l2);
    for (const s of [128 * KiB, 256 * KiB, 512 * KiB]) near(at(s), lat.l3);
    // Steps: from half a level's capacity to twice it, the time per load at least doubles.
    for (const [cap, here] of [[caps.l1d, lat.l1d], [caps.l2, lat.l2], [caps.l3, lat.l3]] as const) {
      expect(at(cap / 2)).toBeLessThan(here * 1.05);
      expect(at(cap * 2)).toBeGreaterThan(here * 2);
    }
    // DRAM (4 x the L3): between a row hit for every load and a row conflict plus a whole refresh
    // for every 20th load; the check holds it to its derived expectation.
    const d = N1.dram, path = c.l1d.tagLatency + c.l2.tagLatency + c.l3.tagLatency + 2 * ic + d.frontendLatency + d.backendLatency + (d.burstLength / 2) * d.clockRatio;
    const rowHit = path + d.tCL * d.clockRatio, conflict = path + (d.tRP + d.tRCD + d.tCL) * d.clockRatio;
    expect(at(4 * MiB)).toBeGreaterThan(rowHit);
    expect(at(4 * MiB)).toBeLessThan(conflict + (d.tRFC * d.clockRatio) / 20);
    expect(r.checks.dramPlateau!.pass).toBe(true);
    expect(r.checks.dramPlateau!.sizes).toEqual([4 * MiB]);
    for (const k of ['l1dPlateau', 'l2Plateau', 'l3Plateau']) {
      expect(r.checks[k]!.pass, k).toBe(true);
      expect(r.checks[k]!.skipped, k).toBeUndefined();
    }
  });

  it('follows the platform: xgene1 has a 32 KiB L1D, a 256 KiB L2 and a slower L3', async () => {
    const { code, r } = await run('lat-mem-rd', { platform: 'xgene1', sets: ['cache.l3.sizeBytes=1MiB', 'scenario.loads=300'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const pts = r.checks.points!.points as { sizeBytes: number; cyclesPerLoad: number }[];
    const at = (size: number): number => pts.find((p) => p.sizeBytes === size)!.cyclesPerLoad;
    const x = XG.cache, xic = XG.interconnect.latency;
    expect(at(16 * KiB)).toBe(x.l1d.hitLatency);
    expect(at(128 * KiB)).toBe(x.l1d.tagLatency + x.l2.hitLatency);
    expect(at(512 * KiB)).toBe(x.l1d.tagLatency + x.l2.tagLatency + 2 * xic + x.l3.hitLatency);
    expect(pts[pts.length - 1]!.sizeBytes).toBe(4 * MiB);
  });

  it('below a random-replacement L1D the L2 plateau starts at 4x its size: a 2x set still hits the L1D', async () => {
    const sets = [...SMALL, 'cache.l1d.replacement=random'];
    const { code, r } = await run('lat-mem-rd', { sets });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const pts = r.checks.points!.points as { sizeBytes: number; cyclesPerLoad: number }[];
    const at = (size: number): number => pts.find((p) => p.sizeBytes === size)!.cyclesPerLoad;
    // Twice the L1D: a fifth of the loads or so still hit it, well under the L2's latency.
    expect(at(2 * caps.l1d)).toBeLessThan(lat.l2 * 0.9);
    expect(r.checks.l2Plateau!.sizes).toEqual([32 * KiB]);
    expect(Math.abs(at(32 * KiB) - lat.l2) / lat.l2).toBeLessThanOrEqual(0.05);
  });

  it('with a next-line prefetcher: the L3 plateau starts at 16x the L2, and the DRAM expectation counts the rows prefetches open', async () => {
    const sets = ['cache.l1d.sizeBytes=8KiB', 'cache.l2.sizeBytes=64KiB', 'cache.l3.sizeBytes=4MiB', 'scenario.loads=500'];
    const { code, r } = await run('lat-mem-rd', { sets: [...sets, 'cache.prefetch=next-line'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const pts = r.checks.points!.points as { sizeBytes: number; cyclesPerLoad: number }[];
    const at = (size: number): number => pts.find((p) => p.sizeBytes === size)!.cyclesPerLoad;
    // Twice the L2: prefetched neighbours make a good share of the loads hit the L2.
    expect(at(128 * KiB)).toBeLessThan(lat.l3 * 0.9);
    expect(r.checks.l3Plateau!.sizes).toEqual([1 * MiB, 2 * MiB]);
    // The list runs to 4x the L3 (16 MiB, past 16x the L2) and that set is the DRAM plateau.
    expect(r.checks.dramPlateau!.sizes).toEqual([16 * MiB]);
    // N1 interleaves channels by line: each prefetch opens a row in another bank, so the
    // expectation (and the measurement) sits above the same chase without the prefetcher.
    const { r: plain } = await run('lat-mem-rd', { sets: [...sets, 'scenario.minBytes=16MiB'] });
    expect(r.checks.dramPlateau!.expectedCycles as number).toBeGreaterThan(plain.checks.dramPlateau!.expectedCycles as number);
    expect(at(16 * MiB)).toBeGreaterThan(plain.checks.dramPlateau!.measuredCycles as number);
  });

  it('a prefetcher that leaves no room for the L3 plateau says why it is skipped', async () => {
    const { code, r } = await run('lat-mem-rd', { sets: [...SMALL, 'cache.prefetch=next-line'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.l3Plateau!.skipped).toMatch(/prefetch=next-line.*16 x the L2/);
    expect(r.checks.dramPlateau!.sizes).toEqual([4 * MiB]);
  });

  it('few loads per size: DRAM points may differ by their sampling noise without failing the monotonic check', async () => {
    const { code, r } = await run('lat-mem-rd', { sets: [...SMALL, 'scenario.loads=40', 'scenario.maxBytes=16MiB'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const pts = r.checks.points!.points as { sizeBytes: number; cyclesPerLoad: number }[];
    expect(pts.filter((p) => p.sizeBytes >= 4 * MiB)).toHaveLength(3);
  });

  it('a too-short list leaves the DRAM plateau unmeasured and says so', async () => {
    const { r } = await run('lat-mem-rd', { sets: [...SMALL, 'scenario.maxBytes=256KiB'] });
    expect(r.checks.points!.points).toHaveLength(7);
    expect(r.checks.dramPlateau!.skipped).toMatch(/maxBytes/);
  });
});

describe('dram-stream', () => {
  it('a stream of a few windows skips the Little\'s-law check (the window is never full for long); verifyBytes=0 skips the data check', async () => {
    const { code, r } = await run('dram-stream', { sets: ['scenario.bytes=2KiB', 'scenario.verifyBytes=0'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.littlesLaw!.skipped).toMatch(/32 reads: fewer than 8 x core.window = 160/);
    expect(r.checks.dataIntegrity!.skipped).toMatch(/verifyBytes=0/);
    // A long enough one is held to the law.
    const long = await run('dram-stream', { sets: ['scenario.bytes=64KiB'] });
    expect(long.code, JSON.stringify(long.r.checks)).toBe(0);
    expect(long.r.checks.littlesLaw!.skipped).toBeUndefined();
  });

  it('posted writes: the program may see more than the DRAM peak (its DSB ends before the queues drain); DRAM\'s own drained rate stays under it', async () => {
    const { code, r } = await run('dram-stream', { platform: 'xgene1', sets: ['dram.clockRatio=6'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const w = r.checks.writeBandwidth!, peak = r.checks.readBandwidth!.peakBytesPerCycle as number;
    expect(w.bytesPerCycle as number).toBeGreaterThan(peak);
    expect(w.drainedBytesPerCycle as number).toBeLessThanOrEqual(peak);
    expect(w.drainCycles as number).toBeGreaterThan(w.cycles as number);
    // Without posted writes the DSB waits for DRAM: both views agree.
    const np = await run('dram-stream', { platform: 'xgene1', sets: ['dram.clockRatio=6', 'interconnect.postedWrites=false', 'scenario.bytes=256KiB'] });
    expect(np.code, JSON.stringify(np.r.checks)).toBe(0);
    expect(np.r.checks.writeBandwidth!.drainCycles).toBe(np.r.checks.writeBandwidth!.cycles);
  });

  it('Little\'s law counts the loads the request slots let be in flight, when fewer than the window', async () => {
    const { code, r } = await run('dram-stream', { platform: 'grace', sets: ['scenario.bytes=256KiB', 'sim.requestSlots=16'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const full = await run('dram-stream', { platform: 'grace', sets: ['scenario.bytes=256KiB'] });
    // grace's window is 24: 16 slots in flight give about 16/24 of the bandwidth.
    const ratio = (r.checks.littlesLaw!.measuredBytesPerCycle as number) / (full.r.checks.littlesLaw!.measuredBytesPerCycle as number);
    expect(ratio).toBeGreaterThan(0.6);
    expect(ratio).toBeLessThan(0.72);
  });
});

describe('set-way-vs-l3', () => {
  /** Sets x ways of a level: the number of DC CISW operations that cover it. */
  const setsTimesWays = (l: { sizeBytes: number }, lineBytes: number): number => l.sizeBytes / lineBytes;

  it('xgene1, set/way: the data stays dirty in the L3 above the PoC and the MMU-off reader sees stale bytes', async () => {
    const { code, r } = await run('set-way-vs-l3', { platform: 'xgene1', sets: ['scenario.strategy=set-way'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.staleBytes!.bytes).toBe(64 * KiB);
    expect(r.checks.staleBytes!.predicted).toBe('stale');
    expect(r.checks.dirtyLevel!.level).toBe('system.l3');
    // DC CISW on every set and way of the L1D and the L2, as CLIDR/CCSIDR describe them.
    expect(r.checks.cmoCycles!.ops).toBe(setsTimesWays(XG.cache.l1d, 64) + setsTimesWays(XG.cache.l2, 64));
    expect(r.checks.cmoCycles!.cycles).toBeGreaterThan(0);
  });

  it('xgene1 with an L3 that write-backs do not allocate in: set/way pushes the lines past it to memory; nothing is stale', async () => {
    const { code, r } = await run('set-way-vs-l3', { platform: 'xgene1', sets: ['scenario.strategy=set-way', 'cache.l3.writebackAllocate=false'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.staleBytes!.predicted).toBe('clean');
    expect(r.checks.staleBytes!.bytes).toBe(0);
    expect(r.checks.dirtyLevel!.level).toBe('none');
  });

  it('xgene1, by VA: DC CIVAC cleans through the L3 to memory; nothing is stale', async () => {
    const { code, r } = await run('set-way-vs-l3', { platform: 'xgene1', sets: ['scenario.strategy=va'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.staleBytes!.bytes).toBe(0);
    expect(r.checks.dirtyLevel!.level).toBe('none');
    expect(r.checks.cmoCycles!.ops).toBe(64 * KiB / 64);
  });

  it('neoverse-n1, set/way: the lines land in the system cache at the PoC, which the reader sees', async () => {
    const { code, r } = await run('set-way-vs-l3', { sets: ['scenario.strategy=set-way'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.staleBytes!.bytes).toBe(0);
    expect(r.checks.staleBytes!.predicted).toBe('clean');
    expect(r.checks.dirtyLevel!.level).toBe('system.l3');
    expect(r.checks.cmoCycles!.ops).toBe(setsTimesWays(N1.cache.l1d, 64) + setsTimesWays(N1.cache.l2, 64));
  });

  it('without maintenance the reader sees stale data on both platforms; with a Normal-NC reader too', async () => {
    for (const platform of ['neoverse-n1', 'xgene1']) {
      const { code, r } = await run('set-way-vs-l3', { platform, sets: ['scenario.strategy=none', 'scenario.reader=nc'] });
      expect(code, `${platform}: ${JSON.stringify(r.checks)}`).toBe(0);
      expect(r.checks.staleBytes!.bytes).toBeGreaterThan(0);
      expect(r.checks.cmoCycles!.ops).toBe(0);
    }
  });
});

describe('mismatched-alias', () => {
  for (const platform of ['neoverse-n1', 'xgene1']) {
    for (const eviction of ['capacity', 'clean']) {
      it(`${platform}, ${eviction}: A's older cacheable data overwrites B's non-cacheable update`, async () => {
        const { code, r } = await run('mismatched-alias', { platform, sets: [`scenario.eviction=${eviction}`] });
        expect(code, JSON.stringify(r.checks)).toBe(0);
        const l = r.checks.lostUpdate!;
        expect(l.lost).toBe(true);
        expect(l.readByB).toBe(l.writtenByA);
        expect(l.readByB).not.toBe(l.writtenByB);
        expect(r.checks.writeBack!.whereWhenBWrote).toMatch(/system\.cpu0\.l1d dirty/);
      });
    }
  }

  it('with random replacement the default eviction streams more rounds until the line is gone, whatever the seed', async () => {
    const rounds = new Set<number>();
    for (let seed = 1; seed <= 6; seed++) {
      const { code, r } = await run('mismatched-alias', { platform: 'cachegrind', seed, sets: ['cache.l1d.replacement=random', 'cache.l2.replacement=random'] });
      expect(code, `seed ${seed}: ${JSON.stringify(r.checks)}`).toBe(0);
      expect(r.checks.lostUpdate!.lost).toBe(true);
      const loads = r.checks.writeBack!.evictionLoads as number;
      expect(loads % 16).toBe(0);                    // rounds of twice the largest associativity (8-way LL)
      rounds.add(loads / 16);
    }
    // Random victims spare the line a round now and then: some seeds need more than one.
    expect(Math.max(...rounds)).toBeGreaterThan(1);
  });

  it('a one-entry DRAM queue: requests wait at the home node for a credit and still reach DRAM no earlier than now (was an event scheduled in the past)', async () => {
    const { code, r } = await run('mismatched-alias', { platform: 'xgene1', sets: ['dram.queueDepth=1'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const hn = (r as unknown as { stats: { system: { hn: { downstreamStalls: number } } } }).stats.system.hn;
    expect(hn.downstreamStalls).toBeGreaterThan(0);
  });

  it('a level the dirty write-back refreshes keeps the line for its own ways after the level above: the default eviction takes another round (xgene1, 16-way L2)', async () => {
    const { code, r } = await run('mismatched-alias', { platform: 'xgene1', sets: ['cache.l2.ways=16'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.lostUpdate!.lost).toBe(true);
    expect(r.checks.writeBack!.evictionLoads).toBe(64);          // two rounds of twice the largest associativity (16)
  });

  it('when too few eviction lines leave the dirty line where it was, B keeps its data and the check predicts just that', async () => {
    for (const lines of [1, 7]) {
      const { code, r } = await run('mismatched-alias', { platform: 'xgene1', sets: [`scenario.evictionLines=${lines}`] });
      expect(code, JSON.stringify(r.checks)).toBe(0);
      expect(r.checks.lostUpdate!.lost).toBe(false);
      expect(r.checks.lostUpdate!.predicted).toBe(false);
      expect(r.checks.lostUpdate!.readByB).toBe(r.checks.lostUpdate!.writtenByB);
      expect(r.checks.writeBack!.whereAfterWriteBack).toMatch(/dirty/);
      expect(r.checks.writeBack!.notWrittenBack).toMatch(/evictionLines/);
    }
    // Enough of them (31 < the default 32, but past every level's ways): written back and lost, as predicted.
    const { code, r } = await run('mismatched-alias', { platform: 'xgene1', sets: ['scenario.evictionLines=31'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.lostUpdate!.lost).toBe(true);
    expect(r.checks.lostUpdate!.predicted).toBe(true);
  });
});

describe('atomics-contention', () => {
  const N = 4, M = 40;
  const base = [`scenario.pes=${N}`, `scenario.increments=${M}`];

  for (const method of ['ldadd', 'llsc']) {
    it(`${method} on Write-Back memory counts exactly N*M`, async () => {
      const { code, r } = await run('atomics-contention', { sets: [...base, `scenario.method=${method}`, 'scenario.memory=wb'] });
      expect(code, JSON.stringify(r.checks)).toBe(0);
      expect(r.checks.count!.count).toBe(N * M);
      expect(r.checks.aborts!.externalAbort + r.checks.aborts!.unsupportedAtomic).toBe(0);
      expect(r.checks.cyclesPerIncrement!.perPe).toBeGreaterThan(0);
    });
  }

  it('LDADD on Normal-NC follows the region: far counts, abort faults, unsupported faults', async () => {
    const far = await run('atomics-contention', { sets: [...base, 'scenario.memory=nc'] });
    expect(far.code).toBe(0);
    expect(far.r.checks.count!.count).toBe(N * M);
    const ab = await run('atomics-contention', { sets: [...base, 'scenario.memory=nc', 'memory.regions.ram.ncAtomics=abort'] });
    expect(ab.code, JSON.stringify(ab.r.checks)).toBe(0);
    expect(ab.r.checks.count!.count).toBe(0);
    expect(ab.r.checks.aborts!.externalAbort).toBe(N * M);
    const un = await run('atomics-contention', { sets: [...base, 'scenario.memory=nc', 'memory.regions.ram.ncAtomics=unsupported'] });
    expect(un.code, JSON.stringify(un.r.checks)).toBe(0);
    expect(un.r.checks.count!.count).toBe(0);
    expect(un.r.checks.aborts!.unsupportedAtomic).toBe(N * M);
  });

  it('xgene1 (ARMv8.0, no FEAT_LSE): every LDADD is UNDEFINED on WB and NC memory; the same PE counts exactly with LDXR/STXR', async () => {
    for (const memory of ['wb', 'nc']) {
      const undef = await run('atomics-contention', { platform: 'xgene1', sets: [...base, `scenario.memory=${memory}`] });
      expect(undef.code, JSON.stringify(undef.r.checks)).toBe(0);
      expect(undef.r.checks.count!.count).toBe(0);
      expect(undef.r.checks.aborts!.undefinedInstruction).toBe(N * M);
    }
    const lse = await run('atomics-contention', { platform: 'xgene1', sets: [...base, 'core.featLSE=true'] });
    expect(lse.code, JSON.stringify(lse.r.checks)).toBe(0);
    expect(lse.r.checks.count!.count).toBe(N * M);
    expect(lse.r.checks.aborts!.undefinedInstruction).toBe(0);
  });

  it('LDXR/STXR with fewer attempts than guarantee progress: contended increments give up, and the count is exactly those that did not', async () => {
    for (const memory of ['wb', 'nc']) {
      const { code, r } = await run('atomics-contention', { sets: [...base, 'scenario.method=llsc', `scenario.memory=${memory}`, 'scenario.maxAttempts=1'] });
      expect(code, JSON.stringify(r.checks)).toBe(0);
      const given = r.checks.stxrFailures!.givenUp as number;
      expect(given).toBeGreaterThan(0);
      expect(r.checks.count!.count).toBe(N * M - given);
      expect(r.checks.count!.why).toMatch(/maxAttempts=1 is below the 121 attempts/);
    }
  });

  it('LDXR/STXR on Normal-NC: exact with the global monitor; without one every STXR fails (or aborts)', async () => {
    const mon = await run('atomics-contention', { platform: 'xgene1', sets: [...base, 'scenario.method=llsc', 'scenario.memory=nc'] });
    expect(mon.code, JSON.stringify(mon.r.checks)).toBe(0);
    expect(mon.r.checks.count!.count).toBe(N * M);
    const small = ['scenario.pes=2', 'scenario.increments=10', 'scenario.maxAttempts=5', 'scenario.method=llsc', 'scenario.memory=nc', 'memory.regions.ram.globalMonitor=false'];
    const fail = await run('atomics-contention', { sets: small });
    expect(fail.code, JSON.stringify(fail.r.checks)).toBe(0);
    expect(fail.r.checks.count!.count).toBe(0);
    expect(fail.r.checks.stxrFailures!.failures).toBe(2 * 10 * 5);
    expect(fail.r.checks.stxrFailures!.givenUp).toBe(2 * 10);
    const abort = await run('atomics-contention', { sets: [...small, 'memory.regions.ram.exclusivesWithoutMonitor=abort'] });
    expect(abort.code, JSON.stringify(abort.r.checks)).toBe(0);
    expect(abort.r.checks.count!.count).toBe(0);
    expect(abort.r.checks.aborts!.externalAbort).toBe(2 * 10);
  });
});

describe('pmem-persist', () => {
  it.each([
    // platform, strategy, records surviving the power failure (of 32), DC ops UNDEFINED
    ['neoverse-n1', 'cvap', 32, 0],     // DC CVAP cleans past the system cache to the persistent memory
    ['neoverse-n1', 'cvac', 0, 0],      // DC CVAC stops at the system cache (the PoC)
    ['neoverse-n1', 'none', 0, 0],
    ['grace', 'cvap', 32, 0],
    ['grace', 'cvac', 0, 0],
    ['xgene1', 'cvap', 0, 64],          // ARMv8.0: no FEAT_DPB, every DC CVAP is UNDEFINED
    ['xgene1', 'cvac', 32, 0],          // the L3 is above the PoC: DC CVAC cleans through it to memory
    ['cachegrind', 'cvac', 32, 0],      // no L3: the PoC is the memory
  ] as const)('%s with %s: %i records survive, %i DC ops UNDEFINED', async (platform, strategy, survived, undef) => {
    const { code, r } = await run('pmem-persist', { platform, sets: [`scenario.strategy=${strategy}`] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    expect(r.checks.survived!.records).toBe(survived);
    expect(r.checks.survived!.lostBytes).toBe((32 - survived) * 128);
    expect(r.checks.maintenance!.undefinedInstructions).toBe(undef);
  });

  it('durability costs what it must reach: DC CVAP (to memory) > DC CVAC (to the system cache) > nothing, per record on neoverse-n1', async () => {
    const mean = async (strategy: string): Promise<number> => (await run('pmem-persist', { sets: [`scenario.strategy=${strategy}`] })).r.checks.cyclesPerRecord!.mean as number;
    const [cvap, cvac, none] = [await mean('cvap'), await mean('cvac'), await mean('none')];
    expect(cvap).toBeGreaterThan(cvac);
    expect(cvac).toBeGreaterThan(none);
  });

  it('a log larger than half the L1D is a one-line error naming the parameters', async () => {
    await expect(run('pmem-persist', { sets: ['scenario.records=1024'] })).rejects.toThrow(/scenario.records x scenario.recordBytes/);
  });
});
