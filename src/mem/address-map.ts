import { UserError } from '../sim/index.js';
import { SparseMemory } from './sparse-memory.js';
import type { PhysicalStore } from './store.js';

export type RegionKind = 'dram' | 'device' | 'cacheable-device';

/**
 * How an atomic on the region behaves when the access is non-cacheable (Normal-NC or Device):
 * performed at the home node or memory controller (`far`), an external abort (`abort`), or not
 * supported by the target (`unsupported`: what the requester observes is the platform's choice).
 */
export type NcAtomics = 'far' | 'abort' | 'unsupported';

export interface RegionProps {
  name: string;
  kind: RegionKind;
  base: number;
  size: number;
  /** Has MTE tag storage. */
  mteTags: boolean;
  ncAtomics: NcAtomics;
  /** A global exclusive monitor covers the region. */
  globalMonitor: boolean;
  /** Without a global monitor, a non-cacheable store-exclusive fails (always) or aborts. */
  exclusivesWithoutMonitor?: 'fail' | 'abort';
  /** In the host kernel's linear map (has struct pages). */
  linearMap: boolean;
  /** Device regions: access latency in core cycles (ignored for dram). */
  latency: number;
  /**
   * Where DC CVAP must take a line of the region (its point of persistence, Arm ARM "DC CVAP"):
   * `poc`, the default, where the PoC is also the point of persistence; `memory` for persistent
   * memory whose persistence domain is the memory device itself, so a system cache at the PoC is
   * cleaned too and the operation completes when memory has the data.
   */
  pointOfPersistence?: 'poc' | 'memory';
}

export interface Region extends Readonly<RegionProps> {
  /** Position in the list given to the constructor. */
  readonly index: number;
  /** The region's contents. */
  readonly store: SparseMemory;
}

/** Regions are placed at 4 KiB granularity, the smallest translation granule. */
const REGION_ALIGN = 4096;
/** 52-bit physical addresses (FEAT_LPA / FEAT_LPA2). */
const PA_LIMIT = 2 ** 52;

const KINDS: readonly string[] = ['dram', 'device', 'cacheable-device'];
const NC_ATOMICS: readonly string[] = ['far', 'abort', 'unsupported'];

/** `0x8000_0000`: hex with a separator every four digits. */
function hexAddr(n: number): string {
  const h = n.toString(16);
  let out = '';
  for (let i = h.length; i > 0; i -= 4) out = h.slice(Math.max(0, i - 4), i) + (out === '' ? '' : '_' + out);
  return '0x' + out;
}

/**
 * The physical address map: named, non-overlapping regions with their properties, each backed by
 * a SparseMemory. `find` decodes an address to a region index; -1 means nothing decodes it, which
 * the caller turns into an external abort.
 *
 * Contract: built once from validated config and never changed. `find` and `store` allocate
 * nothing per call. An access through `store` that no single region holds is a caller bug
 * (RangeError): requests must be decoded with `find` first.
 */
export class AddressMap {
  readonly regions: readonly Region[];
  /** Dispatches each access to the SparseMemory of the region that holds it. */
  readonly store: PhysicalStore;
  // Sorted by base, for the binary search: bases, ends, and the region index of each.
  private readonly sortedBase: Float64Array;
  private readonly sortedEnd: Float64Array;
  private readonly sortedIndex: Int32Array;
  // By region index.
  private readonly baseOf: Float64Array;
  private readonly endOf: Float64Array;
  private readonly storeOf: readonly SparseMemory[];
  private lastHit = -1;

  constructor(regions: readonly RegionProps[]) {
    const names = new Set<string>();
    for (const r of regions) {
      validate(r);
      if (names.has(r.name)) throw new UserError(`memory map: two regions are named '${r.name}'`);
      names.add(r.name);
    }
    const order = regions.map((_, i) => i).sort((a, b) => regions[a]!.base - regions[b]!.base);
    for (let k = 1; k < order.length; k++) {
      const a = regions[order[k - 1]!]!, b = regions[order[k]!]!;
      if (b.base < a.base + a.size) throw new UserError(`memory map: regions '${a.name}' ${span(a)} and '${b.name}' ${span(b)} overlap`);
    }
    this.regions = Object.freeze(regions.map((r, index) => Object.freeze({
      name: r.name, kind: r.kind, base: r.base, size: r.size, mteTags: r.mteTags, ncAtomics: r.ncAtomics,
      globalMonitor: r.globalMonitor, exclusivesWithoutMonitor: r.exclusivesWithoutMonitor ?? 'fail', linearMap: r.linearMap, latency: r.latency,
      pointOfPersistence: r.pointOfPersistence ?? 'poc',
      index, store: new SparseMemory({ base: r.base, size: r.size }),
    })));
    const n = regions.length;
    this.sortedBase = new Float64Array(n); this.sortedEnd = new Float64Array(n); this.sortedIndex = new Int32Array(n);
    this.baseOf = new Float64Array(n); this.endOf = new Float64Array(n);
    order.forEach((i, k) => {
      const r = regions[i]!;
      this.sortedBase[k] = r.base; this.sortedEnd[k] = r.base + r.size; this.sortedIndex[k] = i;
      this.baseOf[i] = r.base; this.endOf[i] = r.base + r.size;
    });
    this.storeOf = this.regions.map((r) => r.store);
    this.store = new AddressMapStore(this, this.storeOf);
  }

