import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { Packr } from 'msgpackr';
import { UserError } from '../sim/errors.js';
import { Rng } from '../sim/rng.js';
import { OpCode } from './ops.js';
import { CHUNK_OPS, MemoryTrace, TraceReader, TraceWriter, type TraceChunk, type TraceCursor } from './trace-format.js';

let dir = '';
beforeAll(() => { dir = fs.mkdtempSync(path.join(os.tmpdir(), 'armsim-trace-')); });
afterAll(() => { fs.rmSync(dir, { recursive: true, force: true }); });
const tmp = (name: string): string => path.join(dir, name);

interface Op { agent: number; op: number; addr: number; size: number; lo: number; hi: number }

/** A seeded mix of every op kind, agents interleaved unevenly; agent `agents - 1` may get none. */
function randomOps(seed: number, agents: number, count: number, skipLast = false): Op[] {
  const rng = new Rng(seed);
  const ops: Op[] = [];
  const pick = skipLast ? agents - 1 : agents;
  for (let i = 0; i < count; i++) {
    const agent = Math.min(pick - 1, Math.floor(rng.nextFloat() ** 1.5 * pick));   // agent 0 gets the most
    const op = rng.nextInt(8);
    const isMem = op <= OpCode.Fetch;
    // Addresses up to 2^53 exactly: a 21-bit high part and a 32-bit low part.
    const addr = op === OpCode.Compute ? rng.nextInt(1000) : rng.nextInt(2 ** 21) * 2 ** 32 + rng.nextU32();
    ops.push({
      agent, op, addr: op >= OpCode.Dmb && op <= OpCode.Isb ? 0 : addr, size: isMem ? 1 + rng.nextInt(64) : 0,
      lo: op === OpCode.Store || op === OpCode.SysRegWrite ? rng.nextU32() : 0,
      hi: op === OpCode.Store || op === OpCode.SysRegWrite ? rng.nextU32() : 0,
    });
  }
  return ops;
}

function writeTrace(file: string, agents: number, ops: Op[], chunkOps?: number): void {
  const w = TraceWriter.create(file, { agents, addressKind: 'physical', source: 'test' }, chunkOps === undefined ? undefined : { chunkOps });
  for (const o of ops) w.push(o.agent, o.op, o.addr, o.size, o.lo, o.hi);
  w.close();
}

function drain(c: TraceCursor): TraceChunk[] {
  const out: TraceChunk[] = [];
  for (let ch = c.next(); ch !== null; ch = c.next()) out.push(ch);
  expect(c.next()).toBeNull();
  return out;
}

function flatten(chunks: TraceChunk[]): Op[] {
  const out: Op[] = [];
  for (const c of chunks) {
    for (let i = 0; i < c.length; i++) out.push({ agent: -1, op: c.op[i]!, addr: c.addr[i]!, size: c.size[i]!, lo: c.valueLo[i]!, hi: c.valueHi[i]! });
  }
  return out;
}

const ofAgent = (ops: Op[], a: number): Op[] => ops.filter((o) => o.agent === a).map((o) => ({ ...o, agent: -1 }));

/** The frames of a trace file, walked independently of the reader. */
function frames(file: string): { at: number; agent: number; bytes: number }[] {
  const b = fs.readFileSync(file);
  const out = [];
  for (let at = 8; at < b.length; ) {
    const agent = b.readUInt32LE(at + 4), bytes = b.readUInt32LE(at + 8);
    out.push({ at, agent, bytes });
    at += 16 + bytes;
  }
  return out;
}

function expectUserError(fn: () => unknown, ...parts: (string | RegExp)[]): UserError {
  let err: unknown;
  try { fn(); } catch (e) { err = e; }
  expect(err).toBeInstanceOf(UserError);
  const msg = (err as Error).message;
  expect(msg).not.toContain('\n');
  for (const p of parts) expect(msg).toMatch(p);
  return err as UserError;
}

