/**
 * Binary trace files: a streaming writer, a streaming reader with one cursor per agent, and an
 * in-memory trace with the same chunk shape.
 *
 * On-disk layout, version 2 (every integer little-endian):
 *
 *   offset 0   magic, 8 bytes: 'A' 'R' 'M' 'T' 'R' 'C' 0x00 <format version = 0x02>
 *   offset 8   header frame   (agent = 0xFFFFFFFE), payload: msgpack map
 *                { version, agents, addressKind: 'physical' | 'virtual', source, opCount? }
 *              chunk frames   (agent < agents), payload: msgpack map
 *                { length, op: Uint8Array, addr: Float64Array, size: Uint8Array,
 *                  valueLo: Uint32Array, valueHi: Uint32Array }      every column `length` long;
 *                valueLo or valueHi may be left out of a chunk in which it is all zeros (the
 *                writer does: most traces store values below 2^32, or none), which reads as zeros
 *              footer frame   (agent = 0xFFFFFFFF), payload: `agents` f64 op counts, agent order
 *
 *   frame = 16-byte header { u32 FRAME_MAGIC ("TRCF" in file order), u32 agent,
 *                            u32 payload byte length, u32 CRC-32 (zlib) of the payload }
 *           followed by the payload.
 *
 * Columns are msgpackr typed-array extensions (ext type 0x74: one byte naming the array type,
 * 1 = Uint8, 6 = Uint32, 8 = Float64, then the raw little-endian elements); plain msgpack `bin`
 * is accepted for the Uint8 columns, so other tools can write traces too. Per op:
 *   op       an OpCode (src/core/ops.ts)
 *   addr     the address for Load/Store/Fetch (exact up to 2^53), the system-register number for
 *            SysRegWrite, the cycle count for Compute, 0 for barriers
 *   size     1..64 bytes for Load/Store/Fetch, 0 for the rest
 *   valueLo/valueHi  for Store, the little-endian 64-bit value whose bytes repeat to fill `size`;
 *            for SysRegWrite the value written; 0 otherwise
 * Version 1 is version 2 with the value columns always present; readers take both, writers write 2.
 * A chunk holds at most the writer's chunk size (CHUNK_OPS by default) ops of one agent, and an
 * agent's chunks appear in op order. Chunks of different agents interleave in the order they
 * filled up.
 *
 * Why the footer is raw f64s and not msgpack: its size is then fixed by `agents` (16 + 8·agents
 * bytes), so `TraceReader.open` finds it with one read at the end of the file and rejects a
 * truncated file before the run starts rather than hours into it. A file without a valid footer
 * is truncated (the writer renames its temp file only after writing the footer).
 *
 * Memory: the writer buffers one chunk per agent; each reader cursor reads frame headers at its
 * own file position with fs.readSync, skips other agents' payloads by their length, and decodes
 * only its own chunks, keeping one reusable payload buffer (~1.2 MB at 65536 ops). Decoded
 * columns are fresh arrays that the cursor does not keep, so a chunk stays valid after the next
 * `next()` and is garbage once the consumer drops it. Nothing here is asynchronous
 * (trace-prefetch.ts runs a cursor in a worker thread and hands its chunks over synchronously).
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { crc32 } from 'node:zlib';
import { Packr, Unpackr } from 'msgpackr';
import { UserError } from '../sim/errors.js';
import { MAX_ACCESS_BYTES, OpCode, isMemoryOp } from './ops.js';

export const TRACE_VERSION = 2;
/** Format versions this reader takes (1: value columns always present). */
const READ_VERSIONS = [1, 2];
/** Ops per chunk unless the writer is told otherwise: ~1.2 MB of columns. */
export const CHUNK_OPS = 65536;
/** The largest chunk a reader accepts (bounds what a corrupt frame header can make it allocate). */
export const MAX_CHUNK_OPS = 1 << 20;
/** The most agents a trace may name (the last two u32 agent numbers mark header and footer). */
export const MAX_AGENTS = 65536;

const MAGIC = Buffer.from([0x41, 0x52, 0x4d, 0x54, 0x52, 0x43, 0x00, TRACE_VERSION]); // ARMTRC\0\x02
const FRAME_MAGIC = 0x46435254;          // bytes 54 52 43 46: "TRCF"
const FRAME_HEADER_BYTES = 16;
const HEADER_AGENT = 0xfffffffe;
const FOOTER_AGENT = 0xffffffff;
const MAX_HEADER_BYTES = 1 << 20;
/** Per op at most: op u8 + addr f64 + size u8 + valueLo u32 + valueHi u32, plus generous msgpack slack. */
const MAX_CHUNK_PAYLOAD_BYTES = MAX_CHUNK_OPS * 18 + 4096;
const MAX_ADDR = 2 ** 53;
const MAX_OP_CODE = OpCode.Compute;

