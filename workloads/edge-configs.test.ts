import { describe, expect, it } from 'vitest';
import { run } from './test-run.js';
import { SCENARIOS } from './index.js';
import { UserError } from '../src/sim/index.js';

// Edge settings a user may try, each of which once crashed some scenario (an internal error,
// exit 3) before it was made a one-line refusal or handled: every scenario must either run
// (pass or fail its check) or refuse with a UserError naming the key it set.
const EDGES: readonly (readonly [string, string])[] = [
  ['dram.queueDepth=1', 'dram'],                         // a credit wait at the home node (event in the past)
  ['sim.requestSlots=16', 'sim.requestSlots'],           // the caches' own fills run out of slots
  ['core.count=1', 'core.count'],                        // two-PE scenarios
  ['mmu.el2=false', 'mmu.el2'],                          // hypervisor scenarios
  ['mmu.translation=vmsa', 'mmu.translation'],           // scenarios written for flat translation
  ['memory.regions.ram.size=1MiB', 'memory.regions.ram.size'],   // layouts at fixed offsets
  ['mmu.l2.ways=3', 'mmu.l2.entries'],                   // a TLB geometry that cannot be built
];

describe('edge settings: every scenario runs or refuses with a one-line error naming the key', () => {
  for (const s of SCENARIOS) {
    it(s.name, async () => {
      for (const [set, key] of EDGES) {
        let code: number;
        try {
          ({ code } = await run(s.name, { sets: [set], maxCycles: 100_000 }));
        } catch (e) {
          expect(e, `${set}: ${String(e)}`).toBeInstanceOf(UserError);
          expect((e as Error).message, set).toContain(key);
          expect((e as Error).message, set).not.toContain('\n');
          continue;
        }
        expect([0, 1], `${set}: exit ${code}`).toContain(code);
      }
    });
  }
});
