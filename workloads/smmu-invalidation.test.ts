import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';

describe('smmu-invalidation granularity=btm (the guest CPU invalidates with TLBI VALE1IS + DSB, no CMD_TLBI)', () => {
  const sets = (btm: boolean): string[] => ['scenario.granularity=btm', 'mmu.translation=vmsa', `smmu.config.btm=${btm}`];

  it('with IDR0.BTM the broadcast removes the SMMU\'s IOTLB entries: no stale page, the same misses as per-page CMD_TLBI_NH_VA', async () => {
    const { code, r } = await run('smmu-invalidation', { sets: sets(true) });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.correct).toMatchObject({ expected: 'fresh', value: true, stalePages: 0, wrongPages: 0, remappedPages: 32 });
    expect(r.checks.iotlb!.misses).toBe(32);
    expect(r.checks.invalidation).toMatchObject({
      commands: 0, byName: 'TLBI VALE1IS (PE)=32', btm: true, broadcastTlbis: 32, mode: expect.stringMatching(/IDR0\.BTM=1/),
    });
    expect(r.checks.invalidation!.broadcastEntriesRemoved).toBeGreaterThanOrEqual(32);
  });

  it('without BTM the same driver leaves stale translations: the DMA after the unmap reads the old pages', async () => {
    const { r } = await run('smmu-invalidation', { sets: sets(false) });
    expect(r.verdict).toBe('pass');                               // stale is the expected outcome without BTM
    expect(r.checks.correct).toMatchObject({ expected: 'stale', value: false, firstStale: { round: 1, remapped: '0..7' } });
    // As many stale reads as a driver that forgets to invalidate at all.
    const none = (await run('smmu-invalidation', { sets: ['scenario.granularity=none'] })).r;
    expect(r.checks.correct!.stalePages).toBe(none.checks.correct!.stalePages);
    expect(r.checks.invalidation).toMatchObject({ btm: false, broadcastTlbis: 0, broadcastEntriesRemoved: 0 });
  });

  it('needs a PE MMU to issue the TLBIs, and says so', async () => {
    await expect(run('smmu-invalidation', { sets: ['scenario.granularity=btm', 'smmu.config.btm=true'] })).rejects.toThrow(/mmu\.translation=vmsa/);
  });
});

describe('smmu-invalidation device=stream (the streaming device reads each page in one 4 KiB request)', () => {
  it('per-page invalidation leaves no stale page; forgetting it does; more requests in flight hide the refill walks', async () => {
    const go = async (...sets: string[]) => (await run('smmu-invalidation', { sets: ['scenario.device=stream', ...sets] })).r;
    const page = await go('scenario.granularity=page');
    expect(page.verdict).toBe('pass');
    expect(page.checks.correct).toMatchObject({ value: true, stalePages: 0, remappedPages: 32 });
    expect(page.checks.iotlb).toMatchObject({ translations: 256, misses: 32 });   // one translation per page per round
    expect(page.checks.dma).toMatchObject({ device: 'stream', maxOutstanding: 8, requests: 320 });
    const none = await go('scenario.granularity=none');
    expect(none.checks.correct).toMatchObject({ expected: 'stale', value: false });
    const one = await go('scenario.granularity=page', 'scenario.streamOutstanding=1', 'scenario.streamInterval=1');
    const eight = await go('scenario.granularity=page', 'scenario.streamOutstanding=8', 'scenario.streamInterval=1');
    expect(eight.checks.dma!.cycles).toBeLessThan(one.checks.dma!.cycles);
    expect(one.checks.dma!.throttledCycles).toBeGreaterThan(0);
  });
});