export interface TraceHeader {
  version: number;
  agents: number;
  addressKind: 'physical' | 'virtual';
  source: string;
}

/**
 * Up to a chunk's worth of one agent's ops as parallel columns, all `length` long.
 * Contract: consumers read it and do not write to it (a MemoryTrace hands the same arrays to
 * every cursor).
 */
export interface TraceChunk {
  length: number;
  op: Uint8Array;
  addr: Float64Array;
  size: Uint8Array;
  valueLo: Uint32Array;
  valueHi: Uint32Array;
}

/** One agent's ops, a chunk at a time. `next()` returns null at that agent's end (and after). */
export interface TraceCursor {
  next(): TraceChunk | null;
}

export interface TraceChunkOptions {
  /** Ops per chunk, 1..MAX_CHUNK_OPS (default CHUNK_OPS). Tests use small ones. */
  chunkOps?: number;
}

// ---------------------------------------------------------------------------------------------
// Shared by the writer and the in-memory trace

/** Throws RangeError when an op breaks the format's rules: pushing one is a caller bug. */
function checkOp(agents: number, agent: number, op: number, addr: number, size: number, valueLo: number, valueHi: number): void {
  if (!(Number.isInteger(agent) && agent >= 0 && agent < agents)) throw new RangeError(`trace push: agent ${agent} is not in 0..${agents - 1}`);
  if (!(Number.isInteger(op) && op >= 0 && op <= MAX_OP_CODE)) throw new RangeError(`trace push: op ${op} is not an OpCode (0..${MAX_OP_CODE})`);
  if (!(Number.isInteger(addr) && addr >= 0 && addr <= MAX_ADDR)) throw new RangeError(`trace push: addr ${addr} is not an integer in 0..2^53`);
  if (isMemoryOp(op) ? !(Number.isInteger(size) && size >= 1 && size <= MAX_ACCESS_BYTES) : size !== 0) {
    throw new RangeError(`trace push: size ${size} for op ${op}: expected 1..${MAX_ACCESS_BYTES} for loads, stores and fetches, 0 otherwise`);
  }
  if (!(valueLo >>> 0 === valueLo && valueHi >>> 0 === valueHi)) throw new RangeError(`trace push: valueLo/valueHi ${valueLo}/${valueHi} are not unsigned 32-bit integers`);
}

/** One agent's chunk being filled. */
class ColumnBuffer {
  n = 0;
  readonly op: Uint8Array;
  readonly addr: Float64Array;
  readonly size: Uint8Array;
  readonly valueLo: Uint32Array;
  readonly valueHi: Uint32Array;

  constructor(capacity: number) {
    this.op = new Uint8Array(capacity);
    this.addr = new Float64Array(capacity);
    this.size = new Uint8Array(capacity);
    this.valueLo = new Uint32Array(capacity);
    this.valueHi = new Uint32Array(capacity);
  }

  /** Appends an op; true when the buffer is now full. */
  push(op: number, addr: number, size: number, valueLo: number, valueHi: number): boolean {
    const i = this.n++;
    this.op[i] = op; this.addr[i] = addr; this.size[i] = size; this.valueLo[i] = valueLo; this.valueHi[i] = valueHi;
    return this.n === this.op.length;
  }

  /** Views of the filled part (valid until the next push). */
  views(): TraceChunk {
    const n = this.n;
    return {
      length: n, op: this.op.subarray(0, n), addr: this.addr.subarray(0, n), size: this.size.subarray(0, n),
      valueLo: this.valueLo.subarray(0, n), valueHi: this.valueHi.subarray(0, n),
    };
  }

  /** Copies of the filled part, sized exactly. */
  copy(): TraceChunk {
    const n = this.n;
    return {
      length: n, op: this.op.slice(0, n), addr: this.addr.slice(0, n), size: this.size.slice(0, n),
      valueLo: this.valueLo.slice(0, n), valueHi: this.valueHi.slice(0, n),
    };
  }
}

