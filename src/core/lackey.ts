/**
 * `armsim trace import --from lackey`: converts the memory trace that
 * `valgrind --tool=lackey --trace-mem=yes --log-file=FILE prog` writes into an armsim trace.
 *
 * Lackey prints one record per access (lackey/lk_main.c, `trace_mem`):
 *   "I  04016d10,3"   instruction fetch      -> OpCode.Fetch
 *   " L 1ffefffb48,8" data load              -> OpCode.Load
 *   " S 1ffefffb40,8" data store             -> OpCode.Store
 *   " M 0421f028,4"   data modify            -> OpCode.Load, then OpCode.Store, same address and size
 * plus valgrind commentary (`==PID== ...`, and `--PID--` / `**PID**` warnings), which is skipped,
 * as are blank lines and `SB <addr>` superblock lines (--trace-superblocks=yes; no access).
 *
 * Addresses are the guest's virtual addresses, stored verbatim (addressKind 'virtual'); they
 * must be below 2^53 (user space on x86-64 and AArch64 Linux is below 2^48). An access larger
 * than 64 bytes (MAX_ACCESS_BYTES; e.g. XSAVE) becomes consecutive pieces of 64 bytes and a
 * remainder; a split M loads every piece, then stores every piece.
 *
 * Lackey records no data, so a store writes a deterministic value: the 0-based index of its
 * lackey record among all records (valueLo = index mod 2^32, valueHi = floor(index / 2^32)), so
 * bytes seen later in a simulated cache name the record that wrote them.
 *
 * Synchronous: it streams the input in 1 MiB blocks with fs.readSync and parses bytes in place,
 * so memory stays flat for any input size and the CLI needs no event loop.
 */
import * as fs from 'node:fs';
import { UserError } from '../sim/errors.js';
import { MAX_ACCESS_BYTES, OpCode } from './ops.js';
import { MAX_AGENTS, TraceWriter, type TraceChunkOptions } from './trace-format.js';

export interface LackeyImportResult {
  /** Lackey access records read (I, L, S and M lines). */
  records: number;
  /** Data reads as lackey saw them: one per L record and one per M record (before splitting). */
  loads: number;
  /** Data writes as lackey saw them: one per S record and one per M record (before splitting). */
  stores: number;
  /** Instruction fetches: one per I record (before splitting). */
  fetches: number;
  /** Ops written to the trace: an M gives two, and an access of n > 64 bytes gives ceil(n / 64) per access. */
  ops: number;
}

export interface LackeyImportOptions extends TraceChunkOptions {
  /** The agent the ops are written for (default 0); the trace then has agent + 1 agents, the others empty. */
  agent?: number;
}

const EXPECTED = 'expected "[ I| L| S| M] <hex addr>,<size>"';
const BLOCK_BYTES = 1 << 20;
const MAX_ADDR = 2 ** 53;
const SP = 0x20, TAB = 0x09, CR = 0x0d, LF = 0x0a, COMMA = 0x2c;

