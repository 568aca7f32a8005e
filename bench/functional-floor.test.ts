import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { OpCode, TraceOpSource, TraceReader, TraceWriter } from '../src/core/index.js';
import { buildSystem } from '../src/platform/index.js';
import { Rng } from '../src/sim/index.js';
import { functionalFloor } from './functional-floor.js';

const dir = mkdtempSync(join(tmpdir(), 'armsim-floor-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

/**
 * Random 8-byte loads and stores, with `fetches` 4-byte fetches among them (none crossing a line),
 * over `span` bytes from `base`.
 */
function writeTrace(name: string, base: number, span: number, n: number, seed: number, fetches = true): string {
  const path = join(dir, name);
  const w = TraceWriter.create(path, { agents: 1, addressKind: 'physical', source: 'test' });
  const rng = new Rng(seed).fork('floor');
  for (let i = 0; i < n; i++) {
    const k = rng.nextInt(10);
    if (k < 2 && fetches) w.push(0, OpCode.Fetch, base + rng.nextInt(span / 4) * 4, 4, 0, 0);
    else w.push(0, k < 6 ? OpCode.Store : OpCode.Load, base + rng.nextInt(span / 8) * 8, 8, (i * 2654435761) >>> 0, 0);
  }
  w.close();
  return path;
}

/**
 * The trace `write(dramBase)` writes, replayed by the model on the cachegrind preset and by the
 * floor with the same geometry: the floor's result and the model's L1I and L1D misses.
 */
function floorAndModel(write: (ram: number) => string): { f: ReturnType<typeof functionalFloor>; model: number[] } {
  const sys = buildSystem('cachegrind', []);
  const path = write(sys.map.regions.find((r) => r.kind === 'dram')!.base);
  const reader = TraceReader.open(path);
  sys.attach(0, new TraceOpSource(reader.cursor(0), 'test', undefined));
  expect(sys.run().endReason).toBe('done');
  reader.close();
  const h = sys.caches;
  const geom = (l: typeof h.l2[0]) => ({ sizeBytes: l.arr.sizeBytes, ways: l.arr.ways });
  const misses = (l: typeof h.l2[0]) => l.stats.readMisses + l.stats.writeMisses;
  const f = functionalFloor(path, { l1i: geom(h.l1i[0]!), l1d: geom(h.l1d[0]!), below: [geom(h.l2[0]!)], lineBytes: 64 });
  return { f, model: [misses(h.l1i[0]!), misses(h.l1d[0]!)] };
}

describe('functional floor (the cache benchmarks\' yardstick)', () => {
  it('misses in the L1s exactly as the model does with the same LRU write-allocate L1s (the cachegrind preset)', () => {
    const { f, model } = floorAndModel((ram) => writeTrace('l1.trace', ram, 256 * 1024, 40_000, 3));
    expect(f.ops).toBe(40_000);
    expect(f.misses.slice(0, 2)).toEqual(model);
    expect(f.misses[1]).toBeGreaterThan(1000);                       // the span is 16x the L1D: it misses
  });

  it('counts an access that crosses a line once in each line, as the model does', () => {
    const { f, model } = floorAndModel((ram) => {
      const path = join(dir, 'cross.trace');
      const w = TraceWriter.create(path, { agents: 1, addressKind: 'physical', source: 'test' });
      const rng = new Rng(9).fork('cross');
      // 8-byte loads and stores and 4-byte fetches at any byte: about one in eight data accesses crosses a line.
      for (let i = 0; i < 30_000; i++) {
        const k = rng.nextInt(10), at = ram + rng.nextInt(128 * 1024);
        if (k < 2) w.push(0, OpCode.Fetch, at, 4, 0, 0);
        else w.push(0, k < 6 ? OpCode.Store : OpCode.Load, at, 8, i >>> 0, 0);
      }
      w.close();
      return path;
    });
    expect(f.misses.slice(0, 2)).toEqual(model);
  });

  it('moves the bytes: every load reads the last value stored to its word, through evictions to the last level and to memory', () => {
    // No fetches: the instruction side is not coherent with the stores (as in the model without IDC/DIC).
    const path = writeTrace('data.trace', 0x8000_0000, 512 * 1024, 60_000, 5, false);
    // Tiny levels, so lines go all the way to memory and back.
    const f = functionalFloor(path, { l1i: { sizeBytes: 1024, ways: 2 }, l1d: { sizeBytes: 1024, ways: 2 }, below: [{ sizeBytes: 4096, ways: 4 }, { sizeBytes: 16384, ways: 4 }], lineBytes: 64 });
    const words = new Map<number, number>();
    let xor = 0;
    const reader = TraceReader.open(path);
    const cur = reader.cursor(0);
    for (let c = cur.next(); c !== null; c = cur.next()) {
      for (let i = 0; i < c.length; i++) {
        const word = Math.floor(c.addr[i]! / 4);
        if (c.op[i] === OpCode.Store) words.set(word, c.valueLo[i]! | 0); else xor ^= words.get(word) ?? 0;
      }
    }
    reader.close();
    expect(f.memoryWrites).toBeGreaterThan(1000);
    expect(f.readXor).toBe(xor);
  });
});