function checkHeaderArgs(header: Omit<TraceHeader, 'version'>, opts: TraceChunkOptions | undefined): number {
  const { agents, addressKind, source } = header;
  if (!(Number.isInteger(agents) && agents >= 1 && agents <= MAX_AGENTS)) throw new RangeError(`trace: agents ${agents} is not in 1..${MAX_AGENTS}`);
  if (addressKind !== 'physical' && addressKind !== 'virtual') throw new RangeError(`trace: addressKind ${String(addressKind)} is not 'physical' or 'virtual'`);
  if (typeof source !== 'string') throw new RangeError('trace: source must be a string');
  const chunkOps = opts?.chunkOps ?? CHUNK_OPS;
  if (!(Number.isInteger(chunkOps) && chunkOps >= 1 && chunkOps <= MAX_CHUNK_OPS)) throw new RangeError(`trace: chunkOps ${chunkOps} is not in 1..${MAX_CHUNK_OPS}`);
  return chunkOps;
}

/** Typed arrays become msgpackr ext 0x74 (moreTypes); objects stay plain maps for other readers. */
function newPackr(): Packr { return new Packr({ moreTypes: true, useRecords: false }); }

// ---------------------------------------------------------------------------------------------
// Writer

let tempCounter = 0;

/**
 * Streaming writer. Buffers one chunk per agent (allocated on the agent's first push) and writes
 * a frame whenever a buffer fills. Writes to a temp file beside `path` and renames it on
 * `close()`, so a failed or aborted write never leaves a partial file at `path`.
 */
export class TraceWriter {
  private fd: number;
  private pos = 0;
  private isOpen = true;
  private readonly buffers: (ColumnBuffer | undefined)[];
  private readonly counts: Float64Array;
  private readonly packr = newPackr();
  private readonly frameHeader = Buffer.alloc(FRAME_HEADER_BYTES);

  private constructor(
    readonly path: string,
    private readonly tempPath: string,
    fd: number,
    readonly header: TraceHeader,
    private readonly chunkOps: number,
  ) {
    this.fd = fd;
    this.buffers = new Array<ColumnBuffer | undefined>(header.agents).fill(undefined);
    this.counts = new Float64Array(header.agents);
  }

  /** Creates the temp file and writes magic and header; throws UserError if it cannot. */
  static create(filePath: string, header: Omit<TraceHeader, 'version'>, opts?: TraceChunkOptions): TraceWriter {
    const chunkOps = checkHeaderArgs(header, opts);
    const full: TraceHeader = { version: TRACE_VERSION, agents: header.agents, addressKind: header.addressKind, source: header.source };
    const tempPath = path.join(path.dirname(filePath), `.${path.basename(filePath)}.${process.pid}.${tempCounter++}.tmp`);
    let fd: number;
    try {
      fd = fs.openSync(tempPath, 'wx');
    } catch (e) {
      throw new UserError(`trace ${filePath}: cannot create: ${errText(e)}`);
    }
    const w = new TraceWriter(filePath, tempPath, fd, full, chunkOps);
    w.guard(() => {
      w.write(MAGIC);
      w.writeFrame(HEADER_AGENT, w.packr.pack(full));
    });
    return w;
  }

  /** Appends one op for `agent` (see the layout above for what each field means). */
  push(agent: number, op: number, addr: number, size: number, valueLo: number, valueHi: number): void {
    if (!this.isOpen) throw new Error(`trace ${this.path}: push after close/abort`);
    checkOp(this.header.agents, agent, op, addr, size, valueLo, valueHi);
    const b = this.buffers[agent] ?? (this.buffers[agent] = new ColumnBuffer(this.chunkOps));
    this.counts[agent]!++;
    if (b.push(op, addr, size, valueLo, valueHi)) this.guard(() => this.flush(b, agent));
  }

  /** Ops pushed so far for `agent`. */
  opCount(agent: number): number { return this.counts[agent] ?? 0; }

  /** Flushes every partial chunk, writes the footer, and renames the temp file to `path`. */
  close(): void {
    if (!this.isOpen) return;
    this.guard(() => {
      for (let a = 0; a < this.buffers.length; a++) {
        const b = this.buffers[a];
        if (b !== undefined && b.n > 0) this.flush(b, a);
      }
      const footer = Buffer.alloc(8 * this.header.agents);
      for (let a = 0; a < this.header.agents; a++) footer.writeDoubleLE(this.counts[a]!, 8 * a);
      this.writeFrame(FOOTER_AGENT, footer);
      fs.fsyncSync(this.fd);
      fs.closeSync(this.fd);
      this.isOpen = false;
      fs.renameSync(this.tempPath, this.path);
    });
  }

  /** Closes and deletes the temp file: nothing is left at `path` (an existing file there is untouched). */
  abort(): void {
    if (this.isOpen) {
      this.isOpen = false;
      try { fs.closeSync(this.fd); } catch { /* already failing; the unlink below is what matters */ }
    }
    try { fs.unlinkSync(this.tempPath); } catch { /* never created, or already renamed away */ }
  }

