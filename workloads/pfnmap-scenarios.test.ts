import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';

/** Small runs: a few increments on two vCPUs. */
const SMALL = ['scenario.increments=8'];

describe('atomics-normal-nc', () => {
  const atomics = (platform: string, policy: string, extra: string[] = []) =>
    run('atomics-normal-nc', { platform, sets: [...SMALL, `hyp.policy=${policy}`, ...extra] });

  it('LDXR/STXR on the global monitor with scenario.maxAttempts below the progress bound: the count is the increments that did not give up', async () => {
    const { code, r } = await run('atomics-normal-nc', { platform: 'grace', sets: ['hyp.policy=wc', 'scenario.maxAttempts=2'] });
    expect(code, JSON.stringify(r.checks)).toBe(0);
    const o = r.checks.observed!;
    expect(o.givenUp).toBeGreaterThan(0);
    expect(o.llsc).toBe(100 - (o.givenUp as number));
    expect(o.ldadd).toBe(100);
    expect(r.checks.expected!.outcome).toMatch(/maxAttempts=2/);
  });

  it.each([
    // platform, policy, stage 2 (or refusal), LDADD count, LL/SC count, aborts   (2 vCPUs x 8)
    ['grace', 'cacheable-pfnmap', 'normal-wb', 16, 16, 0],                 // FWB + DIC: Normal WB, exact
    ['grace', 'legacy', 'device-nGnRE', 16, 16, 0],                         // Device, but gpu-mem does far atomics and has a global monitor
    ['grace', 'wc', 'normal-nc', 16, 16, 0],
    ['neoverse-n1', 'legacy', 'device-nGnRE', 0, 0, 16],                    // pcie-mmio: LDADD aborts, every STXR fails
    ['neoverse-n1', 'wc', 'normal-nc', 0, 0, 16],
    ['neoverse-n1', 'cacheable-pfnmap-v2', 'fault-refused -EINVAL', 0, 0, 32],   // no FWB, no struct page: every access faults at stage 2
    ['neoverse-n1', 'cacheable-pfnmap', 'memslot-refused -EINVAL', 0, 0, 0],     // no FWB: the memslot is refused
    ['xgene1', 'wc', 'normal-nc', 0, 0, 16],                                // ARMv8.0: each LDADD UNDEFINED; soc-csr has no global monitor: every STXR fails
    ['xgene1', 'cacheable-pfnmap-v2', 'fault-refused -EINVAL', 0, 0, 32],   // 16 LDADD UNDEFINED (before any translation), 16 LDXR stage-2 faults
  ] as const)('%s under %s: %s, counts %i / %i, %i aborts', async (platform, policy, stage2, ldadd, llsc, aborts) => {
    const { code, r } = await atomics(platform, policy);
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.stage2!.observed).toBe(stage2);
    expect(r.checks.observed!.ldadd).toBe(ldadd);
    expect(r.checks.observed!.llsc).toBe(llsc);
    expect(r.checks.expected!.ldadd).toBe(ldadd);
    expect(r.checks.aborts!.total).toBe(aborts);
  });

  it('xgene1 (no FEAT_LSE): the LDADDs are Undefined Instruction exceptions, not aborts or stage-2 faults', async () => {
    for (const policy of ['wc', 'cacheable-pfnmap-v2']) {
      const { r } = await atomics('xgene1', policy);
      expect(r.verdict).toBe('pass');
      expect(r.checks.aborts!.ldadd).toEqual({ externalAbort: 0, unsupportedAtomic: 0, alignment: 0, undefinedInstruction: 16, stage2: 0 });
    }
  });

  it('grace under legacy with gpu-mem made ncAtomics=abort: every LDADD is an external abort', async () => {
    const { r } = await atomics('grace', 'legacy', ['memory.regions.gpu-mem.ncAtomics=abort']);
    expect(r.verdict).toBe('pass');
    expect(r.checks.aborts!.ldadd.externalAbort).toBe(16);
    expect(r.checks.observed!.llsc).toBe(16);
  });

  it('wc without VM_ALLOW_ANY_UNCACHED maps the region Device-nGnRE, as legacy does', async () => {
    const { r } = await atomics('grace', 'wc', ['scenario.allowAnyUncached=false']);
    expect(r.verdict).toBe('pass');
    expect(r.checks.stage2!.observed).toBe('device-nGnRE');
  });
});

