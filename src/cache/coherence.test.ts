import { describe, expect, it } from 'vitest';
import { ProgramOpSource, prog, type Program } from '../core/index.js';
import { NORMAL_WB_RWA_ISH } from '../mem/index.js';
import { STATE_DIRTY } from './tag-array.js';
import { Rng } from '../sim/index.js';
import { buildSystem } from '../platform/test-helpers.js';

/**
 * Randomised coherence check on tiny caches (so lines are evicted, snooped, written back and
 * refetched all the time): every address has one writer that stores 1, 2, 3, ...; every PE reads
 * random addresses. Coherence demands that a PE never sees an address's value go backwards, and
 * that after the run the coherent value of each address is its writer's last store — whatever the
 * protocol, inclusion, clustering, L3 kind or maintenance thrown in.
 */
const WB = NORMAL_WB_RWA_ISH;
const LINES = 24;

function stress(preset: string, sets: string[], seed: number) {
  const pes = 4;
  const sys = buildSystem(preset, [`core.count=${pes}`, 'cache.l1d.sizeBytes=512', 'cache.l1d.ways=2', 'cache.l2.sizeBytes=1KiB', 'cache.l2.ways=2',
    'cache.l3.sizeBytes=2KiB', 'cache.l3.ways=2', ...sets], seed);
  const base = sys.map.regions.find((r) => r.kind === 'dram')!.base;
  // Word w of line l lives at base + l*64 + w*8; PE p writes words w with w % pes === p.
  const addrOf = (l: number, w: number): number => base + l * 64 + w * 8;
  const last = new Map<number, number>();
  const violations: string[] = [];
  // readCoherent (which asks only the clusters the snoop filter names) against a scan of every
  // cache: a dirty L1D copy, else a dirty L2 copy, else the L3's, else memory.
  const h = sys.caches;
  const scan = (pa: number): number[] => {
    const line = Math.floor(pa / 64), out = new Uint8Array(8);
    const from = (l: (typeof h.l1d)[number] | undefined, dirtyOnly: boolean): boolean => {
      const s = l === undefined ? -1 : l.arr.lookup(line);
      if (s < 0 || (dirtyOnly && (l!.arr.state[s]! & STATE_DIRTY) === 0)) return false;
      l!.arr.readBytes(s, pa - line * 64, out, 0, 8);
      return true;
    };
    if (!h.l1d.some((l) => from(l, true)) && !h.l2.some((l) => from(l, true)) && !from(h.l3, false)) out.set(h.readMemory(pa, 8));
    return [...out];
  };
  let mismatches = 0;
  const compareViews = (): void => {
    for (let l = 0; l < LINES; l++) {
      const a = addrOf(l, l % 8);
      if (JSON.stringify([...h.readCoherent(a, 8)]) !== JSON.stringify(scan(a))) mismatches++;
    }
  };
  const program = (p: number): Program => (function* () {
    const rng = new Rng(seed * 31 + p);
    const seen = new Map<number, number>();
    for (let i = 0; i < 400; i++) {
      if (p === 0 && i % 25 === 0) compareViews();
      const l = rng.nextInt(LINES), w = rng.nextInt(8);
      const a = addrOf(l, w);
      const r = rng.nextInt(10);
      if (r < 4 && w % pes === p) {
        const v = (last.get(a) ?? 0) + 1;
        last.set(a, v);
        yield prog.store(a, 8, v, { attrs: WB });
      } else if (r === 9) {
        yield prog.dc(rng.nextInt(2) === 0 ? 'civac' : 'cvac', a, { attrs: WB });
      } else {
        const got = (yield prog.load(a, 8, { attrs: WB }))!.value;
        const before = seen.get(a) ?? 0;
        if (got < before) violations.push(`cpu${p} saw 0x${a.toString(16)} go from ${before} to ${got}`);
        seen.set(a, got);
      }
    }
  })();
  for (let p = 0; p < pes; p++) sys.attach(p, new ProgramOpSource(program(p), `p${p}`));
  const out = sys.run({ watchdogCycles: 1_000_000 });
  const lost: string[] = [];
  for (const [a, v] of last) {
    const b = sys.caches.readCoherent(a, 8);
    const got = b.reduce((acc, x, i) => acc + x * 2 ** (8 * i), 0);
    if (got !== v) lost.push(`0x${a.toString(16)}: last store ${v}, coherent value ${got}`);
  }
  compareViews();
  return { out, violations, lost, mismatches };
}

describe('coherence under stress', () => {
  const configs: [string, string[]][] = [
    ['neoverse-n1', []],
    ['neoverse-n1', ['cache.protocol=mesi']],
    ['neoverse-n1', ['cache.l2.inclusion=non-inclusive', 'cache.l1d.replacement=random']],
    ['neoverse-n1', ['cache.l2.inclusion=exclusive', 'cache.l3.inclusion=exclusive']],
    ['neoverse-n1', ['cache.l3.inclusion=inclusive', 'cache.prefetch=next-line']],
    ['neoverse-n1', ['cache.l3.kind=none', 'cache.l2.clusterSize=2']],
    ['xgene1', ['cache.l2.clusterSize=2']],
    ['xgene1', ['cache.l2.clusterSize=4', 'cache.protocol=mesi', 'cache.l2.inclusion=non-inclusive']],
    ['xgene1', ['cache.l2.clusterSize=2', 'cache.l2.inclusion=exclusive', 'cache.l3.inclusion=inclusive', 'cache.prefetch=next-line']],
    ['grace', ['cache.l2.replacement=random', 'cache.l3.replacement=plru']],
    ['xgene1', ['cache.l2.clusterSize=3']],
  ];
  for (const [preset, sets] of configs) {
    it(`${preset} ${sets.join(' ') || '(preset)'}: reads never go backwards and no store is lost`, () => {
      for (const seed of [1, 2, 3, 4]) {
        const r = stress(preset, sets, seed);
        expect(r.out.endReason).toBe('done');
        expect(r.violations.slice(0, 5)).toEqual([]);
        expect(r.lost.slice(0, 5)).toEqual([]);
        expect(r.mismatches).toBe(0);
      }
    });
  }
});