describe('round trip', () => {
  it('several agents, interleaved pushes, many chunks each: same ops, same chunking as MemoryTrace', () => {
    const agents = 4;
    const ops = randomOps(1, agents, 5000, true);         // agent 3 stays empty
    const file = tmp('roundtrip.trace');
    writeTrace(file, agents, ops, 97);
    const mem = new MemoryTrace(agents, { chunkOps: 97 });
    for (const o of ops) mem.push(o.agent, o.op, o.addr, o.size, o.lo, o.hi);

    const r = TraceReader.open(file);
    expect(r.header).toEqual({ version: 2, agents, addressKind: 'physical', source: 'test' });
    for (let a = 0; a < agents; a++) {
      const expected = ofAgent(ops, a);
      const fromFile = drain(r.cursor(a));
      const fromMem = drain(mem.cursor(a));
      expect(r.opCount(a)).toBe(expected.length);
      expect(flatten(fromFile)).toEqual(expected);
      // Identical chunking: full chunks of 97, then the remainder.
      const lengths = fromFile.map((c) => c.length);
      expect(lengths).toEqual(fromMem.map((c) => c.length));
      expect(lengths.every((n, i) => n === 97 || (i === lengths.length - 1 && n > 0 && n < 97))).toBe(true);
      if (a === 0) expect(lengths.length).toBeGreaterThan(10);
      if (a === agents - 1) expect(fromFile).toEqual([]);
      for (let i = 0; i < fromFile.length; i++) {
        const f = fromFile[i]!, m = fromMem[i]!;
        expect(f.op).toEqual(m.op); expect(f.addr).toEqual(m.addr); expect(f.size).toEqual(m.size);
        expect(f.valueLo).toEqual(m.valueLo); expect(f.valueHi).toEqual(m.valueHi);
        expect(f.addr).toBeInstanceOf(Float64Array); expect(f.valueLo).toBeInstanceOf(Uint32Array);
        expect(f.op).toBeInstanceOf(Uint8Array); expect(f.size).toBeInstanceOf(Uint8Array);
      }
    }
    r.close();
  });

  it('default CHUNK_OPS: an agent with more than one chunk, and two cursors on one agent read independently', () => {
    const file = tmp('default-chunk.trace');
    const w = TraceWriter.create(file, { agents: 2, addressKind: 'virtual', source: 'test' });
    const n = CHUNK_OPS + 1234;
    for (let i = 0; i < n; i++) {
      w.push(0, OpCode.Store, 2 ** 53 - 64 - i, 8, i, 0xffffffff - i);
      if (i % 3 === 0) w.push(1, OpCode.Load, i * 64, 64, 0, 0);
    }
    w.close();
    const r = TraceReader.open(file);
    expect(r.header.addressKind).toBe('virtual');
    const c1 = r.cursor(0), c2 = r.cursor(0);
    const a = c1.next()!, b = c2.next()!;
    expect(a.length).toBe(CHUNK_OPS);
    expect(b.addr).toEqual(a.addr);
    const rest = c1.next()!;
    expect(rest.length).toBe(1234);
    expect(rest.addr[1233]).toBe(2 ** 53 - 64 - (n - 1));
    expect(rest.valueHi[0]).toBe(0xffffffff - CHUNK_OPS);
    expect(c1.next()).toBeNull();
    expect(flatten(drain(r.cursor(1))).length).toBe(Math.ceil(n / 3));
    r.close();
  });

  it('property: any op sequence round-trips through a file with any chunk size', () => {
    const opArb = fc.record({
      agent: fc.integer({ min: 0, max: 2 }), op: fc.integer({ min: 0, max: 7 }),
      addr: fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }), size: fc.integer({ min: 1, max: 64 }),
      lo: fc.integer({ min: 0, max: 0xffffffff }), hi: fc.integer({ min: 0, max: 0xffffffff }),
    }).map((o) => (o.op <= OpCode.Fetch ? o : { ...o, size: 0 }));
    let k = 0;
    fc.assert(fc.property(fc.array(opArb, { maxLength: 300 }), fc.integer({ min: 1, max: 40 }), (ops, chunkOps) => {
      const file = tmp(`prop-${k++}.trace`);
      writeTrace(file, 3, ops, chunkOps);
      const r = TraceReader.open(file);
      try {
        for (let a = 0; a < 3; a++) expect(flatten(drain(r.cursor(a)))).toEqual(ofAgent(ops, a));
      } finally { r.close(); fs.rmSync(file); }
    }), { numRuns: 40 });
  });
});

