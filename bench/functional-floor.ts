/**
 * A yardstick for the cache benchmarks, not part of the simulator: the least work a replay of a
 * trace through caches that carry data can do in typed-array JavaScript on this machine. Same
 * trace file and the same geometry as the model's L1I, L1D, L2 and L3; LRU everywhere,
 * write-back and write-allocate, a fill goes into every level on the way up, a dirty victim is
 * written to the next level (the last level's to memory), and the bytes move: lines are copied
 * between levels and a sparse memory of 1 MiB chunks as the model copies them. An access that
 * crosses a line is one access to each line it touches (as in the model and in cachegrind); a
 * store's value goes into its first line.
 *
 * Left out, and what the model spends the rest of its time on: timing of every kind (ports,
 * MSHRs, write-back buffers, the home node, DRAM scheduling, events), the PE's window and request
 * table, coherence (snoop filter, MOESI states), and maintenance, atomics and monitors.
 *
 * The issue that sets the cache targets quotes such a floor for a real program (~37M accesses/s
 * against a target of 8M for the model); the cache replay benches report this one beside their
 * own figure, so that each target can be read against what the machine does at best.
 */
import { OpCode, TraceReader } from '../src/core/index.js';

export interface FloorGeometry {
  sizeBytes: number;
  ways: number;
}

export interface FloorLevels {
  l1i: FloorGeometry;
  l1d: FloorGeometry;
  /** The shared levels below the L1s, nearest first. */
  below: FloorGeometry[];
  lineBytes: number;
}

export interface FloorResult {
  ops: number;
  ms: number;
  /** Misses per level: l1i, l1d, then `below` in order. */
  misses: number[];
  /** Dirty lines written to memory. */
  memoryWrites: number;
  /** XOR of the words the loads and fetches read (what a check of the moved bytes compares). */
  readXor: number;
}

/**
 * One level: tags (line numbers, -1 free), LRU stamps (an access count: up to 2^31 accesses per
 * level), dirty bits and data words per slot.
 */
class FloorLevel {
  readonly ways: number;
  readonly setMask: number;
  readonly tags: Int32Array;
  readonly stamps: Int32Array;
  readonly dirty: Uint8Array;
  readonly data: Int32Array;
  clock = 0;
  misses = 0;

  constructor(g: FloorGeometry, readonly words: number) {
    const sets = g.sizeBytes / (g.ways * words * 4);
    if (!Number.isInteger(Math.log2(sets))) throw new Error(`functional floor: ${g.sizeBytes} bytes in ${g.ways} ways is not a power-of-two number of sets`);
    this.setMask = sets - 1;
    this.ways = g.ways;
    this.tags = new Int32Array(sets * g.ways).fill(-1);
    this.stamps = new Int32Array(sets * g.ways);
    this.dirty = new Uint8Array(sets * g.ways);
    this.data = new Int32Array(sets * g.ways * words);
  }

  lookup(line: number): number {
    const b = (line & this.setMask) * this.ways, t = this.tags;
    for (let w = 0; w < this.ways; w++) if (t[b + w] === line) return b + w;
    return -1;
  }

  /** The least recently used slot of line's set. */
  victim(line: number): number {
    const b = (line & this.setMask) * this.ways, s = this.stamps;
    let v = b;
    for (let w = 1; w < this.ways; w++) if (s[b + w]! < s[v]!) v = b + w;
    return v;
  }
}

const CHUNK_LINES_LOG2 = 14;          // 1 MiB chunks of 64-byte lines, as the model's sparse memory

/** Memory as chunks made on first touch, with the last chunk used remembered. */
class FloorMemory {
  private readonly chunks = new Map<number, Int32Array>();
  private lastKey = -1;
  private last: Int32Array = new Int32Array(0);

  constructor(private readonly words: number) {}

  /** The chunk holding `line`; its words start at (line & (2^CHUNK_LINES_LOG2 - 1)) * words. */
  chunk(line: number): Int32Array {
    const key = line >>> CHUNK_LINES_LOG2;
    if (key === this.lastKey) return this.last;
    let c = this.chunks.get(key);
    if (c === undefined) { c = new Int32Array(this.words << CHUNK_LINES_LOG2); this.chunks.set(key, c); }
    this.lastKey = key;
    this.last = c;
    return c;
  }
}

function copyWords(dst: Int32Array, dstAt: number, src: Int32Array, srcAt: number, n: number): void {
  for (let i = 0; i < n; i++) dst[dstAt + i] = src[srcAt + i]!;
}

/**
 * Replays the loads, stores and fetches of agent 0 of the trace at `path`. Addresses are taken
 * modulo `foldBytes` (a power of two; `armsim replay` folds virtual traces into DRAM the same
 * way) or, without it, relative to the trace's first address; either way lines must number
 * below 2^31. A store writes its low word. Reading the chunks from the file is timed, as in a
 * replay.
 */