/** Converts a lackey log to an armsim trace at `outputPath`; on any error nothing is left there. */
export function importLackey(inputPath: string, outputPath: string, opts?: LackeyImportOptions): LackeyImportResult {
  const agent = opts?.agent ?? 0;
  if (!(Number.isInteger(agent) && agent >= 0 && agent < MAX_AGENTS)) throw new UserError(`lackey import: agent ${agent} is not an integer in 0..${MAX_AGENTS - 1}`);
  let fd: number;
  try {
    fd = fs.openSync(inputPath, 'r');
  } catch (e) {
    throw new UserError(`lackey ${inputPath}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  }
  let writer: TraceWriter | undefined;
  try {
    writer = TraceWriter.create(outputPath, { agents: agent + 1, addressKind: 'virtual', source: 'lackey' }, opts?.chunkOps === undefined ? undefined : { chunkOps: opts.chunkOps });
    const result = convert(fd, inputPath, writer, agent);
    writer.close();
    return result;
  } catch (e) {
    writer?.abort();
    if (e instanceof UserError) throw e;
    throw new UserError(`lackey ${inputPath}: cannot read: ${e instanceof Error ? e.message : String(e)}`);
  } finally {
    fs.closeSync(fd);
  }
}

function convert(fd: number, file: string, w: TraceWriter, agent: number): LackeyImportResult {
  const r: LackeyImportResult = { records: 0, loads: 0, stores: 0, fetches: 0, ops: 0 };
  const buf = Buffer.allocUnsafe(BLOCK_BYTES);
  const rec = { kind: 0, addr: 0, size: 0 };
  let fill = 0, filePos = 0, lineNo = 0, isEof = false;

  const handle = (s: number, e: number): void => {
    lineNo++;
    const status = parseLine(buf, s, e, rec);
    if (status === SKIP) return;
    if (status !== RECORD) throw new UserError(`lackey ${file}:${lineNo}: ${lineProblem(status, buf, s, e, rec)}`);
    const index = r.records++;
    const lo = index % 4294967296, hi = Math.floor(index / 4294967296);
    switch (rec.kind) {
      case 0x49: r.fetches++; r.ops += emit(w, agent, OpCode.Fetch, rec.addr, rec.size, 0, 0); break;   // I
      case 0x4c: r.loads++; r.ops += emit(w, agent, OpCode.Load, rec.addr, rec.size, 0, 0); break;     // L
      case 0x53: r.stores++; r.ops += emit(w, agent, OpCode.Store, rec.addr, rec.size, lo, hi); break; // S
      default:                                                                                         // M
        r.loads++; r.stores++;
        r.ops += emit(w, agent, OpCode.Load, rec.addr, rec.size, 0, 0);
        r.ops += emit(w, agent, OpCode.Store, rec.addr, rec.size, lo, hi);
    }
  };

  while (!isEof) {
    const n = fs.readSync(fd, buf, fill, BLOCK_BYTES - fill, filePos);
    filePos += n; fill += n; isEof = n === 0;
    let start = 0;
    for (;;) {
      const nl = buf.indexOf(LF, start);
      if (nl === -1 || nl >= fill) break;
      handle(start, nl);
      start = nl + 1;
    }
    if (isEof) {
      if (start < fill) handle(start, fill);
    } else if (start === 0 && fill === BLOCK_BYTES) {
      throw new UserError(`lackey ${file}:${lineNo + 1}: line longer than ${BLOCK_BYTES} bytes; ${EXPECTED}`);
    } else {
      buf.copyWithin(0, start, fill);
      fill -= start;
    }
  }
  if (r.records === 0) throw new UserError(`lackey ${file}: no access records (I, L, S or M lines); was valgrind run with --tool=lackey --trace-mem=yes?`);
  return r;
}

/** Pushes one access as pieces of at most 64 bytes; returns the ops written. */
function emit(w: TraceWriter, agent: number, op: number, addr: number, size: number, lo: number, hi: number): number {
  if (size <= MAX_ACCESS_BYTES) { w.push(agent, op, addr, size, lo, hi); return 1; }
  let n = 0;
  for (let off = 0; off < size; off += MAX_ACCESS_BYTES, n++) w.push(agent, op, addr + off, Math.min(MAX_ACCESS_BYTES, size - off), lo, hi);
  return n;
}

const SKIP = 0, RECORD = 1, MALFORMED = 2, ZERO_SIZE = 3, ADDR_TOO_BIG = 4;

/**
 * Parses buf[s, e) (no newline). Fills `rec` and returns RECORD, or SKIP for commentary and
 * blank lines, or a problem code. Works on bytes: no string per line.
 */
function parseLine(b: Buffer, s: number, e: number, rec: { kind: number; addr: number; size: number }): number {
  while (e > s && (b[e - 1] === CR || b[e - 1] === SP || b[e - 1] === TAB)) e--;
  if (e === s) return SKIP;
  const c0 = b[s]!;
  // ==PID== commentary, --PID-- / **PID** warnings.
  if ((c0 === 0x3d || c0 === 0x2d || c0 === 0x2a) && e - s >= 2 && b[s + 1] === c0) return SKIP;
  let i = s;
  while (i < e && (b[i] === SP || b[i] === TAB)) i++;
  const kind = b[i]!;
  if (kind === 0x53 && i + 2 < e && b[i + 1] === 0x42 && (b[i + 2] === SP || b[i + 2] === TAB)) return SKIP; // "SB addr"
  if (kind !== 0x49 && kind !== 0x4c && kind !== 0x53 && kind !== 0x4d) return MALFORMED;
  i++;
  if (!(i < e && (b[i] === SP || b[i] === TAB))) return MALFORMED;
  while (i < e && (b[i] === SP || b[i] === TAB)) i++;
  let addr = 0, digits = 0;
  for (; i < e; i++, digits++) {
    const h = hexValue(b[i]!);
    if (h < 0) break;
    addr = addr * 16 + h;
  }
  if (digits === 0 || digits > 16 || i >= e || b[i] !== COMMA) return MALFORMED;
  i++;
  let size = 0, sizeDigits = 0;
  for (; i < e; i++, sizeDigits++) {
    const d = b[i]! - 0x30;
    if (d < 0 || d > 9) break;
    size = size * 10 + d;
  }
  if (sizeDigits === 0 || sizeDigits > 9 || i !== e) return MALFORMED;
  rec.kind = kind; rec.addr = addr; rec.size = size;
  if (size === 0) return ZERO_SIZE;
  if (addr + size > MAX_ADDR) return ADDR_TOO_BIG;
  return RECORD;
}

function hexValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  const l = c | 0x20;
  if (l >= 0x61 && l <= 0x66) return l - 0x61 + 10;
  return -1;
}

function lineProblem(status: number, b: Buffer, s: number, e: number, rec: { addr: number; size: number }): string {
  if (status === ZERO_SIZE) return 'access size 0; expected a size of at least 1 byte';
  const text = b.toString('latin1', s, Math.min(e, s + 80)).replace(/\r$/, '');
  if (status === ADDR_TOO_BIG) return `access at ${text.trim().split(/\s+/)[1]?.split(',')[0] ?? '?'} (+${rec.size} bytes) does not fit below 2^53, the largest address an armsim trace holds exactly`;
  return `${EXPECTED}, got ${JSON.stringify(text + (e - s > 80 ? '...' : ''))}`;
}
