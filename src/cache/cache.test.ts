import { describe, expect, it } from 'vitest';
import { EventQueue, Link, ReqKind, ReqStatus, RequestTable, ResponseRouter, Rng, StatsRegistry } from '../sim/index.js';
import { NORMAL_NC_OSH, NORMAL_WB_RWA_ISH, NORMAL_WT_RA_OSH, packAttrs } from '../mem/index.js';
import { CacheLevel, type CacheLevelConfig } from './cache.js';

const MEM_LATENCY = 100;
const CPU = 0, L1 = 1;
const WB_NO_WA = packAttrs({ memType: 'Normal', inner: { cache: 'WB', readAllocate: true }, outer: { cache: 'WB', readAllocate: true }, shareability: 'ISH' });

/** One cache level between a scripted CPU and a flat memory that answers after MEM_LATENCY. */
function harness(over: Partial<CacheLevelConfig> = {}) {
  const cfg: CacheLevelConfig = { sizeBytes: 4096, ways: 2, lineBytes: 64, replacement: 'lru', hitLatency: 4, mshrs: 4, mshrTargets: 4, domain: 'inner', ...over };
  const q = new EventQueue(), table = new RequestTable(256, 64), stats = new StatsRegistry();
  const router = new ResponseRouter(q, table);
  const mem = new Uint8Array(1 << 20);
  const memLog: { kind: number; addr: number; size: number; at: number }[] = [];
  const done = new Map<number, { at: number; bytes: number[] }>();
  const cpu = q.register('cpu', (id) => {
    done.set(table.tag[id]!, { at: q.now, bytes: [...table.data.subarray(table.dataOffset(id), table.dataOffset(id) + table.size[id]!)] });
    table.release(id);
  });
  router.register(CPU, cpu);
  let memLink!: Link;
  const memHandler = q.register('mem', (id) => {
    const off = table.dataOffset(id), a = table.addr[id]!, n = table.size[id]!;
    memLog.push({ kind: table.kind[id]!, addr: a, size: n, at: q.now });
    if (table.kind[id] === ReqKind.Write) mem.set(table.data.subarray(off, off + n), a);
    else table.data.set(mem.subarray(a, a + n), off);
    table.status[id] = ReqStatus.Ok;
    memLink.release();
    router.send(id, MEM_LATENCY);
  });
  const cache = new CacheLevel('l1d', L1, q, table, router, cfg, stats, 'l1d', new Rng(1));
  memLink = new Link(q, memHandler, 0, 64, 'l1->mem');
  cache.memSide = memLink;
  const up = new Link(q, cache.reqHandler, 0, 16, 'cpu->l1');
  cache.inLink = up;
  let nextTag = 0;
  /** Sends a request now; returns its tag (the key in `done`). */
  const send = (kind: number, addr: number, size: number, attrs = NORMAL_WB_RWA_ISH, value = 0): number => {
    const id = table.alloc(kind as 0, addr, size, attrs, CPU, q.now);
    const tag = nextTag++;
    table.tag[id] = tag;
    for (let k = 0; k < size; k++) table.data[table.dataOffset(id) + k] = (value + k) & 0xff;
    expect(up.trySend(id)).toBe(true);
    return tag;
  };
  const runFor = (n: number) => { q.runUntil(q.now + n); q.now += 0; };
  const settle = () => q.runUntil(Infinity);
  return { q, cache, mem, memLog, done, send, settle, runFor, cfg, table };
}

