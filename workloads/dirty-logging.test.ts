import { describe, expect, it } from 'vitest';
import { UserError } from '../src/sim/index.js';
import { run } from './test-run.js';

describe('dirty-logging: write-protect faults against FEAT_HAFDBS stage-2 dirty state', () => {
  it('both modes log exactly the pages written each round; wp pays a fault per page, dbm none after the first round', async () => {
    const res: Record<string, any> = {};
    for (const mode of ['wp', 'dbm']) {
      const { code, r } = await run('dirty-logging', { sets: [`hyp.dirtyLog=${mode}`, 'scenario.pages=24', 'scenario.rounds=3'] });
      expect(code, JSON.stringify(r.checks)).toBe(0);
      expect(r.checks.dirtyLog).toMatchObject({ missed: 0, extra: 0, pagesWritten: 48 });     // 16 of 24 pages a round
      res[mode] = r.checks;
    }
    expect(res.wp.faults.perRound).toEqual([24 + 16, 16, 16]);
    expect(res.dbm.faults.perRound).toEqual([24, 0, 0]);
    expect(res.dbm.walkUpdates.perRound).toEqual([16, 16, 16]);
    expect(res.wp.walkUpdates.perRound).toEqual([0, 0, 0]);
    // The trade: dbm's guest runs without traps; collection costs about the same (a scan of 24 entries).
    expect(res.dbm.cycles.guestPerRound[1]).toBeLessThan(res.wp.cycles.guestPerRound[1] / 10);
  });

  it('without the TLBI after cleaning, pages written again are lost from the log (either mode)', async () => {
    for (const mode of ['wp', 'dbm']) {
      const { code, r } = await run('dirty-logging', { sets: [`hyp.dirtyLog=${mode}`, 'scenario.pages=24', 'scenario.tlbi=false'] });
      expect(code).toBe(0);                                     // the check predicts the loss
      expect(r.checks.dirtyLog.missed).toBeGreaterThan(0);
      expect(r.checks.dirtyLog.extra).toBe(0);
      expect(r.checks.dirtyLog.perRound[0]).toEqual({ written: 16, logged: 16 });
    }
  });

  it("dbm on a platform without FEAT_HAFDBS dirty state is refused naming the key", async () => {
    await expect(run('dirty-logging', { platform: 'xgene1', sets: ['hyp.dirtyLog=dbm'] })).rejects.toThrow(UserError);
    await expect(run('dirty-logging', { sets: ['hyp.dirtyLog=dbm', 'mmu.features.hafdbs=1'] })).rejects.toThrow(/hyp\.dirtyLog.*mmu\.features\.hafdbs=2/);
  });
});
