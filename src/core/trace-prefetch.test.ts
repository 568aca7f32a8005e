import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UserError } from '../sim/errors.js';
import { Rng } from '../sim/rng.js';
import { OpCode } from './ops.js';
import { TraceReader, TraceWriter, type TraceChunk, type TraceCursor } from './trace-format.js';
import { PrefetchingTraceCursor, openTraceCursors, tracePrefetchWanted } from './trace-prefetch.js';

let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armsim-prefetch-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });

/**
 * Two agents, chunks of 50 ops; agent 0's stores carry values only in some chunks (so some chunks
 * leave the value columns out), agent 1 has loads and fetches only (no value columns at all).
 */
function writeTrace(name: string): string {
  const file = path.join(dir, name);
  const w = TraceWriter.create(file, { agents: 2, addressKind: 'physical', source: 'test' }, { chunkOps: 50 });
  const rng = new Rng(11);
  for (let i = 0; i < 1200; i++) {
    const agent = rng.nextInt(3) === 0 ? 1 : 0;
    const addr = rng.nextInt(2 ** 21) * 2 ** 32 + rng.nextU32();
    if (agent === 0 && rng.nextInt(2) === 0) {
      const valued = Math.floor(i / 150) % 2 === 0;
      w.push(0, OpCode.Store, addr, 1 + rng.nextInt(8), valued ? rng.nextU32() : 0, valued ? rng.nextU32() : 0);
    } else {
      w.push(agent, rng.nextInt(2) === 0 ? OpCode.Load : OpCode.Fetch, addr, 1 + rng.nextInt(64), 0, 0);
    }
  }
  w.close();
  return file;
}

/** Every chunk of a cursor as plain arrays, then a check that it stays at its end. */
function drain(c: TraceCursor): number[][][] {
  const out: number[][][] = [];
  for (let ch: TraceChunk | null = c.next(); ch !== null; ch = c.next()) {
    for (const col of [ch.op, ch.addr, ch.size, ch.valueLo, ch.valueHi]) expect(col.length).toBe(ch.length);
    out.push([[...ch.op], [...ch.addr], [...ch.size], [...ch.valueLo], [...ch.valueHi]]);
  }
  expect(c.next()).toBeNull();
  return out;
}

/** Reads the `before` chunks the main thread must read itself, waits for the worker to boot, then drains. */
function drainAfter(c: PrefetchingTraceCursor, before: number): number[][][] {
  const first: TraceChunk[] = [];
  for (let k = 0; k < before; k++) first.push(c.next()!);
  expect(c.chunksFromWorker).toBe(0);
  expect(c.waitForWorker(30_000)).toBe(true);     // it boots meanwhile: it does not need this thread
  return [...first.map((ch) => [[...ch.op], [...ch.addr], [...ch.size], [...ch.valueLo], [...ch.valueHi]]), ...drain(c)];
}

describe('PrefetchingTraceCursor', () => {
  it('gives every agent the same chunks as the synchronous cursor, in order, however far ahead it reads', () => {
    const file = writeTrace('two.trace');
    const r = TraceReader.open(file);
    try {
      for (const agent of [0, 1]) {
        const want = drain(r.cursor(agent));
        expect(want.length).toBeGreaterThan(4);                   // more chunks than the worker reads ahead
        expect(want.some((c) => c[3]!.some((v) => v !== 0))).toBe(agent === 0);
        for (const ahead of [1, 4]) {
          // The main thread reads 0 or 2 chunks itself, the worker (booted meanwhile) the rest.
          for (const before of [0, 2]) {
            const c = new PrefetchingTraceCursor(r, agent, { ahead, ownFirst: before });
            const got = drainAfter(c, before);
            expect(got, `agent ${agent}, ahead ${ahead}, ${before} read before the handoff`).toEqual(want);
            expect(c.chunksFromWorker).toBe(want.length - before);
          }
        }
      }
    } finally { r.close(); }
  });

  it('throws the synchronous cursor\'s user error for a corrupt chunk, after the chunks before it', () => {
    const good = fs.readFileSync(writeTrace('flip-src.trace'));
    // Frames of agent 0: walk the frame headers from the end of the header record.
    const at: number[] = [];
    for (let p = 8 + 16 + good.readUInt32LE(8 + 8); p < good.length - 16 - 16;) {
      const agent = good.readUInt32LE(p + 4), bytes = good.readUInt32LE(p + 8);
      if (agent === 0) at.push(p);
      p += 16 + bytes;
    }
    const bad = Buffer.from(good);
    bad[at[3]! + 16 + 20]! ^= 0x10;
    const file = path.join(dir, 'flip.trace');
    fs.writeFileSync(file, bad);
    const r = TraceReader.open(file);
    // The worker meets the bad chunk (handoff before the first chunk), or the main thread does.
    for (const booted of [true, false]) {
      const sync = r.cursor(0), pre = new PrefetchingTraceCursor(r, 0, { ownFirst: booted ? 0 : 100 });
      if (booted) expect(pre.waitForWorker(30_000)).toBe(true);
      for (let k = 0; k < 3; k++) expect([...pre.next()!.addr]).toEqual([...sync.next()!.addr]);
      let want: unknown, got: unknown;
      try { sync.next(); } catch (e) { want = e; }
      try { pre.next(); } catch (e) { got = e; }
      expect(pre.chunksFromWorker).toBe(booted ? 3 : 0);
      expect(want).toBeInstanceOf(UserError);
      expect(got).toBeInstanceOf(UserError);
      expect((got as Error).message).toBe((want as Error).message);
      expect((got as Error).message).toMatch(/CRC32 mismatch/);
      expect(pre.next()).toBeNull();                                // and it stays ended
    }
    r.close();
  });

  it('close() ends the cursor early (the worker waiting to post more is stopped)', () => {
    const r = TraceReader.open(writeTrace('early.trace'));
    for (const booted of [true, false]) {
      const c = new PrefetchingTraceCursor(r, 0, { ahead: 1, ownFirst: booted ? 0 : 100 });
      if (booted) expect(c.waitForWorker(30_000)).toBe(true);
      expect(c.next()).not.toBeNull();
      c.close();
      expect(c.next()).toBeNull();
    }
    r.close();
  });

  it('openTraceCursors prefetches only with a host core to spare, and ARMSIM_TRACE_PREFETCH decides when set', () => {
    const saved = process.env.ARMSIM_TRACE_PREFETCH;
    try {
      delete process.env.ARMSIM_TRACE_PREFETCH;
      expect(tracePrefetchWanted(os.availableParallelism())).toBe(false);
      expect(tracePrefetchWanted(os.availableParallelism() - 1)).toBe(os.availableParallelism() > 1);
      process.env.ARMSIM_TRACE_PREFETCH = '0';
      expect(tracePrefetchWanted(1)).toBe(false);
      process.env.ARMSIM_TRACE_PREFETCH = '1';
      const r = TraceReader.open(writeTrace('open.trace'));
      const o = openTraceCursors(r);
      expect(o.cursors.every((c) => c instanceof PrefetchingTraceCursor)).toBe(true);
      expect(drain(o.cursors[1]!)).toEqual(drain(r.cursor(1)));
      o.close();
      r.close();
    } finally {
      if (saved === undefined) delete process.env.ARMSIM_TRACE_PREFETCH; else process.env.ARMSIM_TRACE_PREFETCH = saved;
    }
  });
});
