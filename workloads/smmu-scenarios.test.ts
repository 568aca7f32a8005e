import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';

describe('smmu-noncoherent-dma', () => {
  it.each<[readonly string[], 'stale' | 'fresh', string?]>([
    // sets, expected descriptors seen by the device
    [[], 'stale'],                                                        // non-coherent SMMU, no clean
    [['scenario.clean=dc-cvac'], 'fresh'],                                // DC CVAC to PoC before the doorbell
    [['smmu.config.cohacc=true'], 'fresh'],                               // IO-coherent: DMA snoops the dirty lines
    [['smmu.config.cohacc=true', 'scenario.dmaAttrs=nc'], 'stale'],       // coherent SMMU, Normal-NC device mapping
    [['scenario.clean=dc-cvac'], 'fresh', 'xgene1'],                      // before-PoC L3: DC CVAC still reaches the PoC
    [[], 'stale', 'xgene1'],
  ])('%j: the device reads %s descriptors, and every check passes', async (sets, expected, platform = 'neoverse-n1') => {
    const { code, r } = await run('smmu-noncoherent-dma', { platform, sets: [...sets] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    const d = r.checks.descriptors!;
    expect(d.expected).toBe(expected);
    expect(expected === 'stale' ? d.stale : d.fresh).toBe(8);
    expect(r.checks.payload!.staleBytes).toBe(expected === 'stale' ? 512 : 0);
    if (expected === 'stale') expect(d.firstStale).toMatchObject({ index: 0, seqSeen: 0, seqWritten: 1 });
  });

  it('the largest ring (64 descriptors): every payload byte is told apart from the old one', async () => {
    for (const [clean, expected] of [['none', 'stale'], ['dc-cvac', 'fresh']] as const) {
      const { code, r } = await run('smmu-noncoherent-dma', { sets: ['scenario.descriptors=64', `scenario.clean=${clean}`] });
      expect(code, JSON.stringify(r.checks)).toBe(0);
      expect(r.checks.payload![expected === 'stale' ? 'staleBytes' : 'newBytes']).toBe(64 * 64);
    }
  });

  it('the clean costs cycles and the non-coherent run reads memory without snooping', async () => {
    const none = (await run('smmu-noncoherent-dma')).r.checks.timing!;
    const cvac = (await run('smmu-noncoherent-dma', { sets: ['scenario.clean=dc-cvac'] })).r.checks.timing!;
    expect(none.cleanCycles).toBe(0);
    expect(cvac.cleanCycles).toBeGreaterThan(0);
    expect(none.coherentReads).toBe(0);
    expect(none.nonCoherentReads).toBeGreaterThan(0);
    // Cold stage-1 translation: STE (8) + CD (8) + 4 descriptors; then one leaf per new page.
    expect(none.descriptorReads).toBe(22);
  });
});

describe('smmu-nested-dma', () => {
  it('phase 1 (TLBI_NH_VA + SYNC) faults the next DMA; phase 2 (TLBI forgotten) names the stale write', async () => {
    const { code, r } = await run('smmu-nested-dma');
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    const p1 = r.checks.phase1!, p2 = r.checks.phase2!;
    expect(p1.event).toMatchObject({ name: 'F_TRANSLATION', S2: 0, CLASS: 2, RnW: 0, StreamID: 4, InputAddr: '0x80000000' });
    expect(p1.commands).toMatchObject({ consumed: 2, cmdqProd: 2, cmdqCons: 2 });
    expect(p1.page).toMatchObject({ guestBytes: 4096, deviceBytes: 0 });
    expect(p2.staleWrite).toEqual({ iova: '0x80010000', ipa: '0x40410000', pa: expect.stringMatching(/^0x[0-9a-f]+$/), bytes: 4096, wrote: '0x22', overwrote: 'guest data 0x5a' });
    expect(p2.unmappedWrite).toMatchObject({ status: 'done', iotlbHits: 64 });
    expect(p1.mappedWrite.descriptorReads).toBeGreaterThan(20);   // a cold nested walk with its CD fetch through stage 2
    expect(r.checks.smmu).toMatchObject({ tlbiNhVa: 1, syncs: 1, eventsWritten: 1 });
  });

  it('on xgene1 (a non-coherent SMMU: the drivers store Normal-NC) the same, the stale write landing in memory behind the guest\'s cached page', async () => {
    const { r } = await run('smmu-nested-dma', { platform: 'xgene1' });
    expect(r.verdict).toBe('pass');
    expect(r.checks.phase1!.commands).toMatchObject({ consumed: 2, cmdqProd: 2, cmdqCons: 2 });
    expect(r.checks.phase2!.staleWrite).toMatchObject({ bytes: 4096, wrote: '0x22', where: expect.stringMatching(/behind the guest's dirty cached copy/) });
    expect(r.checks.phase2!.page).toMatchObject({ guestBytes: 4096, deviceBytes: 4096 });
  });

  it('with forget=false both phases fault and no page is overwritten', async () => {
    const { r } = await run('smmu-nested-dma', { sets: ['scenario.forget=false'] });
    expect(r.verdict).toBe('pass');
    expect(r.checks.phase2!.expected).toBe('fault');
    expect(r.checks.phase2!.staleWrite).toBeUndefined();
    expect(r.checks.phase2!.page).toMatchObject({ guestBytes: 4096, deviceBytes: 0 });
    expect(r.checks.smmu).toMatchObject({ tlbiNhVa: 2, syncs: 2, eventsWritten: 2 });
  });
});

describe('determinism', () => {
  it.each(['smmu-noncoherent-dma', 'smmu-nested-dma'])('%s twice: byte-identical --json apart from host', async (name) => {
    const strip = (r: object): string => { const { host: _h, ...rest } = r as Record<string, unknown>; return JSON.stringify(rest); };
    const a = await run(name), b = await run(name);
    expect(strip(a.r)).toBe(strip(b.r));
  });
});