describe('writer', () => {
  it('abort leaves nothing behind and does not touch an existing file', () => {
    const file = tmp('abort.trace');
    fs.writeFileSync(file, 'keep me');
    const before = fs.readdirSync(dir).length;
    const w = TraceWriter.create(file, { agents: 1, addressKind: 'physical', source: 'test' }, { chunkOps: 4 });
    for (let i = 0; i < 20; i++) w.push(0, OpCode.Load, i, 4, 0, 0);
    w.abort();
    expect(fs.readFileSync(file, 'utf8')).toBe('keep me');
    expect(fs.readdirSync(dir).length).toBe(before);
    expect(() => w.push(0, OpCode.Load, 0, 4, 0, 0)).toThrow(/after close/);
  });

  it('no file appears at the path until close', () => {
    const file = tmp('late.trace');
    const w = TraceWriter.create(file, { agents: 1, addressKind: 'physical', source: 'test' }, { chunkOps: 2 });
    for (let i = 0; i < 10; i++) w.push(0, OpCode.Fetch, i * 4, 4, 0, 0);
    expect(fs.existsSync(file)).toBe(false);
    w.close();
    expect(fs.existsSync(file)).toBe(true);
    expect(fs.readdirSync(dir).filter((n) => n.endsWith('.tmp'))).toEqual([]);
  });

  it('an uncreatable path is a UserError naming it', () => {
    expectUserError(() => TraceWriter.create(path.join(dir, 'no-such-dir', 'x.trace'), { agents: 1, addressKind: 'physical', source: 't' }), 'no-such-dir/x.trace', /cannot create/);
  });

  it('rejects ops that break the format', () => {
    const w = TraceWriter.create(tmp('bad-push.trace'), { agents: 2, addressKind: 'physical', source: 'test' });
    expect(() => w.push(2, OpCode.Load, 0, 4, 0, 0)).toThrow(RangeError);
    expect(() => w.push(0, 8, 0, 0, 0, 0)).toThrow(/OpCode/);
    expect(() => w.push(0, OpCode.Load, 0, 65, 0, 0)).toThrow(/size/);
    expect(() => w.push(0, OpCode.Load, 0, 0, 0, 0)).toThrow(/size/);
    expect(() => w.push(0, OpCode.Dsb, 0, 4, 0, 0)).toThrow(/size/);
    expect(() => w.push(0, OpCode.Load, 2 ** 53 + 2, 4, 0, 0)).toThrow(/2\^53/);
    expect(() => w.push(0, OpCode.Load, 1.5, 4, 0, 0)).toThrow(/addr/);
    expect(() => w.push(0, OpCode.Store, 0, 4, 2 ** 32, 0)).toThrow(/32-bit/);
    expect(() => w.push(0, OpCode.Store, 0, 4, -1, 0)).toThrow(/32-bit/);
    w.abort();
  });
});