describe('CacheLevel: reads', () => {
  it('a read miss fills the line and answers after memory + hit latency; the next read hits', () => {
    const h = harness();
    h.mem.set([1, 2, 3, 4, 5, 6, 7, 8], 0x1040);
    const a = h.send(ReqKind.Read, 0x1040, 8);
    h.settle();
    expect(h.done.get(a)!.at).toBe(MEM_LATENCY + h.cfg.hitLatency);
    expect(h.done.get(a)!.bytes).toEqual([1, 2, 3, 4, 5, 6, 7, 8]);
    expect(h.memLog).toEqual([{ kind: ReqKind.Read, addr: 0x1040, size: 64, at: 0 }]);
    const t1 = h.q.now;
    const b = h.send(ReqKind.Read, 0x1044, 4);
    h.settle();
    expect(h.done.get(b)!.at - t1).toBe(h.cfg.hitLatency);
    expect(h.done.get(b)!.bytes).toEqual([5, 6, 7, 8]);
    expect(h.memLog).toHaveLength(1);
    expect(h.cache.stats.readMisses).toBe(1);
    expect(h.cache.stats.readHits).toBe(1);
  });

  it('misses to a line already being filled merge into its MSHR', () => {
    const h = harness();
    h.mem.set([9, 9, 9, 9], 0x2000);
    const a = h.send(ReqKind.Read, 0x2000, 4), b = h.send(ReqKind.Read, 0x2030, 4);
    h.settle();
    expect(h.memLog).toHaveLength(1);
    expect(h.cache.stats.mshrMerges).toBe(1);
    expect(h.done.get(a)!.bytes).toEqual([9, 9, 9, 9]);
    expect(h.done.get(b)!.at).toBe(h.done.get(a)!.at);
  });

  it('with every MSHR busy a miss waits, in order, for one to free', () => {
    const h = harness({ mshrs: 1 });
    const a = h.send(ReqKind.Read, 0x3000, 8), b = h.send(ReqKind.Read, 0x4000, 8);
    h.settle();
    expect(h.memLog.map((m) => m.addr)).toEqual([0x3000, 0x4000]);
    expect(h.memLog[1]!.at).toBe(MEM_LATENCY);            // sent when the first fill landed
    expect(h.done.get(b)!.at).toBe(2 * MEM_LATENCY + h.cfg.hitLatency);
    expect(h.done.get(a)!.at).toBeLessThan(h.done.get(b)!.at);
    expect(h.cache.stats.blocked).toBe(1);
  });
});