  private flush(b: ColumnBuffer, agent: number): void {
    const c: Partial<TraceChunk> = b.views();
    // An all-zero value column is left out (4 of the 18 bytes per op; valueHi of most traces).
    if (allZero(c.valueLo!)) delete c.valueLo;
    if (allZero(c.valueHi!)) delete c.valueHi;
    this.writeFrame(agent, this.packr.pack(c));
    b.n = 0;
  }

  private writeFrame(agent: number, payload: Uint8Array): void {
    const h = this.frameHeader;
    h.writeUInt32LE(FRAME_MAGIC, 0);
    h.writeUInt32LE(agent, 4);
    h.writeUInt32LE(payload.length, 8);
    h.writeUInt32LE(crc32(payload), 12);
    this.write(h);
    this.write(payload);
  }

  private write(data: Uint8Array): void {
    let off = 0;
    while (off < data.length) {
      const n = fs.writeSync(this.fd, data, off, data.length - off, this.pos);
      off += n; this.pos += n;
    }
  }

  /** Runs a file operation; on failure deletes the temp file and reports a UserError. */
  private guard(fn: () => void): void {
    try {
      fn();
    } catch (e) {
      this.abort();
      if (e instanceof UserError) throw e;
      throw new UserError(`trace ${this.path}: cannot write: ${errText(e)}`);
    }
  }
}

function allZero(a: Uint32Array): boolean {
  for (let i = 0; i < a.length; i++) if (a[i] !== 0) return false;
  return true;
}

// ---------------------------------------------------------------------------------------------
// Reader

const unpackr = new Unpackr({ moreTypes: true, useRecords: false, copyBuffers: true });

/**
 * Opens a trace file and hands out one cursor per agent. `open` checks magic, version, the header
 * record and the footer, so a truncated file fails here, before a run starts.
 */
export class TraceReader {
  private fd: number;
  private isOpen = true;
  /** Offset of the footer frame: where every cursor's scan ends. */
  private readonly footerAt: number;
  private readonly counts: Float64Array;

  private constructor(readonly path: string, fd: number, readonly header: TraceHeader, private readonly firstFrameAt: number, footerAt: number, counts: Float64Array) {
    this.fd = fd;
    this.footerAt = footerAt;
    this.counts = counts;
  }

  static open(filePath: string): TraceReader {
    let fd: number;
    try {
      fd = fs.openSync(filePath, 'r');
    } catch (e) {
      throw new UserError(`trace ${filePath}: cannot open: ${errText(e)}`);
    }
    try {
      return TraceReader.validate(filePath, fd);
    } catch (e) {
      fs.closeSync(fd);
      if (e instanceof UserError) throw e;
      throw new UserError(`trace ${filePath}: cannot read: ${errText(e)}`);
    }
  }