describe('bad files', () => {
  let good = '';
  let bytes: Buffer = Buffer.alloc(0);
  beforeAll(() => {
    good = tmp('good.trace');
    writeTrace(good, 2, randomOps(7, 2, 600), 50);
    bytes = fs.readFileSync(good);
  });
  const variant = (name: string, data: Uint8Array): string => { const f = tmp(name); fs.writeFileSync(f, data); return f; };

  it('a truncated file is a UserError at open that names the file and says truncated', () => {
    const fr = frames(good);
    const chunk = fr.find((f) => f.agent === 1 && f.at > 200)!;
    const footer = fr[fr.length - 1]!;
    expect(footer.agent).toBe(0xffffffff);
    const cuts: [string, number, RegExp][] = [
      ['inside the magic', 5, /truncated at byte 5/],
      ['mid frame header of the header record', 8 + 7, /truncated header record at byte 8/],
      ['mid header record payload', 8 + 16 + 3, /truncated header record at byte 8 \(header says \d+ bytes, 3 remain\)/],
      ['mid chunk frame header', chunk.at + 9, new RegExp(`truncated frame header at byte ${chunk.at}`)],
      ['mid chunk payload', chunk.at + 16 + 100, new RegExp(`truncated chunk at byte ${chunk.at} \\(header says ${chunk.bytes} bytes, 100 remain\\)`)],
      ['missing footer (cut at a frame boundary)', footer.at, /truncated: no footer/],
      ['mid footer', bytes.length - 1, new RegExp(`truncated footer at byte ${footer.at} \\(header says 16 bytes, 15 remain\\)`)],
    ];
    for (const [what, at, msg] of cuts) {
      const f = variant(`cut-${at}.trace`, bytes.subarray(0, at));
      const e = expectUserError(() => TraceReader.open(f), f, /truncated/, msg);
      expect(e.message, what).toMatch(/^trace /);
    }
  });

  it('a corrupted payload byte gives a CRC error from the cursor of that agent only', () => {
    const fr = frames(good);
    const victim = fr.filter((f) => f.agent === 0)[2]!;
    const bad = Buffer.from(bytes);
    bad[victim.at + 16 + Math.floor(victim.bytes / 2)]! ^= 0x40;
    const f = variant('flip.trace', bad);
    const r = TraceReader.open(f);
    expect(drain(r.cursor(1)).length).toBeGreaterThan(1);     // skipping the bad payload is fine
    const c = r.cursor(0);
    expect(c.next()).not.toBeNull();
    expect(c.next()).not.toBeNull();
    expectUserError(() => c.next(), f, /corrupt chunk/, /CRC32 mismatch/, new RegExp(`at byte ${victim.at}`));
    r.close();
  });

  it('a corrupted header record or footer is caught at open', () => {
    const h = Buffer.from(bytes); h[8 + 16 + 2]! ^= 1;
    expectUserError(() => TraceReader.open(variant('hdr.trace', h)), 'hdr.trace', /corrupt header record/, /CRC/);
    const ft = Buffer.from(bytes); ft[ft.length - 3]! ^= 1;
    expectUserError(() => TraceReader.open(variant('ftr.trace', ft)), 'ftr.trace', /corrupt footer/, /CRC/);
  });

  it('a missing chunk shows as a footer count mismatch', () => {
    const fr = frames(good);
    const drop = fr.filter((f) => f.agent === 1)[1]!;
    const spliced = Buffer.concat([bytes.subarray(0, drop.at), bytes.subarray(drop.at + 16 + drop.bytes)]);
    const f = variant('spliced.trace', spliced);
    const r = TraceReader.open(f);
    expect(drain(r.cursor(0)).length).toBeGreaterThan(0);
    const c = r.cursor(1);
    expectUserError(() => { while (c.next() !== null); }, f, /corrupt/, /footer says agent 1 has \d+ ops, the chunks hold \d+/);
    r.close();
  });

  it('not a trace, an empty file, another format version', () => {
    expectUserError(() => TraceReader.open(variant('x.json', Buffer.from('{"not": "a trace"}\n'))), 'x.json', /not an armsim trace/);
    expectUserError(() => TraceReader.open(variant('empty.trace', Buffer.alloc(0))), 'empty.trace', /not an armsim trace/);
    const v3 = Buffer.from(bytes); v3[7] = 3;
    expectUserError(() => TraceReader.open(variant('v3.trace', v3)), /format version 3; this armsim reads versions 1 and 2/);
    expectUserError(() => TraceReader.open(tmp('absent.trace')), 'absent.trace', /cannot open/);
  });

  it('a well-framed chunk with an op that breaks the rules is corrupt, naming the op', () => {
    const packr = new Packr({ moreTypes: true, useRecords: false });
    const frame = (agent: number, payload: Uint8Array): Buffer => {
      const h = Buffer.alloc(16);
      h.writeUInt32LE(0x46435254, 0); h.writeUInt32LE(agent, 4); h.writeUInt32LE(payload.length, 8); h.writeUInt32LE(crc32(payload), 12);
      return Buffer.concat([h, payload]);
    };
    const counts = Buffer.alloc(8); counts.writeDoubleLE(3, 0);
    const cases: [number[], number[], number[], RegExp][] = [
      [[0, 1, 2], [64, 128, 192], [8, 8, 4], /^$/],                       // valid, as a control
      [[0, 99, 2], [64, 128, 192], [8, 8, 4], /op 1: op code 99/],
      [[0, 1, 2], [64, 128, 192], [8, 0, 4], /op 1: size 0 for op code 1/],
      [[0, 1, 4], [64, 128, 0], [8, 8, 4], /op 2: size 4 for op code 4/],
      [[0, 1, 2], [64, 128, 65], [8, 8, 65], /op 2: size 65/],
      [[0, 1, 2], [64, 128.5, 192], [8, 8, 4], /op 1: addr 128.5/],
      [[0, 1, 2], [-64, 128, 192], [8, 8, 4], /op 0: addr -64/],
      [[0, 1, 2], [64, 128, 2 ** 54], [8, 8, 4], /op 2: addr/],
    ];
    cases.forEach(([op, addr, size, msg], k) => {
      // Uint8 columns as plain msgpack bin, as a non-JS writer would produce them.
      const chunk = { length: 3, op: Buffer.from(op), addr: new Float64Array(addr), size: Buffer.from(size), valueLo: new Uint32Array(3), valueHi: new Uint32Array(3) };
      const file = variant(`rules-${k}.trace`, Buffer.concat([
        Buffer.from('ARMTRC\0\x01', 'latin1'),
        frame(0xfffffffe, packr.pack({ version: 1, agents: 1, addressKind: 'physical', source: 'hand' })),
        frame(0, packr.pack(chunk)), frame(0xffffffff, counts),
      ]));
      const r = TraceReader.open(file);
      if (k === 0) expect(Array.from(r.cursor(0).next()!.op)).toEqual(op);
      else expectUserError(() => r.cursor(0).next(), `rules-${k}.trace`, /corrupt chunk at byte \d+ \(agent 0\): /, msg);
      r.close();
    });
  });
});