describe('CacheLevel: writes and memory types', () => {
  it('write-back: a write hit only dirties the line; eviction writes it back', () => {
    const h = harness();                                  // 4 KiB, 2-way, 64 B: 32 sets, set stride 2 KiB
    h.send(ReqKind.Read, 0x0, 8); h.settle();
    h.send(ReqKind.Write, 0x0, 8, NORMAL_WB_RWA_ISH, 0x50); h.settle();
    expect([...h.mem.subarray(0, 8)]).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(h.cache.holdsDirty(0)).toBe(true);
    h.send(ReqKind.Read, 0x800, 8); h.send(ReqKind.Read, 0x1000, 8); h.settle();   // two more lines of set 0
    expect(h.cache.stats.writebacks).toBe(1);
    expect([...h.mem.subarray(0, 8)]).toEqual([0x50, 0x51, 0x52, 0x53, 0x54, 0x55, 0x56, 0x57]);
  });

  it('a write miss with write-allocate fills the line and merges the write', () => {
    const h = harness();
    h.mem.set([1, 1, 1, 1, 1, 1, 1, 1], 0x5000);
    h.send(ReqKind.Write, 0x5002, 2, NORMAL_WB_RWA_ISH, 0xa0);
    const r = h.send(ReqKind.Read, 0x5000, 8);
    h.settle();
    expect(h.done.get(r)!.bytes).toEqual([1, 1, 0xa0, 0xa1, 1, 1, 1, 1]);
    expect(h.memLog.filter((m) => m.kind === ReqKind.Read)).toHaveLength(1);
    expect(h.cache.holdsDirty(0x5000 / 64)).toBe(true);
  });

  it('a write miss without the write-allocate hint goes around the cache', () => {
    const h = harness();
    const w = h.send(ReqKind.Write, 0x6000, 4, WB_NO_WA, 0x11);
    h.settle();
    expect(h.memLog).toEqual([{ kind: ReqKind.Write, addr: 0x6000, size: 4, at: 0 }]);
    expect(h.done.get(w)!.at).toBe(MEM_LATENCY);
    expect(h.cache.arr.lookup(0x6000 / 64)).toBe(-1);
  });

  it('write-through: a hit updates the line and memory, and the line stays clean', () => {
    const h = harness();
    h.send(ReqKind.Read, 0x7000, 8, NORMAL_WT_RA_OSH); h.settle();
    const t0 = h.q.now;
    const w = h.send(ReqKind.Write, 0x7000, 4, NORMAL_WT_RA_OSH, 0x33); h.settle();
    expect([...h.mem.subarray(0x7000, 0x7004)]).toEqual([0x33, 0x34, 0x35, 0x36]);
    expect(h.cache.holdsDirty(0x7000 / 64)).toBe(false);
    expect(h.done.get(w)!.at - t0).toBe(MEM_LATENCY);
    const r = h.send(ReqKind.Read, 0x7000, 4, NORMAL_WT_RA_OSH); h.settle();
    expect(h.done.get(r)!.bytes).toEqual([0x33, 0x34, 0x35, 0x36]);
  });

  it('a whole-line write allocates without a fill', () => {
    const h = harness();
    h.send(ReqKind.Write, 0x8000, 64, NORMAL_WB_RWA_ISH, 0); h.settle();
    expect(h.memLog).toHaveLength(0);
    expect(h.cache.holdsDirty(0x8000 / 64)).toBe(true);
  });

  it('Non-cacheable accesses bypass the cache: the two aliases disagree, and a late write-back loses NC data', () => {
    const h = harness();
    h.send(ReqKind.Write, 0x0, 8, NORMAL_WB_RWA_ISH, 0x10); h.settle();       // cacheable alias: dirty in the cache
    const nc = h.send(ReqKind.Read, 0x0, 8, NORMAL_NC_OSH); h.settle();
    expect(h.done.get(nc)!.bytes).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);          // stale: memory was never written
    expect(h.cache.stats.bypasses).toBe(1);
    h.send(ReqKind.Write, 0x0, 8, NORMAL_NC_OSH, 0x70); h.settle();           // a newer NC write reaches memory
    expect(h.mem[0]).toBe(0x70);
    h.send(ReqKind.Read, 0x800, 8); h.send(ReqKind.Read, 0x1000, 8); h.settle(); // evict the dirty line
    expect(h.mem[0]).toBe(0x10);                                               // the NC update is lost
  });
});

describe('CacheLevel: maintenance primitives', () => {
  it('clean writes a dirty line back and keeps it; invalidate without clean discards the data', () => {
    const h = harness();
    h.send(ReqKind.Write, 0x9000, 64, NORMAL_WB_RWA_ISH, 1); h.settle();
    expect(h.cache.maintainLine(0x9000 / 64, true, false)).toBe(1);
    h.settle();
    expect(h.mem[0x9000]).toBe(1);
    expect(h.cache.holdsDirty(0x9000 / 64)).toBe(false);
    expect(h.cache.arr.lookup(0x9000 / 64)).toBeGreaterThanOrEqual(0);
    h.send(ReqKind.Write, 0x9000, 4, NORMAL_WB_RWA_ISH, 9); h.settle();
    expect(h.cache.maintainLine(0x9000 / 64, false, true)).toBe(0);
    h.settle();
    expect(h.mem[0x9000]).toBe(1);                                             // the dirty 9 was discarded
    expect(h.cache.arr.lookup(0x9000 / 64)).toBe(-1);
  });

  it('set/way maintenance reaches the line at that set and way', () => {
    const h = harness();
    h.send(ReqKind.Write, 0x40, 64, NORMAL_WB_RWA_ISH, 5); h.settle();         // line 1: set 1
    let wrote = 0;
    for (let way = 0; way < h.cfg.ways; way++) wrote += h.cache.maintainSetWay(1, way, true, true);
    h.settle();
    expect(wrote).toBe(1);
    expect(h.mem[0x40]).toBe(5);
    expect(h.cache.arr.countValid()).toBe(0);
  });
});