  private static validate(file: string, fd: number): TraceReader {
    const fileBytes = fs.fstatSync(fd).size;
    const fail = (what: string): never => { throw new UserError(`trace ${file}: ${what}`); };

    const magic = Buffer.alloc(MAGIC.length);
    const got = readAt(fd, magic, 0, Math.min(MAGIC.length, fileBytes), 0);
    const prefix = Math.min(got, 7);
    if (got === 0) fail('not an armsim trace (empty file)');
    if (!magic.subarray(0, prefix).equals(MAGIC.subarray(0, prefix))) fail('not an armsim trace (bad magic; expected "ARMTRC\\0" and a version byte)');
    if (got < MAGIC.length) fail(`truncated at byte ${got} (inside the ${MAGIC.length}-byte magic)`);
    if (!READ_VERSIONS.includes(magic[7]!)) fail(`trace format version ${magic[7]}; this armsim reads versions ${READ_VERSIONS.join(' and ')}`);

    // Header record.
    const at = MAGIC.length;
    const fh = Buffer.alloc(FRAME_HEADER_BYTES);
    if (fileBytes - at < FRAME_HEADER_BYTES) fail(`truncated header record at byte ${at} (need ${FRAME_HEADER_BYTES} bytes of frame header, ${fileBytes - at} remain)`);
    readAt(fd, fh, 0, FRAME_HEADER_BYTES, at);
    if (fh.readUInt32LE(0) !== FRAME_MAGIC || fh.readUInt32LE(4) !== HEADER_AGENT) fail(`corrupt header record at byte ${at} (bad frame header)`);
    const headerBytes = fh.readUInt32LE(8);
    if (headerBytes > MAX_HEADER_BYTES) fail(`corrupt header record at byte ${at} (says ${headerBytes} bytes; at most ${MAX_HEADER_BYTES})`);
    const remain = fileBytes - at - FRAME_HEADER_BYTES;
    if (headerBytes > remain) fail(`truncated header record at byte ${at} (header says ${headerBytes} bytes, ${remain} remain)`);
    const hp = Buffer.alloc(headerBytes);
    readAt(fd, hp, 0, headerBytes, at + FRAME_HEADER_BYTES);
    if (crc32(hp) !== fh.readUInt32LE(12)) fail(`corrupt header record at byte ${at} (CRC32 mismatch)`);
    let raw: unknown;
    try { raw = unpackr.unpack(hp); } catch { fail(`corrupt header record at byte ${at} (not valid msgpack)`); }
    const header = checkHeaderRecord(raw, magic[7]!, fail);
    const firstFrameAt = at + FRAME_HEADER_BYTES + headerBytes;

    // Footer: fixed size, so it sits exactly here if the writer finished.
    const footerBytes = 8 * header.agents;
    const footerAt = fileBytes - FRAME_HEADER_BYTES - footerBytes;
    let footerOk = footerAt >= firstFrameAt;
    if (footerOk) {
      readAt(fd, fh, 0, FRAME_HEADER_BYTES, footerAt);
      footerOk = fh.readUInt32LE(0) === FRAME_MAGIC && fh.readUInt32LE(4) === FOOTER_AGENT && fh.readUInt32LE(8) === footerBytes;
    }
    if (!footerOk) fail(diagnoseMissingFooter(fd, fileBytes, firstFrameAt, header.agents));
    const fp = Buffer.alloc(footerBytes);
    readAt(fd, fp, 0, footerBytes, footerAt + FRAME_HEADER_BYTES);
    if (crc32(fp) !== fh.readUInt32LE(12)) fail(`corrupt footer at byte ${footerAt} (CRC32 mismatch)`);
    const counts = new Float64Array(header.agents);
    for (let a = 0; a < header.agents; a++) {
      const c = fp.readDoubleLE(8 * a);
      if (!(Number.isInteger(c) && c >= 0 && c <= MAX_ADDR)) fail(`corrupt footer at byte ${footerAt} (op count ${c} for agent ${a})`);
      counts[a] = c;
    }
    const declared = (raw as { opCount?: unknown }).opCount;
    if (declared !== undefined) {
      if (!Array.isArray(declared) || declared.length !== header.agents || declared.some((c, a) => c !== counts[a])) {
        fail(`corrupt: the header's opCount ${JSON.stringify(declared)} disagrees with the footer's [${[...counts].join(', ')}]`);
      }
    }
    return new TraceReader(file, fd, header, firstFrameAt, footerAt, counts);
  }

  /** The op count the footer gives for `agent`. */
  opCount(agent: number): number {
    this.checkAgent(agent);
    return this.counts[agent]!;
  }

  /** A fresh cursor over `agent`'s ops from the start; each cursor reads independently. */
  cursor(agent: number): TraceFileCursor {
    this.checkAgent(agent);
    return new TraceFileCursor(this, agent, this.firstFrameAt, this.footerAt, this.counts[agent]!);
  }

  /**
   * A cursor over `agent`'s ops from file offset `at` (a frame boundary: another cursor's
   * `position`) with `opsBefore` of them read before it (its `opsRead`), as that cursor would go on.
   */
  cursorFrom(agent: number, at: number, opsBefore: number): TraceFileCursor {
    this.checkAgent(agent);
    if (!(Number.isInteger(at) && at >= this.firstFrameAt && at <= this.footerAt)) throw new RangeError(`trace ${this.path}: cursor start ${at} is not in ${this.firstFrameAt}..${this.footerAt}`);
    return new TraceFileCursor(this, agent, at, this.footerAt, this.counts[agent]!, opsBefore);
  }

  /** Closes the file; cursors must not be used afterwards. */
  close(): void {
    if (!this.isOpen) return;
    this.isOpen = false;
    fs.closeSync(this.fd);
  }

  /** @internal for cursors */
  fdForCursor(): number {
    if (!this.isOpen) throw new Error(`trace ${this.path}: read after close`);
    return this.fd;
  }

  private checkAgent(agent: number): void {
    if (!(Number.isInteger(agent) && agent >= 0 && agent < this.header.agents)) throw new RangeError(`trace ${this.path}: agent ${agent} is not in 0..${this.header.agents - 1}`);
  }
}

/**
 * Streams one agent's chunks: reads each frame header at its own position, skips other agents'
 * frames by their length, and decodes only its own. Holds one reusable payload buffer and no
 * decoded chunk.
 */