export function functionalFloor(path: string, geometry: FloorLevels, foldBytes?: number): FloorResult {
  const { lineBytes } = geometry;
  if (lineBytes % 4 !== 0) throw new Error(`functional floor: lineBytes ${lineBytes} is not whole words`);
  if (foldBytes !== undefined && !Number.isInteger(Math.log2(foldBytes))) throw new Error(`functional floor: fold ${foldBytes} is not a power of two`);
  const words = lineBytes / 4;
  const isAccess = (op: number): boolean => op === OpCode.Load || op === OpCode.Store || op === OpCode.Fetch;
  let origin = 0;
  if (foldBytes === undefined) {
    // Not timed: the first address, which becomes byte 0.
    origin = Infinity;
    const scan = TraceReader.open(path);
    try {
      const cur = scan.cursor(0);
      for (let c = cur.next(); c !== null; c = cur.next()) for (let i = 0; i < c.length; i++) if (isAccess(c.op[i]!) && c.addr[i]! < origin) origin = c.addr[i]!;
    } finally { scan.close(); }
    origin = Math.floor(origin / lineBytes) * lineBytes;
  }
  const fold = foldBytes ?? 2 ** 53;

  const l1i = new FloorLevel(geometry.l1i, words), l1d = new FloorLevel(geometry.l1d, words);
  const below = geometry.below.map((g) => new FloorLevel(g, words));
  const memory = new FloorMemory(words);
  const chunkMask = (1 << CHUNK_LINES_LOG2) - 1;
  const line = new Int32Array(words), victim = new Int32Array(words);
  let memoryWrites = 0;

  /** Writes the dirty line in `victim` to below[k] (memory past the last); may evict in turn. */
  const writeBack = (k: number, tag: number): void => {
    if (k === below.length) { copyWords(memory.chunk(tag), (tag & chunkMask) * words, victim, 0, words); memoryWrites++; return; }
    const l = below[k]!;
    let s = l.lookup(tag);
    if (s < 0) {
      s = l.victim(tag);
      if (l.tags[s]! >= 0 && l.dirty[s] === 1) {
        const keep = victim.slice();            // a victim's own dirty victim: rare next to the copies
        copyWords(victim, 0, l.data, s * words, words);
        writeBack(k + 1, l.tags[s]!);
        victim.set(keep);
      }
      l.tags[s] = tag;
    }
    copyWords(l.data, s * words, victim, 0, words);
    l.dirty[s] = 1;
    l.stamps[s] = ++l.clock;
  };

  /** Installs `tag` (its bytes in `line`) in `l`, whose dirty victim goes to below[next]; returns the slot. */
  const install = (l: FloorLevel, next: number, tag: number): number => {
    const s = l.victim(tag);
    if (l.tags[s]! >= 0 && l.dirty[s] === 1) {
      copyWords(victim, 0, l.data, s * words, words);
      writeBack(next, l.tags[s]!);
    }
    l.tags[s] = tag;
    l.dirty[s] = 0;
    l.stamps[s] = ++l.clock;
    copyWords(l.data, s * words, line, 0, words);
    return s;
  };

  /** The slot of `tag` in `top` (an L1), filled from the first level below that has it. */
  const obtain = (top: FloorLevel, tag: number): number => {
    const s = top.lookup(tag);
    if (s >= 0) return s;
    top.misses++;
    let k = 0;
    for (; k < below.length; k++) {
      const l = below[k]!, sk = l.lookup(tag);
      if (sk >= 0) { copyWords(line, 0, l.data, sk * words, words); l.stamps[sk] = ++l.clock; break; }
      l.misses++;
    }
    if (k === below.length) copyWords(line, 0, memory.chunk(tag), (tag & chunkMask) * words, words);
    for (let j = k - 1; j >= 0; j--) install(below[j]!, j + 1, tag);
    return install(top, 0, tag);
  };

  let ops = 0, readXor = 0;
  const reader = TraceReader.open(path);
  const t0 = performance.now();
  try {
    const cur = reader.cursor(0);
    for (let c = cur.next(); c !== null; c = cur.next()) {
      for (let i = 0; i < c.length; i++) {
        const op = c.op[i]!;
        if (!isAccess(op)) continue;
        const a = c.addr[i]! - origin, at = a - Math.floor(a / fold) * fold;
        const tag = Math.floor(at / lineBytes), word = ((at - tag * lineBytes) / 4) | 0;
        if (tag >= 2 ** 31) throw new Error(`functional floor: line ${tag} is past 2^31 (fold the trace)`);
        ops++;
        const top = op === OpCode.Fetch ? l1i : l1d;
        const s = obtain(top, tag);
        top.stamps[s] = ++top.clock;
        if (op === OpCode.Store) { l1d.data[s * words + word] = c.valueLo[i]!; l1d.dirty[s] = 1; } else readXor ^= top.data[s * words + word]!;
        if (at - tag * lineBytes + c.size[i]! > lineBytes) {
          // The rest of the access, in the next line (its bytes are not compared).
          const s2 = obtain(top, tag + 1);
          top.stamps[s2] = ++top.clock;
          if (op === OpCode.Store) top.dirty[s2] = 1;
        }
      }
    }
  } finally { reader.close(); }
  const ms = performance.now() - t0;
  return { ops, ms, misses: [l1i.misses, l1d.misses, ...below.map((l) => l.misses)], memoryWrites, readXor };
}