describe('value columns', () => {
  const variant = (name: string, data: Uint8Array): string => { const f = tmp(name); fs.writeFileSync(f, data); return f; };
  const packr = new Packr({ moreTypes: true, useRecords: false });
  const frame = (agent: number, payload: Uint8Array): Buffer => {
    const h = Buffer.alloc(16);
    h.writeUInt32LE(0x46435254, 0); h.writeUInt32LE(agent, 4); h.writeUInt32LE(payload.length, 8); h.writeUInt32LE(crc32(payload), 12);
    return Buffer.concat([h, payload]);
  };
  /** A one-chunk file of format `version` whose chunk has only op, addr and size. */
  const withoutValues = (name: string, version: number): string => {
    const counts = Buffer.alloc(8); counts.writeDoubleLE(2, 0);
    return variant(name, Buffer.concat([
      Buffer.from(`ARMTRC\0${String.fromCharCode(version)}`, 'latin1'),
      frame(0xfffffffe, packr.pack({ version, agents: 1, addressKind: 'physical', source: 'hand' })),
      frame(0, packr.pack({ length: 2, op: new Uint8Array([0, 1]), addr: new Float64Array([64, 128]), size: new Uint8Array([8, 8]) })),
      frame(0xffffffff, counts),
    ]));
  };

  it('the writer leaves all-zero value columns out (a smaller file) and they read back as zeros', () => {
    const write = (name: string, value: number): { file: string; bytes: number } => {
      const file = tmp(name);
      const w = TraceWriter.create(file, { agents: 1, addressKind: 'physical', source: 'test' }, { chunkOps: 100 });
      for (let i = 0; i < 100; i++) w.push(0, i % 2 === 0 ? OpCode.Load : OpCode.Store, i * 64, 8, i === 99 ? value : 0, 0);
      w.close();
      return { file, bytes: fs.statSync(file).size };
    };
    const zero = write('zero-values.trace', 0), one = write('one-value.trace', 7);
    expect(one.bytes - zero.bytes).toBeGreaterThanOrEqual(100 * 4);      // valueLo, a u32 column of 100 ops
    expect(one.bytes - zero.bytes).toBeLessThan(100 * 8);                // valueHi is left out of both
    for (const [f, v] of [[zero.file, 0], [one.file, 7]] as const) {
      const r = TraceReader.open(f);
      const c = r.cursor(0).next()!;
      expect(c.valueLo).toBeInstanceOf(Uint32Array);
      expect(Array.from(c.valueLo)).toEqual(Array.from({ length: 100 }, (_, i) => (i === 99 ? v : 0)));
      expect(Array.from(c.valueHi)).toEqual(new Array(100).fill(0));
      r.close();
    }
  });

  it('a version-2 chunk may omit them; a version-1 chunk may not', () => {
    const r2 = TraceReader.open(withoutValues('v2-novalues.trace', 2));
    expect(r2.header.version).toBe(2);
    const c = r2.cursor(0).next()!;
    expect([Array.from(c.addr), Array.from(c.valueLo), Array.from(c.valueHi)]).toEqual([[64, 128], [0, 0], [0, 0]]);
    r2.close();
    const r1 = TraceReader.open(withoutValues('v1-novalues.trace', 1));
    expect(r1.header.version).toBe(1);
    expectUserError(() => r1.cursor(0).next(), 'v1-novalues.trace', /corrupt chunk at byte \d+ \(agent 0\): column valueLo is not a Uint32Array of 2 elements/);
    r1.close();
  });
});

