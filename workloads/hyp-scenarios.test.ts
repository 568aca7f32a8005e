import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';

const KiB = 1024, MiB = 1024 * KiB;
/** A small guest: 256 KiB image, 4 MiB of RAM, 16 KiB fetched. */
const SMALL = [`scenario.imageBytes=${256 * KiB}`, `scenario.guestRamBytes=${4 * MiB}`, `scenario.codeBytes=${16 * KiB}`];

describe('guest-boot-mmu-off', () => {
  const boot = (platform: string, cmo: string, extra: string[] = []) => run('guest-boot-mmu-off', { platform, sets: [...SMALL, `hyp.cmo=${cmo}`, ...extra] });

  it.each([
    // platform, strategy, stale?   (the seed 003 table)
    ['xgene1', 'none', true],
    ['xgene1', 'set-way-at-start', true],        // the external L3 sits above the PoC
    ['xgene1', 'clean-all-at-start', false],
    ['xgene1', 'clean-on-s2-fault', false],
    ['xgene1', 'vmm-clean-loaded', false],
    ['xgene1', 'hcr-dc', false],
    ['neoverse-n1', 'none', true],
    ['neoverse-n1', 'set-way-at-start', false],  // the system cache is at the PoC
    ['grace', 'fwb', false],
  ] as const)('%s with %s: stale=%s, and every check passes', async (platform, cmo, stale) => {
    const { code, r } = await boot(platform, cmo);
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.staleBytes!.bytes > 0).toBe(stale);
    expect(r.checks.correct!.value).toBe(!stale);
    expect(r.checks.s2Faults!.faults).toBeGreaterThanOrEqual(64);     // one per 4 KiB page of the image at least
  });

  it('costs scale as the threads argue: clean-all with RAM size, vmm-clean-loaded with image size, fwb costs nothing', async () => {
    const cyc = async (cmo: string, extra: string[], platform = 'xgene1') => (await boot(platform, cmo, extra)).r.checks.cmoCycles!.cycles as number;
    const allSmall = await cyc('clean-all-at-start', []);
    const allBig = await cyc('clean-all-at-start', [`scenario.guestRamBytes=${16 * MiB}`]);
    expect(allBig).toBeGreaterThan(3 * allSmall);
    const loadedSmall = await cyc('vmm-clean-loaded', []);
    const loadedBig = await cyc('vmm-clean-loaded', [`scenario.imageBytes=${512 * KiB}`]);
    expect(loadedBig).toBeGreaterThan(1.8 * loadedSmall);
    expect(loadedSmall).toBeLessThan(allSmall);
    expect(await cyc('fwb', [], 'grace')).toBe(0);
  });

  it('fwb on a platform without FEAT_S2FWB is refused with a one-line user error (exit 2), before anything runs', async () => {
    await expect(boot('xgene1', 'fwb')).rejects.toThrow(expect.objectContaining({ name: 'UserError', message: expect.stringMatching(/^hyp\.cmo: 'fwb' needs FEAT_S2FWB[^\n]*$/) }));
  });
});
