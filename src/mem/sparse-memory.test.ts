import { describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { SparseMemory } from './sparse-memory.js';

const GiB = 2 ** 30;

function bytes(...v: number[]): Uint8Array { return Uint8Array.from(v); }

describe('SparseMemory', () => {
  it('a 64 GiB region costs nothing until touched; one byte at 60 GiB allocates exactly one chunk', () => {
    const base = 0x8000_0000;
    const m = new SparseMemory({ base, size: 64 * GiB });
    expect(m.chunksAllocated).toBe(0);
    const out = new Uint8Array(8).fill(0xee);
    m.read(base + 60 * GiB, out, 0, 8);
    expect([...out]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(m.chunksAllocated).toBe(0);         // reading untouched memory allocates nothing
    m.write(base + 60 * GiB + 3, bytes(0xab), 0, 1);
    expect(m.chunksAllocated).toBe(1);
    expect(m.bytesAllocated).toBe(1 << 20);
    m.read(base + 60 * GiB, out, 0, 8);
    expect([...out]).toEqual([0, 0, 0, 0xab, 0, 0, 0, 0]);
    expect(m.chunkAt(base + 60 * GiB + 100)?.[3]).toBe(0xab);
    expect(m.chunkAt(base + 60 * GiB)?.buffer).toBeInstanceOf(SharedArrayBuffer);
    expect(m.chunkAt(base)).toBeUndefined();
  });

  it('reads and writes straddling chunk boundaries, including across three chunks', () => {
    const m = new SparseMemory({ base: 0x1000, size: 0x1000, chunkBytes: 64 });
    const src = Uint8Array.from({ length: 200 }, (_, i) => i + 1);
    m.write(0x1000 + 60, src, 0, 200);       // chunks 0..4
    expect(m.chunksAllocated).toBe(5);
    const out = new Uint8Array(204);
    m.read(0x1000 + 58, out, 0, 204);
    expect(out[0]).toBe(0); expect(out[1]).toBe(0);
    expect([...out.subarray(2, 202)]).toEqual([...src]);
    expect(out[202]).toBe(0); expect(out[203]).toBe(0);
    // into the middle of a larger destination, from an offset in the source
    const dst = new Uint8Array(10).fill(9);
    m.read(0x1000 + 62, dst, 3, 4);
    expect([...dst]).toEqual([9, 9, 9, 3, 4, 5, 6, 9, 9, 9]);
    m.write(0x1000 + 126, src, 10, 4);
    m.read(0x1000 + 125, dst, 0, 6);
    expect([...dst.subarray(0, 6)]).toEqual([66, 11, 12, 13, 14, 71]);
  });

  it('large copies (over 256 bytes per chunk) agree with small ones', () => {
    const m = new SparseMemory({ base: 0, size: 1 << 16, chunkBytes: 4096 });
    const src = Uint8Array.from({ length: 10000 }, (_, i) => (i * 7) & 0xff);
    m.write(1000, src, 0, 10000);
    const big = new Uint8Array(10000);
    m.read(1000, big, 0, 10000);
    expect(Buffer.compare(big, src)).toBe(0);
    const small = new Uint8Array(10000);
    for (let a = 0; a < 10000; a += 100) m.read(1000 + a, small, a, 100);
    expect(Buffer.compare(small, src)).toBe(0);
  });

  it('cuts the last chunk short when the size is not a multiple of the chunk', () => {
    const m = new SparseMemory({ base: 0, size: 4096 + 512, chunkBytes: 4096 });
    m.write(4096 + 511, bytes(7), 0, 1);
    expect(m.bytesAllocated).toBe(512);
    expect(m.chunkAt(4096)?.length).toBe(512);
  });

  it('forEachChunk lists touched chunks in address order with absolute bases', () => {
    const m = new SparseMemory({ base: 0x4000_0000, size: GiB, chunkBytes: 1 << 20 });
    for (const off of [5 << 20, 1 << 20, 700 << 20]) m.write(0x4000_0000 + off + 1, bytes(off >>> 20), 0, 1);
    const seen: [number, number][] = [];
    m.forEachChunk((b, c) => seen.push([b, c[1]!]));
    expect(seen).toEqual([[0x4010_0000, 1], [0x4050_0000, 5], [0x4000_0000 + (700 << 20), 700 & 0xff]]);
  });

  it('refuses accesses outside the region and bad geometry', () => {
    const m = new SparseMemory({ base: 0x1000, size: 0x1000 });
    const b = new Uint8Array(8);
    expect(() => m.read(0xfff, b, 0, 1)).toThrow(RangeError);
    expect(() => m.read(0x1ffc, b, 0, 8)).toThrow(RangeError);
    expect(() => m.write(0x2000, b, 0, 1)).toThrow(RangeError);
    expect(() => m.read(0x1000, b, 0, 0)).not.toThrow();
    expect(() => new SparseMemory({ base: 0, size: 4096, chunkBytes: 3000 })).toThrow(RangeError);
    expect(() => new SparseMemory({ base: 0, size: 0 })).toThrow(RangeError);
  });

  it('agrees with a byte-map model on random access sequences (property)', () => {
    const base = 2 ** 40 + 0x1230;            // above 2^32: no 32-bit truncation may creep in
    const size = 1024;
    const op = fc.record({
      write: fc.boolean(),
      off: fc.integer({ min: 0, max: size - 1 }),
      len: fc.integer({ min: 0, max: 300 }),
      seed: fc.integer({ min: 0, max: 255 }),
    });
    fc.assert(fc.property(fc.constantFrom(8, 64, 256, 4096), fc.array(op, { maxLength: 60 }), (chunkBytes, ops) => {
      const m = new SparseMemory({ base, size, chunkBytes });
      const model = new Map<number, number>();
      for (const o of ops) {
        const len = Math.min(o.len, size - o.off);
        if (o.write) {
          const src = Uint8Array.from({ length: len + 5 }, (_, i) => (o.seed + i * 31) & 0xff);
          m.write(base + o.off, src, 5, len);
          for (let i = 0; i < len; i++) model.set(o.off + i, src[5 + i]!);
        } else {
          const dst = new Uint8Array(len + 2).fill(0xcc);
          m.read(base + o.off, dst, 1, len);
          const want = Uint8Array.from({ length: len + 2 }, (_, i) => (i === 0 || i === len + 1 ? 0xcc : model.get(o.off + i - 1) ?? 0));
          expect(Buffer.compare(dst, want)).toBe(0);
        }
      }
      const all = new Uint8Array(size);
      m.read(base, all, 0, size);
      expect(Buffer.compare(all, Uint8Array.from({ length: size }, (_, i) => model.get(i) ?? 0))).toBe(0);
      // Exactly the chunks that a write touched exist.
      const touched = new Set([...model.keys()].map((k) => Math.floor(k / chunkBytes)));
      expect(m.chunksAllocated).toBe(touched.size);
      for (const c of touched) expect(m.chunkAt(base + c * chunkBytes)).toBeDefined();
    }), { numRuns: 200 });
  });
});