  /** Index of the region holding all of [pa, pa+len), or -1 if none does. */
  find(pa: number, len = 1): number {
    const end = pa + (len > 0 ? len : 1);
    const last = this.lastHit;
    if (last >= 0 && pa >= this.baseOf[last]! && end <= this.endOf[last]!) return last;
    return this.search(pa, end);
  }

  /** find() past its last-hit check: a binary search (kept out of find() so that callers inline find). */
  private search(pa: number, end: number): number {
    // The last region whose base is <= pa.
    const bases = this.sortedBase;
    let lo = 0, hi = bases.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;   // indices, not addresses
      if (bases[mid]! <= pa) lo = mid + 1; else hi = mid;
    }
    if (lo === 0) return -1;
    if (!(end <= this.sortedEnd[lo - 1]!)) return -1;
    const i = this.sortedIndex[lo - 1]!;
    this.lastHit = i;
    return i;
  }

  region(i: number): Region {
    const r = this.regions[i];
    if (r === undefined) throw new RangeError(`no region ${i} (the map has ${this.regions.length})`);
    return r;
  }
}

class AddressMapStore implements PhysicalStore {
  // The region accessed last: most accesses go to it again, and then need no lookup.
  private last: SparseMemory | undefined;
  private lastBase = 0;
  private lastEnd = 0;

  constructor(private readonly map: AddressMap, private readonly stores: readonly SparseMemory[]) {}

  read(pa: number, dst: Uint8Array, dstOff: number, len: number): void {
    const s = this.last;
    if (s !== undefined && pa >= this.lastBase && pa + (len > 0 ? len : 1) <= this.lastEnd) { s.read(pa, dst, dstOff, len); return; }
    this.storeOf(pa, len, 'read').read(pa, dst, dstOff, len);
  }

  write(pa: number, src: Uint8Array, srcOff: number, len: number): void {
    const s = this.last;
    if (s !== undefined && pa >= this.lastBase && pa + (len > 0 ? len : 1) <= this.lastEnd) { s.write(pa, src, srcOff, len); return; }
    this.storeOf(pa, len, 'write').write(pa, src, srcOff, len);
  }

  private storeOf(pa: number, len: number, what: string): SparseMemory {
    const s = this.stores[this.regionOf(pa, len, what)]!;
    this.last = s; this.lastBase = s.base; this.lastEnd = s.base + s.size;
    return s;
  }

  private regionOf(pa: number, len: number, what: string): number {
    const i = this.map.find(pa, len);
    if (i < 0) throw new RangeError(`address map: ${what} of ${len} bytes at ${hexAddr(pa)} is not inside one region`);
    return i;
  }
}

function span(r: RegionProps): string {
  return `[${hexAddr(r.base)}, ${hexAddr(r.base + r.size)})`;
}

function validate(r: RegionProps): void {
  const at = `memory map: region '${r.name}'`;
  if (typeof r.name !== 'string' || r.name === '') throw new UserError(`memory map: a region has no name`);
  if (!KINDS.includes(r.kind)) throw new UserError(`${at}: kind must be one of ${KINDS.join(', ')} (got '${String(r.kind)}')`);
  if (!NC_ATOMICS.includes(r.ncAtomics)) throw new UserError(`${at}: ncAtomics must be one of ${NC_ATOMICS.join(', ')} (got '${String(r.ncAtomics)}')`);
  if (r.pointOfPersistence !== undefined && r.pointOfPersistence !== 'poc' && r.pointOfPersistence !== 'memory') {
    throw new UserError(`${at}: pointOfPersistence must be one of poc, memory (got '${String(r.pointOfPersistence)}')`);
  }
  if (!Number.isSafeInteger(r.base) || r.base < 0) throw new UserError(`${at}: base must be a non-negative integer (got ${r.base})`);
  if (!Number.isSafeInteger(r.size) || r.size < 0) throw new UserError(`${at}: size must be a non-negative integer (got ${r.size})`);
  if (r.size === 0) throw new UserError(`${at}: size must not be zero`);
  if (r.base % REGION_ALIGN !== 0) throw new UserError(`${at}: base ${hexAddr(r.base)} is not a multiple of 4 KiB`);
  if (r.size % REGION_ALIGN !== 0) throw new UserError(`${at}: size ${hexAddr(r.size)} is not a multiple of 4 KiB`);
  if (r.base + r.size > PA_LIMIT) throw new UserError(`${at}: ${span(r)} ends beyond the 52-bit physical address space (${hexAddr(PA_LIMIT)})`);
  if (!Number.isSafeInteger(r.latency) || r.latency < 0) throw new UserError(`${at}: latency must be a non-negative integer number of cycles (got ${r.latency})`);
}
