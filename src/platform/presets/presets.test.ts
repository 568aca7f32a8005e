import { describe, expect, it } from 'vitest';
import { resolveConfig } from '../../sim/config.js';
import { UserError } from '../../sim/errors.js';
import { AddressMap } from '../../mem/address-map.js';
import { checkDramConfig } from '../../mem/dram.js';
import { checkPlatform, PlatformSchema, type CacheLevelName, type PlatformConfig } from '../schema.js';
import { CACHEGRIND } from './cachegrind.js';
import { System } from '../system.js';
import { DEFAULT_PLATFORM, PRESETS } from './index.js';

const resolve = (base: PlatformConfig, sets: string[] = []): PlatformConfig => resolveConfig(PlatformSchema, base, { sets });
const preset = (name: string): PlatformConfig => resolve(PRESETS[name]!);
const LEVELS: CacheLevelName[] = ['l1i', 'l1d', 'l2', 'l3'];

/** The UserError message of `fn`, failing the test if it does not throw one. */
function errorOf(fn: () => unknown): string {
  try { fn(); } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('platform presets', () => {
  it('registers the four presets and keeps neoverse-n1 the default', () => {
    expect(Object.keys(PRESETS).sort()).toEqual(['cachegrind', 'grace', 'neoverse-n1', 'xgene1']);
    expect(DEFAULT_PLATFORM).toBe('neoverse-n1');
  });

  for (const name of Object.keys(PRESETS)) {
    it(`${name}: validates, passes checkPlatform, and has a legal memory map and DRAM config`, () => {
      const cfg = preset(name);
      expect(() => checkPlatform(cfg)).not.toThrow();
      // The map checks alignment, overlaps and the 52-bit limit; the DRAM check what zod does not.
      const regions = Object.entries(cfg.memory.regions).map(([n, r]) => ({ name: n, ...r }));
      expect(() => new AddressMap(regions)).not.toThrow();
      expect(() => checkDramConfig(cfg.dram)).not.toThrow();
      expect(regions.filter((r) => r.kind === 'dram').length).toBeGreaterThan(0);
      expect(cfg.description.length).toBeGreaterThan(0);
      // Every level in use has a power-of-two number of sets (what checkPlatform enforces), spelled out.
      for (const l of LEVELS) {
        if (l === 'l3' && cfg.cache.l3.kind === 'none') continue;
        const sets = cfg.cache[l].sizeBytes / (cfg.cache[l].ways * cfg.cache.lineBytes);
        expect(Number.isInteger(Math.log2(sets)), `${name} ${l} sets=${sets}`).toBe(true);
      }
    });
  }

  it('xgene1: 8 PEs in pairs sharing an L2, an L3 above the PoC, no IDC/DIC', () => {
    const c = preset('xgene1');
    expect(c.core.count).toBe(8);
    expect(c.cache.l2.clusterSize).toBe(2);
    expect(c.cache.l3.kind).toBe('before-poc');
    expect(c.cache.l3.sizeBytes).toBe(8 * 1024 ** 2);
    expect(c.cache.l2.sizeBytes).toBe(256 * 1024);
    expect([c.cache.idc, c.cache.dic]).toEqual([false, false]);
    expect(c.dram.channels).toBe(4);
    expect(c.cache.naming).toBe('arm');
  });

  it('grace: IDC and DIC, a system cache, and GPU memory outside the linear map without MTE tags', () => {
    const c = preset('grace');
    expect(c.core.count).toBe(72);
    expect(c.cache.idc).toBe(true);
    expect(c.cache.dic).toBe(true);
    expect(c.cache.l3.kind).toBe('system-cache');
    const gpu = Object.values(c.memory.regions).filter((r) => r.kind === 'cacheable-device');
    expect(gpu.length).toBe(1);
    expect(gpu[0]!.linearMap).toBe(false);
    expect(gpu[0]!.mteTags).toBe(false);
    expect(gpu[0]!.latency).toBeGreaterThan(0);
    expect(c.memory.regions['gpu-mem']).toBe(gpu[0]);
    expect(c.memory.regions['ram']!.linearMap).toBe(true);
  });

  it('cachegrind: cachegrind naming, no L3, LRU everywhere, no prefetch, LL untouched by write-backs', () => {
    const c = preset('cachegrind');
    expect(c.core.count).toBe(1);
    expect(c.cache.naming).toBe('cachegrind');
    expect(c.cache.l3.kind).toBe('none');
    for (const l of LEVELS) expect(c.cache[l].replacement, l).toBe('lru');
    expect(c.cache.prefetch).toBe('none');
    expect(c.cache.l2.inclusion).toBe('non-inclusive');
    expect(c.cache.l2.writebackAllocate).toBe(false);
    expect(c.cache.l2.writebackTouches).toBe(false);
    expect(c.cache.l2.clusterSize).toBe(1);
    expect(c.cache.protocol).toBe('mesi');
    // valgrind's arm64 defaults: I1/D1 16384,4,64 and LL 262144,8,64.
    expect([c.cache.l1i.sizeBytes, c.cache.l1i.ways, c.cache.l1d.sizeBytes, c.cache.l1d.ways]).toEqual([16384, 4, 16384, 4]);
    expect([c.cache.l2.sizeBytes, c.cache.l2.ways, c.cache.lineBytes]).toEqual([262144, 8, 64]);
    expect(c.memory.regions['ram']!.kind).toBe('dram');
  });

  it('cachegrind: --set overrides change the geometry like --D1/--LL', () => {
    const c = resolve(CACHEGRIND, ['cache.l1d.sizeBytes=16KiB', 'cache.l1d.ways=4']);
    expect(c.cache.l1d.sizeBytes).toBe(16 * 1024);
    expect(c.cache.l1d.ways).toBe(4);
    expect(() => checkPlatform(c)).not.toThrow();

    // Values different from the defaults, as --D1=65536,2,64 --LL=8388608,16,64 would give.
    const d = resolve(CACHEGRIND, ['cache.l1d.sizeBytes=64KiB', 'cache.l1d.ways=2', 'cache.l2.sizeBytes=8MiB', 'cache.l2.ways=16']);
    expect([d.cache.l1d.sizeBytes, d.cache.l1d.ways, d.cache.l2.sizeBytes, d.cache.l2.ways]).toEqual([65536, 2, 8 * 1024 ** 2, 16]);
    expect(() => checkPlatform(d)).not.toThrow();
    expect(CACHEGRIND.cache.l1d.sizeBytes).toBe(16 * 1024);   // the preset itself is not changed
  });

  it('cachegrind: a geometry without a power-of-two set count is a UserError naming the field', () => {
    const c = resolve(CACHEGRIND, ['cache.l1d.sizeBytes=3000']);
    const m = errorOf(() => checkPlatform(c));
    expect(m).toContain('cache.l1d.sizeBytes');
    expect(m).toContain('3000');
    // 48 KiB / (4 ways x 64 B) = 192 sets: whole but not a power of two.
    expect(errorOf(() => checkPlatform(resolve(CACHEGRIND, ['cache.l2.sizeBytes=48KiB'])))).toContain('cache.l2.sizeBytes');
  });

  it('xgene1: a PE count the cluster size does not divide leaves the last cluster partial (core.count=1 is legal)', () => {
    const c = resolve(PRESETS['xgene1']!, ['core.count=3']);
    expect(() => checkPlatform(c)).not.toThrow();
    const sys = new System(c, 1);
    expect(sys.caches.l2.map((l) => l.name)).toEqual(['system.cluster0.l2', 'system.cluster1.l2']);
  });

  it('a line larger than a DRAM burst is a UserError naming cache.lineBytes', () => {
    expect(errorOf(() => checkPlatform(resolve(CACHEGRIND, ['cache.lineBytes=128'])))).toContain('cache.lineBytes');
  });
});