export class TraceFileCursor implements TraceCursor {
  private pos: number;
  private bytesRead = 0;
  private ops = 0;
  private isDone = false;
  private readonly frameHeader = Buffer.alloc(FRAME_HEADER_BYTES);
  private payload = Buffer.alloc(0);

  constructor(
    private readonly reader: TraceReader,
    readonly agent: number,
    start: number,
    private readonly end: number,
    private readonly expectedOps: number,
    opsBefore = 0,
  ) {
    this.pos = start;
    this.ops = opsBefore;
  }

  /** File offset of the next frame header this cursor will read. */
  get position(): number { return this.pos; }
  /** Payload bytes this cursor has read (only its own agent's frames). */
  get payloadBytesRead(): number { return this.bytesRead; }
  /** Ops returned so far. */
  get opsRead(): number { return this.ops; }

  next(): TraceChunk | null {
    if (this.isDone) return null;
    const fd = this.reader.fdForCursor();
    const h = this.frameHeader;
    for (;;) {
      const at = this.pos;
      if (at === this.end) {
        if (this.ops !== this.expectedOps) this.fail(`corrupt: the footer says agent ${this.agent} has ${this.expectedOps} ops, the chunks hold ${this.ops}`);
        this.isDone = true;
        return null;
      }
      if (this.end - at < FRAME_HEADER_BYTES) this.fail(`corrupt frame at byte ${at} (${this.end - at} bytes left before the footer, a frame header takes ${FRAME_HEADER_BYTES})`);
      readAt(fd, h, 0, FRAME_HEADER_BYTES, at);
      const agent = h.readUInt32LE(4);
      const bytes = h.readUInt32LE(8);
      if (h.readUInt32LE(0) !== FRAME_MAGIC) this.fail(`corrupt frame header at byte ${at} (bad frame magic)`);
      if (agent >= this.reader.header.agents) this.fail(`corrupt frame header at byte ${at} (agent ${agent}; the header says ${this.reader.header.agents} agents)`);
      const remain = this.end - at - FRAME_HEADER_BYTES;
      if (bytes > remain) this.fail(`truncated or corrupt chunk at byte ${at} (header says ${bytes} bytes, ${remain} remain before the footer)`);
      this.pos = at + FRAME_HEADER_BYTES + bytes;
      if (agent !== this.agent) continue;

      if (bytes > MAX_CHUNK_PAYLOAD_BYTES) this.fail(`corrupt chunk at byte ${at} (${bytes} bytes; at most ${MAX_CHUNK_PAYLOAD_BYTES})`);
      if (this.payload.length < bytes) this.payload = Buffer.allocUnsafe(Math.max(bytes, 2 * this.payload.length));
      const p = this.payload.subarray(0, bytes);
      readAt(fd, p, 0, bytes, at + FRAME_HEADER_BYTES);
      this.bytesRead += bytes;
      const stored = h.readUInt32LE(12), computed = crc32(p);
      if (stored !== computed) this.fail(`corrupt chunk at byte ${at} (agent ${agent}): CRC32 mismatch (stored ${hex32(stored)}, computed ${hex32(computed)})`);
      let raw: unknown;
      try { raw = unpackr.unpack(p); } catch { this.fail(`corrupt chunk at byte ${at} (agent ${agent}): payload is not valid msgpack`); }
      const problem = checkChunk(raw, this.reader.header.version);
      if (problem !== undefined) this.fail(`corrupt chunk at byte ${at} (agent ${agent}): ${problem}`);
      const c = raw as TraceChunk;
      this.ops += c.length;
      if (this.ops > this.expectedOps) this.fail(`corrupt: the footer says agent ${this.agent} has ${this.expectedOps} ops, the chunks hold more (at byte ${at})`);
      return { length: c.length, op: c.op, addr: c.addr, size: c.size, valueLo: c.valueLo ?? zeros(c.length), valueHi: c.valueHi ?? zeros(c.length) };
    }
  }

  private fail(what: string): never {
    this.isDone = true;
    throw new UserError(`trace ${this.reader.path}: ${what}`);
  }
}

