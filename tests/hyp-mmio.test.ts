/** The hypervisor model's MMIO emulation: a guest access to an emulated device exits to the VMM and completes with its value. */
import { describe, expect, it } from 'vitest';
import { ProgramOpSource, prog, type OpResult } from '../src/core/index.js';
import { Hypervisor } from '../src/hyp/index.js';
import { buildSystem } from '../src/platform/test-helpers.js';

describe('MMIO emulation', () => {
  it('a guest load from an emulated register returns the device model\'s value, a store reaches it, and each costs an exit', () => {
    const sys = buildSystem('neoverse-n1', ['core.count=1', 'mmu.translation=vmsa', 'hyp.trapCycles=1000']);
    const cfg = sys.cfg, ram = sys.map.regions.find((r) => r.kind === 'dram')!;
    const hyp = new Hypervisor({
      store: sys.coherent, regions: sys.map.regions,
      caps: { featS2FWB: false, ctrDic: cfg.cache.dic, mte: false }, lineBytes: cfg.cache.lineBytes,
    }, { policy: 'legacy', cmo: 'none', trapCycles: 1000, tablesBase: ram.base + 0x100_0000 });
    const written: { offset: number; data: number[] }[] = [];
    hyp.addMmio({
      name: 'uart', ipa: 0x0900_0000, size: 0x1000, exitCycles: 5000,
      read: (offset, size) => Uint8Array.from({ length: size }, (_, k) => (k === 0 ? 0x40 + offset / 4 : 0)),
      write: (offset, data) => { written.push({ offset, data: [...data] }); },
    });
    hyp.attachTo(sys.pes[0]!);
    const res: OpResult[] = [];
    sys.attach(0, new ProgramOpSource((function* () {
      yield* hyp.hostInit();
      yield* hyp.enterGuest();
      res.push((yield prog.load(0x0900_0018, 4))!);          // register 6
      yield prog.store(0x0900_0000, 4, 0x61, { wait: true });
      res.push((yield prog.load(0x0900_0000, 8))!);          // a 64-bit load: ISV with SAS=0b11
    })(), 'guest'));
    expect(sys.run({ maxCycles: 10_000_000 }).endReason).toBe('done');
    expect(res.map((r) => [r.ok, r.value])).toEqual([[true, 0x46], [true, 0x40]]);
    expect(written).toEqual([{ offset: 0, data: [0x61, 0, 0, 0] }]);
    expect(hyp.stats.mmioExits).toBe(3);
    expect(hyp.stats.faultCycles).toBeGreaterThanOrEqual(3 * 6000);
    expect(hyp.stats.pagesMapped).toBe(0);                    // MMIO is never mapped at stage 2
  });
});
