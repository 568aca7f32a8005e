import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';

describe('hcr-dc-dma (seed 003: HCR_EL2.DC vs a passthrough non-coherent DMA device)', () => {
  it.each<[string, string, readonly string[], number]>([
    // platform, hyp.cmo, extra sets, stale bytes the device reads (of 8192)
    ['neoverse-n1', 'hcr-dc', [], 8192],                                   // DC=1: the firmware's stores sit dirty in the L1D
    ['neoverse-n1', 'clean-on-s2-fault', [], 0],                           // DC=0: MMU-off stores are Device, they reach memory
    ['neoverse-n1', 'none', [], 0],
    ['xgene1', 'hcr-dc', [], 8192],
    ['xgene1', 'clean-on-s2-fault', [], 0],
    ['grace', 'fwb', [], 8192],                                            // FWB forces Normal WB over the MMU-off default too
    ['neoverse-n1', 'hcr-dc', ['scenario.firmwareClean=dc-cvac'], 0],      // the firmware cleans to PoC by VA before the doorbell
    ['neoverse-n1', 'hcr-dc', ['smmu.config.cohacc=true'], 0],             // an IO-coherent device snoops the dirty lines
  ])('%s, hyp.cmo=%s %j: the device reads %i stale bytes, and every check passes', async (platform, cmo, extra, stale) => {
    const { code, r } = await run('hcr-dc-dma', { platform, sets: [`hyp.cmo=${cmo}`, ...extra] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    const c = r.checks.staleBytes!;
    expect(c).toMatchObject({ bytes: stale, of: 8192, strategy: cmo, predicted: stale > 0 ? 'stale' : 'correct' });
    if (stale > 0) expect(c.firstStale).toEqual({ offset: 0, saw: '0xee', wrote: '0x10' });
    expect(r.checks.doorbell!.observed).toBe('device-nGnRE');             // stage 2 keeps the BAR Device even with DC=1
    expect(r.checks.cycles!.s2Faults).toBe(3);                            // two buffer pages and the BAR page
  });

  it('the default run is the counter-example (hcr-dc, COHACC=0), and the firmware clean costs cycles', async () => {
    const def = (await run('hcr-dc-dma')).r;
    expect(def.verdict).toBe('pass');
    expect(def.checks.staleBytes).toMatchObject({ strategy: 'hcr-dc', hcrDc: true, deviceCoherent: false, bytes: 8192 });
    const cleaned = (await run('hcr-dc-dma', { sets: ['scenario.firmwareClean=dc-cvac'] })).r;
    expect(cleaned.checks.cycles!.firmwareClean).toBeGreaterThan(0);
    expect(cleaned.checks.memory!.staleBytes).toBe(0);
    expect(def.checks.memory!.staleBytes).toBe(8192);
  });

  it('a policy that refuses the BAR (cacheable-pfnmap-v2 without FWB) is an outcome: the device never runs', async () => {
    const { code, r } = await run('hcr-dc-dma', { sets: ['hyp.policy=cacheable-pfnmap-v2'] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.doorbell).toMatchObject({ expected: 'fault-refused -EINVAL', observed: 'fault-refused -EINVAL' });
    expect(r.checks.completed!.dmaStatus).toBe('not started');
  });
});

describe('vfio-live-migration-alias (seed 002: a cacheable VMM alias of a non-cacheable guest mapping)', () => {
  it.each<[string, string, readonly string[], { map: string; vmm: number; device: number; lost: number }]>([
    // platform, hyp.policy, extra sets, stage-2 mapping and stale/lost bytes (window 4096: VMM read the first half, wrote the second)
    ['grace', 'legacy', [], { map: 'device-nGnRE', vmm: 4096, device: 2048, lost: 2048 }],
    ['grace', 'wc', [], { map: 'normal-nc', vmm: 4096, device: 2048, lost: 2048 }],
    ['grace', 'cacheable-pfnmap-v2', [], { map: 'normal-nc', vmm: 4096, device: 2048, lost: 2048 }],     // VM_IO forces NC
    ['grace', 'cacheable-pfnmap-v2', ['scenario.vmIo=false'], { map: 'normal-wb', vmm: 0, device: 0, lost: 0 }],
    ['grace', 'cacheable-pfnmap', [], { map: 'normal-wb', vmm: 0, device: 0, lost: 0 }],                // matching attributes
    ['grace', 'wc', ['scenario.vmmWrites=false'], { map: 'normal-nc', vmm: 4096, device: 0, lost: 0 }],  // clean lines only: the VMM alone is stale
    ['grace', 'wc', ['smmu.config.cohacc=false'], { map: 'normal-nc', vmm: 4096, device: 0, lost: 2048 }],
    ['neoverse-n1', 'wc', [], { map: 'normal-nc', vmm: 4096, device: 2048, lost: 2048 }],
    ['neoverse-n1', 'cacheable-pfnmap', [], { map: 'memslot-refused -EINVAL', vmm: 0, device: 0, lost: 0 }],
    ['xgene1', 'legacy', [], { map: 'device-nGnRE', vmm: 4096, device: 0, lost: 2048 }],                // non-coherent device reads memory
    ['grace', 'wc', ['scenario.pgprot=noncached'], { map: 'normal-nc', vmm: 0, device: 0, lost: 0 }],   // the VMM's mmap is non-cacheable too: no alias in any cache
    ['grace', 'legacy', ['scenario.pgprot=device'], { map: 'device-nGnRE', vmm: 0, device: 0, lost: 0 }],
  ])('%s, hyp.policy=%s %j: %o', async (platform, policy, extra, want) => {
    const { code, r } = await run('vfio-live-migration-alias', { platform, sets: [`hyp.policy=${policy}`, ...extra] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.stage2!.observed).toBe(want.map);
    expect(r.checks.vmmStaleBytes!.bytes).toBe(want.vmm);
    expect(r.checks.deviceStaleBytes!.bytes).toBe(want.device);
    expect(r.checks.lostBytes!.bytes).toBe(want.lost);
  });

  it('twice: byte-identical --json apart from host', async () => {
    const strip = (r: object): string => { const { host: _h, ...rest } = r as Record<string, unknown>; return JSON.stringify(rest); };
    const a = await run('vfio-live-migration-alias', { sets: ['hyp.policy=wc'] }), b = await run('vfio-live-migration-alias', { sets: ['hyp.policy=wc'] });
    expect(strip(a.r)).toBe(strip(b.r));
  });
});