function checkHeaderRecord(raw: unknown, version: number, fail: (what: string) => never): TraceHeader {
  if (typeof raw !== 'object' || raw === null) return fail('corrupt header record (not a map)');
  const r = raw as Record<string, unknown>;
  if (r.version !== version) fail(`corrupt header record (version ${String(r.version)}, the magic says ${version})`);
  const agents = r.agents;
  if (!(typeof agents === 'number' && Number.isInteger(agents) && agents >= 1 && agents <= MAX_AGENTS)) fail(`corrupt header record (agents ${String(agents)}; expected an integer 1..${MAX_AGENTS})`);
  if (r.addressKind !== 'physical' && r.addressKind !== 'virtual') fail(`corrupt header record (addressKind ${String(r.addressKind)}; expected 'physical' or 'virtual')`);
  if (typeof r.source !== 'string') fail('corrupt header record (source is not a string)');
  return { version, agents: agents as number, addressKind: r.addressKind as TraceHeader['addressKind'], source: r.source as string };
}

/** Per op code, the smallest legal size and (largest - smallest); unknown codes accept none. */
const SIZE_MIN = new Int32Array(256);
const SIZE_SPAN = new Int32Array(256);
for (let o = 0; o < 256; o++) {
  if (o > MAX_OP_CODE) { SIZE_MIN[o] = 256; SIZE_SPAN[o] = 0; }   // (size - 256) >>> 0 > 0 for every u8 size
  else if (isMemoryOp(o)) { SIZE_MIN[o] = 1; SIZE_SPAN[o] = MAX_ACCESS_BYTES - 1; }
  else { SIZE_MIN[o] = 0; SIZE_SPAN[o] = 0; }
}

/**
 * What is wrong with a decoded chunk, or undefined. Checks the shape, then every op against the
 * format's rules (two passes over the columns, no allocation): a trace is user input, and an op
 * code the core does not know would otherwise fail far from its cause.
 */
function checkChunk(raw: unknown, version: number): string | undefined {
  if (typeof raw !== 'object' || raw === null) return 'payload is not a map';
  const c = raw as Record<string, unknown>;
  const n = c.length;
  if (!(typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= MAX_CHUNK_OPS)) return `length ${String(n)} is not in 1..${MAX_CHUNK_OPS}`;
  const columns: [string, new (n: number) => ArrayBufferView][] = [['op', Uint8Array], ['addr', Float64Array], ['size', Uint8Array], ['valueLo', Uint32Array], ['valueHi', Uint32Array]];
  for (const [name, type] of columns) {
    const col = c[name];
    if (col === undefined && version >= 2 && (name === 'valueLo' || name === 'valueHi')) continue;   // all zeros
    if (!(col instanceof type) || (col as unknown as { length: number }).length !== n) return `column ${name} is not a ${type.name} of ${n} elements`;
  }
  const op = c.op as Uint8Array, addr = c.addr as Float64Array, size = c.size as Uint8Array;
  // Fast passes first (branch-free on op/size, which are mixed at random); a slow pass names the op.
  // Each pass is its own function: as loops of one function called once per chunk, they were
  // compiled on stack replacement and thrown away again at every chunk.
  if (sizesOk(op, size, n) && addrsOk(addr, n)) return undefined;
  for (let i = 0; i < n; i++) {
    const o = op[i]!, a = addr[i]!, s = size[i]!;
    if (o > MAX_OP_CODE) return `op ${i}: op code ${o} is not one of 0..${MAX_OP_CODE}`;
    if (!(a >= 0 && a <= MAX_ADDR && Math.floor(a) === a)) return `op ${i}: addr ${a} is not an integer in 0..2^53`;
    if (isMemoryOp(o) ? s === 0 || s > MAX_ACCESS_BYTES : s !== 0) return `op ${i}: size ${s} for op code ${o} (expected 1..${MAX_ACCESS_BYTES} for loads, stores and fetches, 0 otherwise)`;
  }
  return undefined;
}

/** Every op's size is legal for its op code (and every op code is known). */
function sizesOk(op: Uint8Array, size: Uint8Array, n: number): boolean {
  let isBad = 0;
  for (let i = 0; i < n; i++) {
    const o = op[i]!, lo = SIZE_MIN[o]!;
    isBad |= (size[i]! - lo) >>> 0 > SIZE_SPAN[o]! ? 1 : 0;
  }
  return isBad === 0;
}

/** Every address is an integer in 0..2^53. */
function addrsOk(addr: Float64Array, n: number): boolean {
  for (let i = 0; i < n; i++) {
    const a = addr[i]!;
    if (!(a >= 0 && a <= MAX_ADDR && Math.floor(a) === a)) return false;
  }
  return true;
}

/** Walks the frames to say where a file without a footer ends (only on the error path). */
/** A column of n zeros, for value columns a chunk leaves out (a view of one shared array: chunks are read-only). */
let zeroColumn = new Uint32Array(0);
export function zeros(n: number): Uint32Array {
  if (zeroColumn.length < n) zeroColumn = new Uint32Array(n);
  return zeroColumn.subarray(0, n);
}