describe('streaming', () => {
  it('a cursor streams its chunks in order without reading ahead, and skips other agents\' payloads', () => {
    const file = tmp('stream.trace');
    const w = TraceWriter.create(file, { agents: 3, addressKind: 'physical', source: 'test' }, { chunkOps: 10 });
    for (let i = 0; i < 500; i++) {
      w.push(0, OpCode.Store, i * 64, 8, i, 0);
      w.push(1, OpCode.Load, i * 64, 8, 0, 0);
      if (i % 2 === 0) w.push(2, OpCode.Fetch, i * 4, 4, 0, 0);
    }
    w.close();
    const mine = frames(file).filter((f) => f.agent === 0);
    expect(mine.length).toBe(50);
    const r = TraceReader.open(file);
    const c = r.cursor(0);
    let bytesSoFar = 0;
    const seen: TraceChunk[] = [];
    for (let k = 0; k < mine.length; k++) {
      const ch = c.next()!;
      seen.push(ch);
      // In order: chunk k holds ops 10k .. 10k+9.
      expect(Array.from(ch.valueLo)).toEqual(Array.from({ length: 10 }, (_, j) => 10 * k + j));
      // Read exactly up to the end of this chunk's frame, and only this agent's payloads.
      bytesSoFar += mine[k]!.bytes;
      expect(c.position).toBe(mine[k]!.at + 16 + mine[k]!.bytes);
      expect(c.payloadBytesRead).toBe(bytesSoFar);
    }
    // Earlier chunks are not reused for later ones: each is its own arrays, still intact.
    expect(seen[0]!.valueLo[0]).toBe(0);
    expect(new Set(seen.map((s) => s.op.buffer)).size).toBe(seen.length);
    expect(c.next()).toBeNull();
    r.close();
  });

  it('MemoryTrace seals on the first cursor', () => {
    const m = new MemoryTrace(1);
    m.push(0, OpCode.Load, 0, 8, 0, 0);
    expect(drain(m.cursor(0)).map((c) => c.length)).toEqual([1]);
    expect(() => m.push(0, OpCode.Load, 0, 8, 0, 0)).toThrow(/push after cursor/);
    expect(m.header).toEqual({ version: 2, agents: 1, addressKind: 'physical', source: 'memory' });
  });
});
