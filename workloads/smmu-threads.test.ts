import { describe, expect, it } from 'vitest';
import { spawnSync } from 'node:child_process';
import { run } from './test-run.js';

/**
 * The SMMU's engine inline (smmu.threads=0) and in a worker thread (smmu.threads=1, piscina) give
 * byte-identical results on every scenario that uses the SMMU (src/smmu/host.ts protocol).
 */
const CASES: Array<[string, string[]]> = [
  ['smmu-nested-dma', []],
  ['smmu-faults', []],
  ['smmu-invalidation', []],
  ['smmu-invalidation', ['scenario.device=stream', 'scenario.granularity=range']],
  ['smmu-invalidation', ['scenario.granularity=btm', 'mmu.translation=vmsa', 'smmu.config.btm=true']],
  ['smmu-noncoherent-dma', []],
  ['hcr-dc-dma', []],
  ['vfio-live-migration-alias', []],
];

describe('--smmu-threads 0 and 1 give identical results', () => {
  it.each(CASES)('%s %j', async (name, sets) => {
    const strip = (r: object): string => { const { host: _h, ...rest } = r as Record<string, unknown>; return JSON.stringify(rest); };
    const a = await run(name, { sets: [...sets, 'smmu.threads=0'] });
    const b = await run(name, { sets: [...sets, 'smmu.threads=1'] });
    expect(a.r.verdict).toBe('pass');
    expect(strip(b.r)).toBe(strip(a.r));
  });

  it('the flag: armsim run --smmu-threads 1 exits 0; --smmu-threads 2 is a one-line error, exit 2', () => {
    const ok = spawnSync(process.execPath, ['bin/armsim.js', 'run', 'smmu-nested-dma', '--smmu-threads', '1', '--json'], { encoding: 'utf8' });
    expect(ok.status).toBe(0);
    expect(JSON.parse(ok.stdout).verdict).toBe('pass');
    const bad = spawnSync(process.execPath, ['bin/armsim.js', 'run', 'smmu-nested-dma', '--smmu-threads', '2'], { encoding: 'utf8' });
    expect(bad.status).toBe(2);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toMatch(/--smmu-threads/);
  });
});
