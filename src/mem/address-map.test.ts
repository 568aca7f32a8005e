import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { AddressMap, type RegionProps } from './address-map.js';
import { UserError } from '../sim/index.js';

const GiB = 2 ** 30;

function region(name: string, base: number, size: number, extra: Partial<RegionProps> = {}): RegionProps {
  return { name, kind: 'dram', base, size, mteTags: false, ncAtomics: 'far', globalMonitor: true, linearMap: true, latency: 0, ...extra };
}

/** dram at 2 GiB (2 GiB), a UART below it, a second dram bank at 64 GiB (above 2^32). */
const PLATFORM = [
  region('dram0', 0x8000_0000, 2 * GiB, { mteTags: true }),
  region('uart', 0x0900_0000, 0x1000, { kind: 'device', ncAtomics: 'abort', globalMonitor: false, linearMap: false, latency: 40 }),
  region('dram1', 64 * GiB, 4 * GiB),
];

function userErrorOf(fn: () => unknown): string {
  try { fn(); } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    if (process.env.SHOW_MESSAGES) console.log(`    message: ${(e as Error).message}`);
    return (e as Error).message;
  }
  throw new Error('expected a UserError');
}

describe('AddressMap', () => {
  const map = new AddressMap(PLATFORM);

  it('keeps the given order and properties, each region with its own store', () => {
    expect(map.regions.map((r) => [r.index, r.name])).toEqual([[0, 'dram0'], [1, 'uart'], [2, 'dram1']]);
    expect(map.region(1)).toMatchObject({ kind: 'device', latency: 40, ncAtomics: 'abort', globalMonitor: false, base: 0x0900_0000, size: 0x1000 });
    expect(map.region(0).mteTags).toBe(true);
    expect(map.region(2).store.base).toBe(64 * GiB);
    expect(Object.isFrozen(map.region(0))).toBe(true);
    expect(() => map.region(3)).toThrow(RangeError);
  });

  it('find(): boundaries, holes and accesses that run off the end', () => {
    expect(map.find(0x8000_0000)).toBe(0);
    expect(map.find(0x8000_0000 - 1)).toBe(-1);               // hole below dram0
    expect(map.find(0x8000_0000 + 2 * GiB - 1)).toBe(0);      // last byte
    expect(map.find(0x8000_0000 + 2 * GiB)).toBe(-1);         // first byte after
    expect(map.find(0x8000_0000 + 2 * GiB - 8, 8)).toBe(0);   // ends exactly at the end
    expect(map.find(0x8000_0000 + 2 * GiB - 4, 8)).toBe(-1);  // crosses the end
    expect(map.find(0x0900_0000, 4)).toBe(1);
    expect(map.find(0x0900_0ffc, 4)).toBe(1);
    expect(map.find(0x0900_0ffe, 4)).toBe(-1);
    expect(map.find(0)).toBe(-1);                             // below every region
    expect(map.find(64 * GiB + 4 * GiB - 64, 64)).toBe(2);
    expect(map.find(64 * GiB + 4 * GiB)).toBe(-1);            // above every region
    expect(map.find(2 ** 52 - 1)).toBe(-1);
    expect(map.find(-1)).toBe(-1);
    expect(map.find(NaN)).toBe(-1);
  });

  it('find(): the last-hit cache never answers for an access that leaves the region', () => {
    expect(map.find(64 * GiB + 100)).toBe(2);
    expect(map.find(64 * GiB + 4 * GiB - 1, 2)).toBe(-1);
    expect(map.find(64 * GiB - 1)).toBe(-1);
    expect(map.find(0x0900_0010)).toBe(1);
    expect(map.find(64 * GiB)).toBe(2);
  });

  it('find() agrees with a linear scan on random addresses (property)', () => {
    const ends = PLATFORM.map((r) => [r.base, r.base + r.size] as const);
    const interesting = fc.oneof(
      fc.integer({ min: 0, max: 2 ** 52 }),
      fc.constantFrom(...ends.flat()).chain((e) => fc.integer({ min: Math.max(0, e - 16), max: e + 16 })),
    );
    fc.assert(fc.property(fc.array(fc.tuple(interesting, fc.integer({ min: 1, max: 64 })), { minLength: 1, maxLength: 20 }), (accesses) => {
      for (const [pa, len] of accesses) {
        const want = ends.findIndex(([b, e]) => pa >= b && pa + len <= e);
        expect(map.find(pa, len)).toBe(want);
      }
    }));
  });

  it('the map-level store reads back what was written in two regions, and nothing leaks across', () => {
    const m = new AddressMap(PLATFORM);
    m.store.write(0x8000_0040, Uint8Array.of(1, 2, 3, 4), 0, 4);
    m.store.write(64 * GiB + 0x40, Uint8Array.of(9, 8, 7, 6), 0, 4);
    const out = new Uint8Array(4);
    m.store.read(0x8000_0040, out, 0, 4);
    expect([...out]).toEqual([1, 2, 3, 4]);
    m.store.read(64 * GiB + 0x40, out, 0, 4);
    expect([...out]).toEqual([9, 8, 7, 6]);
    m.store.read(0x0900_0040, out, 0, 4);
    expect([...out]).toEqual([0, 0, 0, 0]);
    expect(m.region(0).store.chunksAllocated).toBe(1);
    expect(m.region(1).store.chunksAllocated).toBe(0);
    expect(m.region(2).store.chunksAllocated).toBe(1);
    // The region's own store sees the same bytes.
    m.region(2).store.read(64 * GiB + 0x41, out, 0, 1);
    expect(out[0]).toBe(8);
  });

  it('the map-level store throws RangeError outside every region or across a region end', () => {
    const m = new AddressMap(PLATFORM);
    const b = new Uint8Array(8);
    expect(() => m.store.read(0x1000, b, 0, 4)).toThrow(RangeError);
    expect(() => m.store.write(0x8000_0000 + 2 * GiB - 4, b, 0, 8)).toThrow(/write of 8 bytes at 0xffff_fffc is not inside one region/);
  });

  it('adjacent regions are fine; an empty map decodes nothing', () => {
    const m = new AddressMap([region('a', 0x1000, 0x1000), region('b', 0x2000, 0x1000)]);
    expect(m.find(0x1fff)).toBe(0);
    expect(m.find(0x2000)).toBe(1);
    expect(m.find(0x1ffc, 8)).toBe(-1);                       // spans two regions: no single target
    expect(new AddressMap([]).find(0x1000)).toBe(-1);
  });

  it('rejects overlaps naming both regions, in any order', () => {
    expect(userErrorOf(() => new AddressMap([region('dram0', 0x8000_0000, GiB), region('gic', 0xa000_0000 - 0x1000, 0x2000, { kind: 'device' })])))
      .toBe("memory map: regions 'dram0' [0x8000_0000, 0xc000_0000) and 'gic' [0x9fff_f000, 0xa000_1000) overlap");
    const m = userErrorOf(() => new AddressMap([region('big', 0, 16 * GiB), region('x', 0x10_0000, 0x1000), region('y', 0x20_0000, 0x1000)]));
    expect(m).toMatch(/'big'.*'x'.*overlap/);
    expect(userErrorOf(() => new AddressMap([region('a', 0x4000, 0x1000), region('a2', 0x4000, 0x1000)]))).toMatch(/'a'.*'a2'/);
  });

  it('rejects zero size, 4 KiB misalignment, an end beyond 2^52 and duplicate names', () => {
    expect(userErrorOf(() => new AddressMap([region('z', 0x1000, 0)]))).toBe("memory map: region 'z': size must not be zero");
    expect(userErrorOf(() => new AddressMap([region('u', 0x0900_0100, 0x1000)]))).toBe("memory map: region 'u': base 0x900_0100 is not a multiple of 4 KiB");
    expect(userErrorOf(() => new AddressMap([region('u', 0x0900_0000, 0x100)]))).toBe("memory map: region 'u': size 0x100 is not a multiple of 4 KiB");
    expect(userErrorOf(() => new AddressMap([region('top', 2 ** 52 - 0x1000, 0x2000)])))
      .toBe("memory map: region 'top': [0xf_ffff_ffff_f000, 0x10_0000_0000_1000) ends beyond the 52-bit physical address space (0x10_0000_0000_0000)");
    expect(() => new AddressMap([region('top', 2 ** 52 - 0x1000, 0x1000)])).not.toThrow();
    expect(userErrorOf(() => new AddressMap([region('r', 0x1000, 0x1000), region('r', 0x8000, 0x1000)]))).toBe("memory map: two regions are named 'r'");
    expect(userErrorOf(() => new AddressMap([region('n', -4096, 0x1000)]))).toMatch(/base must be a non-negative integer/);
  });
});
