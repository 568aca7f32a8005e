import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';

describe('smmu-faults', () => {
  it.each(['grace', 'xgene1'])('passes on %s too (xgene1: a non-coherent SMMU, the driver stores Normal-NC)', async (platform) => {
    const { code, r } = await run('smmu-faults', { platform });
    const failed = Object.entries(r.checks).filter(([, c]) => !c.pass).map(([k, c]) => `${k}: ${String(c.mismatches ?? JSON.stringify(c))}`);
    expect(failed).toEqual([]);
    expect(code).toBe(0);
  });

  it('every nested fault class is recorded with the expected S2/CLASS/InputAddr/IPA; both stalls resume with retry and complete', async () => {
    const { code, r } = await run('smmu-faults', { platform: 'neoverse-n1' });
    const failed = Object.entries(r.checks).filter(([, c]) => !c.pass).map(([k, c]) => `${k}: ${String(c.mismatches ?? JSON.stringify(c))}`);
    expect(failed).toEqual([]);
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    const c = r.checks;
    expect(c['cd-s2-translation']!.found).toMatchObject({ name: 'F_TRANSLATION', S2: 1, CLASS: 'CD', IPA: '0x40800000', InputAddr: '0x100000000' });
    expect(c['tt-s2-ttb']!.found).toMatchObject({ name: 'F_TRANSLATION', S2: 1, CLASS: 'TT', IPA: '0x40800000' });
    expect(c['tt-s2-next-table']!.found).toMatchObject({ S2: 1, CLASS: 'TT', IPA: '0x40802000' });
    expect(c['tt-s1-walk-abort']!.found).toMatchObject({ name: 'F_WALK_EABT', S2: 0, CLASS: 'TT' });
    expect(c['in-s1-translation']!.found).toMatchObject({ name: 'F_TRANSLATION', S2: 0, CLASS: 'IN', RnW: 1 });
    expect(c['in-s2-translation']!.found).toMatchObject({ name: 'F_TRANSLATION', S2: 1, CLASS: 'IN', IPA: '0x40805000' });
    expect(c['stall-s1']!.found).toMatchObject({ Stall: 1, STAG: 0, S2: 0, CLASS: 'IN' });
    expect(c['stall-s2']!.found).toMatchObject({ Stall: 1, STAG: 1, S2: 1, CLASS: 'IN', IPA: '0x40808000' });
    for (const k of ['stall-s1', 'stall-s2']) {
      expect(c[k]!.dma).toMatch(/^done, 256 bytes, 1 stalls/);
      expect(c[k]!.filledBytes).toBe(256);
    }
    expect(c.eventQueue).toMatchObject({ cases: 14, eventsWritten: 14, stalls: 2, resumes: 2, commandErrors: 0 });
  });
});

describe('smmu-invalidation', () => {
  const G = ['page', 'range', 'asid', 'all', 'vmall'] as const;
  it.each(G)('granularity=%s: no stale translation after the SYNC', async (g) => {
    const { code, r } = await run('smmu-invalidation', { sets: [`scenario.granularity=${g}`] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.correct).toMatchObject({ value: true, stalePages: 0, wrongPages: 0, faultedPages: 0, remappedPages: 32 });
  });

  it('all (and asid, vmall) cost more IOTLB misses and descriptor reads than page; range issues fewer commands than page', async () => {
    const m: Record<string, Record<string, any>> = {};
    for (const g of G) m[g] = (await run('smmu-invalidation', { sets: [`scenario.granularity=${g}`] })).r.checks;
    expect(m.page!.iotlb.misses).toBe(32);                     // the 8 remapped pages per round, 4 rounds
    expect(m.all!.iotlb.misses).toBe(256);                     // every page, every round
    expect(m.all!.iotlb.misses).toBeGreaterThan(m.page!.iotlb.misses);
    expect(m.all!.walks.descriptorReads).toBeGreaterThan(m.page!.walks.descriptorReads);
    expect(m.all!.dma.bytesPerKcycle).toBeLessThan(m.page!.dma.bytesPerKcycle);
    expect(m.vmall!.walks.descriptorReads).toBeGreaterThanOrEqual(m.all!.walks.descriptorReads);
    expect(m.range!.invalidation.commands).toBeLessThan(m.page!.invalidation.commands);
    expect(m.range!.invalidation.byName).toBe('TLBI_NH_VA=4 SYNC=4');
    expect(m.page!.invalidation.byName).toBe('TLBI_NH_VA=32 SYNC=4');
  });

  it('range without IDR3.RIL falls back to the per-page batch, and says so', async () => {
    const { r } = await run('smmu-invalidation', { sets: ['scenario.granularity=range', 'smmu.config.ril=false'] });
    expect(r.verdict).toBe('pass');
    expect(r.checks.invalidation!.mode).toMatch(/per-page/);
    expect(r.checks.invalidation!.byName).toBe('TLBI_NH_VA=32 SYNC=4');
  });

  it('the check is not vacuous: forgetting the invalidation (none) reads stale pages', async () => {
    const { r } = await run('smmu-invalidation', { sets: ['scenario.granularity=none'] });
    expect(r.verdict).toBe('pass');                             // the expected outcome for none is stale
    expect(r.checks.correct).toMatchObject({ expected: 'stale', value: false, firstStale: { round: 1, remapped: '0..7' } });
    expect(r.checks.correct!.stalePages).toBeGreaterThan(0);
  });
});

describe('smmu-faults and smmu-invalidation', () => {
  it.each(['smmu-faults', 'smmu-invalidation'])('%s twice: byte-identical --json apart from host', async (name) => {
    const strip = (r: object): string => { const { host: _h, ...rest } = r as Record<string, unknown>; return JSON.stringify(rest); };
    const a = await run(name), b = await run(name);
    expect(strip(a.r)).toBe(strip(b.r));
  });

  it('the smmu-invalidation suite runs a catalog scenario over every granularity it checks', async () => {
    const { SUITES } = await import('../src/sweep/index.js');
    const { SCENARIOS } = await import('./index.js');
    const s = SUITES.find((x) => x.name === 'smmu-invalidation')!;
    expect(s.scenarios.every((n) => SCENARIOS.some((c) => c.name === n))).toBe(true);
    expect(s.platforms).toEqual(['neoverse-n1', 'grace']);
    expect(s.axes[0]).toMatchObject({ key: 'scenario.granularity', values: ['page', 'range', 'asid', 'all', 'vmall'] });
  });
});