describe('exec-on-device-memory', () => {
  it.each([
    // platform, policy, fetch first, fetch after a read (page mapped XN by the read)
    ['grace', 'legacy', 'stage-2 translation fault', 'stage-2 permission fault'],               // -ENOEXEC
    ['grace', 'wc', 'stage-2 translation fault', 'stage-2 permission fault'],                   // -ENOEXEC
    ['grace', 'cacheable-pfnmap-v2', 'stage-2 translation fault', 'stage-2 permission fault'],  // -ENOEXEC (VM_IO, no struct page)
    ['grace', 'cacheable-pfnmap', 'ok', 'ok'],                                                  // Normal WB, executable (X on DIC)
    ['neoverse-n1', 'cacheable-pfnmap', 'not run', 'not run'],                                  // memslot refused
  ] as const)('%s under %s: fetch %s, fetch after a read %s', async (platform, policy, fetch, fetchAfterRead) => {
    const { code, r } = await run('exec-on-device-memory', { platform, sets: [`hyp.policy=${policy}`] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.fetch!.observed).toBe(fetch);
    expect(r.checks.fetchAfterRead!.observed).toBe(fetchAfterRead);
    expect(r.checks.stage2!.execRefusals).toBe(fetch === 'ok' || fetch === 'not run' ? 0 : 2);
  });
});

describe('mte-on-pfnmap', () => {
  it.each([
    // platform, policy, extra sets, stage 2, Tagged load/store, untagged read, tag faults the hypervisor saw
    ['grace', 'legacy', [], 'memslot-refused -EINVAL', 'not run', 'not run', 0],                                  // MTE VM, no VM_MTE_ALLOWED
    ['grace', 'cacheable-pfnmap', [], 'memslot-refused -EINVAL', 'not run', 'not run', 0],                        // ... and no FEAT_MTE_PERM
    ['grace', 'cacheable-pfnmap', ['mmu.attrs.featMTEPerm=true'], 'normal-wb NoTagAccess', 'stage-2 permission fault', 'ok', 2],   // FWB=1: MemAttr 0b1110
    ['grace', 'cacheable-pfnmap', ['mmu.attrs.featMTEPerm=true', 'hyp.cmo=clean-on-s2-fault'], 'normal-wb NoTagAccess', 'stage-2 permission fault', 'ok', 2],   // FWB=0: 0b0100
    ['grace', 'cacheable-pfnmap', ['scenario.mteAllowed=true'], 'normal-wb', 'external-abort', 'ok', 0],          // a driver claiming tags: no tag storage
    ['grace', 'legacy', ['scenario.mteAllowed=true'], 'device-nGnRE', 'ok', 'ok', 0],                             // Device: not Tagged after combining
    ['neoverse-n1', 'cacheable-pfnmap', ['mmu.attrs.featMTEPerm=true'], 'memslot-refused -EINVAL', 'not run', 'not run', 0],   // no FWB
  ] as const)('%s under %s %j: %s, Tagged %s, untagged %s', async (platform, policy, extra, stage2, tagged, untagged, tagFaults) => {
    const { code, r } = await run('mte-on-pfnmap', { platform, sets: [`hyp.policy=${policy}`, ...extra] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.stage2!.observed).toBe(stage2);
    expect(r.checks.tagged!.load).toBe(tagged);
    expect(r.checks.tagged!.store).toBe(tagged);
    expect(r.checks.untagged!.observed).toBe(untagged);
    expect(r.checks.tagAccessFaults!.seenByHypervisor).toBe(tagFaults);
  });
});

describe('cow-device-pfn-clean', () => {
  it.each([
    // platform, fix, crashed, ESR
    ['xgene1', false, true, '0x96000145'],      // seed 004's ESR exactly: DABT current EL, CM, WnR, translation fault level 1
    ['neoverse-n1', false, true, '0x96000144'], // the same at level 0 (a 4KB-granule host map: the level-0 entry is empty)
    ['neoverse-n1', true, false, '0x0'],        // kvm_is_device_pfn(): no clean
    ['grace', false, false, '0x0'],             // FEAT_S2FWB: KVM does not clean
  ] as const)('%s with fix=%s: crashed=%s (ESR %s)', async (platform, fix, crashed, esr) => {
    const { code, r } = await run('cow-device-pfn-clean', { platform, sets: [`scenario.fix=${fix}`, 'hyp.policy=legacy'] });
    expect(r.verdict).toBe('pass');
    expect(code).toBe(0);
    expect(r.checks.guestUsedBar!.ok).toBe(true);
    expect(r.checks.hostFault!.crashed).toBe(crashed);
    expect(r.checks.hostFault!.esr).toBe(esr);
    expect(r.checks.clean!.dcOps).toBe(crashed ? 1 : 0);
  });
});

describe('passthrough scenarios: configuration', () => {
  it("hyp.cmo=fwb on a platform without FEAT_S2FWB is a one-line user error (exit 2), before anything runs", async () => {
    await expect(run('atomics-normal-nc', { platform: 'neoverse-n1', sets: ['hyp.cmo=fwb'] })).rejects.toThrow(
      expect.objectContaining({ name: 'UserError', message: expect.stringMatching(/^hyp\.cmo: 'fwb' needs FEAT_S2FWB[^\n]*$/) }));
  });
});
