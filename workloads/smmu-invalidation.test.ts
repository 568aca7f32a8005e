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