function diagnoseMissingFooter(fd: number, fileBytes: number, firstFrameAt: number, agents: number): string {
  const h = Buffer.alloc(FRAME_HEADER_BYTES);
  let at = firstFrameAt;
  for (;;) {
    if (at === fileBytes) return `truncated: no footer after the last chunk (ends at byte ${at}); the writer did not finish or the file was cut`;
    if (fileBytes - at < FRAME_HEADER_BYTES) return `truncated frame header at byte ${at} (need ${FRAME_HEADER_BYTES} bytes, ${fileBytes - at} remain); no footer`;
    readAt(fd, h, 0, FRAME_HEADER_BYTES, at);
    if (h.readUInt32LE(0) !== FRAME_MAGIC) return `corrupt frame header at byte ${at} (bad frame magic); no footer at the end of the file, so it may also be truncated`;
    const agent = h.readUInt32LE(4), bytes = h.readUInt32LE(8);
    const remain = fileBytes - at - FRAME_HEADER_BYTES;
    const what = agent === FOOTER_AGENT ? 'footer' : agent === HEADER_AGENT ? 'frame' : 'chunk';
    if (bytes > remain) return `truncated ${what} at byte ${at} (header says ${bytes} bytes, ${remain} remain)${what === 'footer' ? '' : '; no footer'}`;
    if (agent === FOOTER_AGENT) return `corrupt footer at byte ${at} (${bytes} bytes, expected ${8 * agents} for ${agents} agents${at + FRAME_HEADER_BYTES + bytes === fileBytes ? '' : ', and it is not at the end of the file'})`;
    at += FRAME_HEADER_BYTES + bytes;
  }
}

/** Reads exactly `length` bytes at `position` unless the file ends first; returns bytes read. */
function readAt(fd: number, buf: Uint8Array, offset: number, length: number, position: number): number {
  let done = 0;
  while (done < length) {
    const n = fs.readSync(fd, buf, offset + done, length - done, position + done);
    if (n === 0) break;
    done += n;
  }
  return done;
}

function hex32(x: number): string { return `0x${x.toString(16).padStart(8, '0')}`; }

function errText(e: unknown): string {
  return e instanceof Error ? e.message : String(e);
}

// ---------------------------------------------------------------------------------------------
// In-memory trace

/**
 * A trace held in memory, for scenarios that synthesize one. Its cursors yield exactly the chunks
 * a file written with the same pushes and chunk size would (full chunks, then the remainder).
 * Contract: push everything first; the first `cursor()` call seals the trace.
 */
export class MemoryTrace {
  readonly header: TraceHeader;
  private readonly chunks: TraceChunk[][];
  private readonly buffers: ColumnBuffer[];
  private readonly counts: Float64Array;
  private readonly chunkOps: number;
  private isSealed = false;

  constructor(agents: number, opts?: TraceChunkOptions & { addressKind?: TraceHeader['addressKind']; source?: string }) {
    const partial = { agents, addressKind: opts?.addressKind ?? 'physical', source: opts?.source ?? 'memory' } as const;
    this.chunkOps = checkHeaderArgs(partial, opts);
    this.header = Object.freeze({ version: TRACE_VERSION, ...partial });
    this.chunks = Array.from({ length: agents }, () => []);
    this.buffers = [];
    this.counts = new Float64Array(agents);
  }

  push(agent: number, op: number, addr: number, size: number, valueLo: number, valueHi: number): void {
    if (this.isSealed) throw new Error('MemoryTrace: push after cursor() (push everything first)');
    checkOp(this.header.agents, agent, op, addr, size, valueLo, valueHi);
    const b = this.buffers[agent] ?? (this.buffers[agent] = new ColumnBuffer(this.chunkOps));
    this.counts[agent]!++;
    if (b.push(op, addr, size, valueLo, valueHi)) { this.chunks[agent]!.push(b.copy()); b.n = 0; }
  }

  opCount(agent: number): number { return this.counts[agent] ?? 0; }

  cursor(agent: number): TraceCursor {
    if (!(Number.isInteger(agent) && agent >= 0 && agent < this.header.agents)) throw new RangeError(`MemoryTrace: agent ${agent} is not in 0..${this.header.agents - 1}`);
    if (!this.isSealed) {
      this.isSealed = true;
      this.buffers.forEach((b, a) => { if (b.n > 0) this.chunks[a]!.push(b.copy()); });
      this.buffers.length = 0;
    }
    const list = this.chunks[agent]!;
    let i = 0;
    return { next: () => (i < list.length ? list[i++]! : null) };
  }
}
