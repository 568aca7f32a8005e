import { Histogram, ReqKind, ReqStatus, UserError, mod } from '../sim/index.js';
import type { EventQueue, Link, RequestTable, ResponsePort, StatsRegistry } from '../sim/index.js';
import type { PhysicalStore } from './store.js';

/** Address mappings: fields from most to least significant, above the burst offset. */
export const DRAM_MAPPINGS = ['RoRaBaBgCoCh', 'RoRaBaCoBgCh', 'ChRoRaBaBgCo'] as const;
export type DramMapping = (typeof DRAM_MAPPINGS)[number];

/**
 * One memory system of identical channels. Timings are in DRAM clocks (nCK); the controller turns
 * them into core cycles with `clockRatio`.
 */
export interface DramConfig {
  channels: number;
  ranks: number;
  bankGroups: number;
  banksPerGroup: number;
  /** Bytes of one open row of a rank (across its devices). */
  rowBytes: number;
  /** Data bus width in bytes (8 for a 64-bit channel). */
  busBytes: number;
  /** Beats per burst; one burst moves busBytes * burstLength bytes. */
  burstLength: number;
  /** Core cycles per DRAM clock (tCK); integer >= 1. */
  clockRatio: number;
  tCL: number; tCWL: number; tRCD: number; tRP: number; tRAS: number;
  tRRD_S: number; tRRD_L: number; tFAW: number; tCCD_S: number; tCCD_L: number;
  tWR: number; tWTR_S: number; tWTR_L: number; tRTP: number; tRFC: number; tREFI: number;
  refresh: boolean;
  /** Request queue entries per channel. */
  queueDepth: number;
  scheduler: 'fr-fcfs' | 'fcfs';
  pagePolicy: 'open' | 'closed';
  /** Address bits from most to least significant, above the burst offset. */
  mapping: DramMapping;
  /** Core cycles: controller front end, added once per request (before the queue). */
  frontendLatency: number;
  /** Core cycles: PHY / return path, added once per request (after the data burst). */
  backendLatency: number;
  /**
   * Rows per bank. Only 'ChRoRaBaBgCo' needs it (the channel sits above the row); default
   * DEFAULT_ROWS_PER_BANK.
   */
  rows?: number;
}

/**
 * 64K rows per bank: JEDEC JESD79-4B, 8Gb x8 addressing (row address A0-A15);
 * DRAMSim3 configs/DDR4_8Gb_x8_3200.ini `rows = 65536`.
 */
export const DEFAULT_ROWS_PER_BANK = 65536;

/** Where an address lands. */
export interface DramCoord { channel: number; rank: number; bankGroup: number; bank: number; row: number; column: number }

const INT_FIELDS_MIN1 = ['channels', 'ranks', 'bankGroups', 'banksPerGroup', 'rowBytes', 'busBytes', 'burstLength', 'clockRatio', 'queueDepth'] as const;
const TIMING_FIELDS = ['tCL', 'tCWL', 'tRCD', 'tRP', 'tRAS', 'tRRD_S', 'tRRD_L', 'tFAW', 'tCCD_S', 'tCCD_L', 'tWR', 'tWTR_S', 'tWTR_L', 'tRTP', 'tRFC', 'tREFI'] as const;
const CONFIG_KEYS: ReadonlySet<string> = new Set<string>([
  ...INT_FIELDS_MIN1, ...TIMING_FIELDS, 'refresh', 'scheduler', 'pagePolicy', 'mapping', 'frontendLatency', 'backendLatency', 'rows',
]);

/** Throws a one-line UserError naming the first bad field of `cfg` (path is its dotted prefix). */
export function checkDramConfig(cfg: DramConfig, path = 'dram'): void {
  const raw = cfg as unknown as Record<string, unknown>;
  for (const k of Object.keys(raw)) if (!CONFIG_KEYS.has(k)) throw new UserError(`${path}.${k}: unknown key; accepted: ${[...CONFIG_KEYS].join(', ')}`);
  const int = (k: string, min: number): void => {
    const v = raw[k];
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min) throw new UserError(`${path}.${k}: must be an integer >= ${min} (got ${String(v)})`);
  };
  for (const k of INT_FIELDS_MIN1) int(k, 1);
  for (const k of TIMING_FIELDS) int(k, 1);
  int('frontendLatency', 0); int('backendLatency', 0);
  if (cfg.rows !== undefined) int('rows', 1);
  const oneOf = (k: string, values: readonly string[]): void => {
    if (!values.includes(raw[k] as string)) throw new UserError(`${path}.${k}: must be one of ${values.join(', ')} (got ${String(raw[k])})`);
  };
  oneOf('scheduler', ['fr-fcfs', 'fcfs']);
  oneOf('pagePolicy', ['open', 'closed']);
  oneOf('mapping', DRAM_MAPPINGS);
  if (typeof cfg.refresh !== 'boolean') throw new UserError(`${path}.refresh: must be true or false (got ${String(raw['refresh'])})`);
  if (cfg.burstLength % 2 !== 0) throw new UserError(`${path}.burstLength: must be even (DDR moves two beats per clock; got ${cfg.burstLength})`);
  const burstBytes = cfg.busBytes * cfg.burstLength;
  if (cfg.rowBytes % burstBytes !== 0) throw new UserError(`${path}.rowBytes: must be a multiple of busBytes*burstLength = ${burstBytes} (got ${cfg.rowBytes})`);
  if (cfg.refresh && cfg.tREFI <= cfg.tRFC) throw new UserError(`${path}.tREFI: must exceed tRFC = ${cfg.tRFC} when refresh is on (got ${cfg.tREFI})`);
}

/** `base` with `overrides` applied, checked and frozen. Unknown override keys are errors. */
export function makeDramConfig(base: Readonly<DramConfig>, overrides: Readonly<Record<string, unknown>> = {}, path = 'dram'): Readonly<DramConfig> {
  for (const k of Object.keys(overrides)) if (!CONFIG_KEYS.has(k)) throw new UserError(`${path}.${k}: unknown key; accepted: ${[...CONFIG_KEYS].join(', ')}`);
  const cfg = { ...base, ...overrides } as DramConfig;
  checkDramConfig(cfg, path);
  return Object.freeze(cfg);
}

// Field kinds of an address mapping.
const F_CH = 0, F_RA = 1, F_BG = 2, F_BA = 3, F_CO = 4, F_RO = 5;
const FIELD_OF: Readonly<Record<string, number>> = { Ch: F_CH, Ra: F_RA, Bg: F_BG, Ba: F_BA, Co: F_CO, Ro: F_RO };

/**
 * The address layout: field kinds from least to most significant and their radices. The most
 * significant field takes what is left: an unbounded row for the Ro-first mappings, the channel
 * modulo `channels` for 'ChRoRaBaBgCo' (addresses past the modelled capacity wrap).
 */
interface Layout { kinds: Int8Array; radix: Float64Array; burstBytes: number }

function layoutOf(cfg: DramConfig): Layout {
  const names = cfg.mapping.match(/[A-Z][a-z]/g) ?? [];
  const kinds = new Int8Array(6), radix = new Float64Array(6);
  const sizeOf = [cfg.channels, cfg.ranks, cfg.bankGroups, cfg.banksPerGroup, cfg.rowBytes / (cfg.busBytes * cfg.burstLength), cfg.rows ?? DEFAULT_ROWS_PER_BANK];
  for (let i = 0; i < 6; i++) {
    const k = FIELD_OF[names[5 - i]!]!;
    kinds[i] = k;
    radix[i] = sizeOf[k]!;
  }
  if (kinds[5] === F_RO) radix[5] = Infinity;
  return { kinds, radix, burstBytes: cfg.busBytes * cfg.burstLength };
}

/** Where `addr` lands under `cfg.mapping` (for tests, tools and debugging; allocates). */
export function decodeDramAddress(cfg: DramConfig, addr: number): DramCoord {
  const { kinds, radix, burstBytes } = layoutOf(cfg);
  const v = [0, 0, 0, 0, 0, 0];
  let rest = Math.floor(addr / burstBytes);
  for (let i = 0; i < 6; i++) {
    const r = radix[i]!;
    v[kinds[i]!] = r === Infinity ? rest : rest % r;
    rest = r === Infinity ? 0 : Math.floor(rest / r);
  }
  return { channel: v[F_CH]!, rank: v[F_RA]!, bankGroup: v[F_BG]!, bank: v[F_BA]!, row: v[F_RO]!, column: v[F_CO]! };
}

/** The burst-aligned address of `c` under `cfg.mapping`: the inverse of decodeDramAddress. */
export function encodeDramAddress(cfg: DramConfig, c: Readonly<DramCoord>): number {
  const { kinds, radix, burstBytes } = layoutOf(cfg);
  const v = [c.channel, c.rank, c.bankGroup, c.bank, c.column, c.row];
  let a = 0;
  for (let i = 5; i >= 0; i--) {
    const r = radix[i]!;
    const x = v[kinds[i]!]!;
    if (!Number.isInteger(x) || x < 0 || x >= r) throw new RangeError(`DRAM coordinate out of range: ${JSON.stringify(c)}`);
    a = (r === Infinity ? 0 : a * r) + x;
  }
  return a * burstBytes;
}

class DramStats {
  reads = 0; writes = 0; bytesRead = 0; bytesWritten = 0;
  rowHits = 0; rowMisses = 0; rowConflicts = 0;
  activates = 0; precharges = 0;
  starvationPicks = 0;
}
class ChannelStats { busBusyCycles = 0; bursts = 0 }

// DRAM clocks not in DramConfig. Both are gem5's DRAMInterface.py defaults for its DDR3/DDR4
// presets: "Default same rank rd-to-wr bus turnaround to 2 CK" (tRTW) and "Default different rank
// bus delay to 2 CK" (tCS). tRTW here is the gap between read data and write data on the bus, the
// JEDEC read-to-write spacing RL + BL/2 - WL + 2 nCK seen from the data bus.
export const T_RTW_NCK = 2;
export const T_CS_NCK = 2;
/**
 * FR-FCFS starvation bound: once the oldest request of a channel has been passed over this many
 * times, it goes next. Assumed, in the spirit of Ramulator's FRFCFS_Cap (at most 16 row hits pass
 * an older request) and gem5's min_writes_per_switch = 16. It also bounds how long reads and writes
 * are batched. Probed on a sequential stream with 25% writes: 16 cost ~6% of peak bandwidth against
 * no bound, 32 ~3%. Counting decisions, not cycles, keeps it from firing merely because a loaded
 * queue is long (a cycle bound collapsed 8-channel random traffic to FCFS).
 */
export const BYPASS_CAP = 32;

const NEVER = -1e15;             // "long ago": every constraint measured from it is already met
const HIT = 0, MISS = 1, CONFLICT = 2;

/**
 * A transaction-level DRAM controller in the manner of gem5's MemCtrl + DRAMInterface: per channel
 * a queue, a scheduler that commits one request at a time, and per-bank / per-rank / per-channel
 * "earliest allowed" times from which each request's PRE, ACT and column command and its data burst
 * are computed when it is scheduled. Commands are not simulated one by one.
 *
 * Contract:
 * - Requests arrive on `inLink` (credits = `inCredits` = channels * queueDepth). Each request holds
 *   its credit through the front end and the queue; the credit comes back (`inLink.release()`) when
 *   the scheduler takes the request out of its channel queue. Each channel's queue can hold every
 *   credit, so it cannot overflow; more requests in the controller than credits is a wiring bug and
 *   throws.
 * - A request moves 1..burstBytes bytes within one burst-aligned block (the requester splits).
 * - Data moves between the store and the request's slice when its burst ends on the bus, in bus
 *   order, which per channel is also the order of scheduling; same-address requests are never
 *   reordered when one of them is a write.
 * - The response leaves on `respLink` (which must never refuse) `backendLatency` cycles later, with
 *   status Ok and doneAt set.
 *
 * Scheduling (per channel). 'fcfs' takes the oldest request. 'fr-fcfs' ("first ready, first come
 * first served", Rixner et al., ISCA 2000) takes, in order of preference:
 *   0. the oldest request, once BYPASS_CAP decisions have passed it over;
 *   1. the oldest row hit that is ready: its burst can follow the previous one on the bus back to
 *      back, held back neither by its bank (tCCD_L, tWTR_L) nor by a turnaround (tWTR_S,
 *      read-to-write, rank switch);
 *   2. the oldest request that is ready in the same sense once its PRE/ACT are counted;
 *   3. the request whose column command can issue soonest, the oldest on ties (gem5's minBankPrep
 *      plays this part).
 * Tiers 2 and 3 pass over row conflicts on banks whose open row still has queued hits, so a hit
 * only waiting for tCCD_L does not lose its row to an older conflict (a pointless PRE/ACT pair).
 * Tier 2 is what gives random traffic its bank parallelism: with plain "else the oldest", every
 * request to a bank still inside tRC would stall the channel's in-order data bus. Counting
 * turnarounds as "not ready" makes reads and writes run in batches, as write draining does in real
 * controllers (a sequential stream with 25% writes: ~90% of peak, against ~41% for FCFS).
 * Same-address requests are never reordered when either is a write.
 * The decision for the next request runs tRP + tRCD + tCL clocks before the data bus frees (gem5's
 * `nextReqTime = nextBurstAt - (tRP + tRCD)`), so a row conflict decided then still meets the bus,
 * and ACTs to other banks overlap the data transfer in progress. Once decided, a request's commands
 * are fixed: a later arrival cannot use a bus slot before them.
 *
 * Refresh is all-bank, per rank, staggered across ranks, and applied lazily: when a decision or a
 * command reaches a rank's due time the rank precharges its open banks (as soon as tRAS, tRTP and
 * tWR allow) and is busy for tRFC. An idle controller therefore schedules no events.
 *
 * Leaves out: command-bus conflicts (one command per clock), power-down, per-bank and
 * fine-granularity refresh, deliberate refresh postponement, separate read and write queues with
 * watermarks (one queue; batching comes from the readiness rule above), posted-write early
 * responses (a write responds when its burst is done), ECC.
 */
export class DramController {
  readonly name: string;
  readonly cfg: Readonly<DramConfig>;
  readonly reqHandler: number;
  /** Credits the builder gives inLink: every queue entry of every channel. */
  readonly inCredits: number;
  inLink: Link | undefined = undefined;
  respLink: ResponsePort | undefined = undefined;
  readonly stats = new DramStats();
  readonly channelStats: ChannelStats[] = [];
  readonly readLatency = new Histogram(2048);
  readonly writeLatency = new Histogram(2048);
  readonly queueDelay = new Histogram(2048);

  private readonly q: EventQueue;
  private readonly table: RequestTable;
  private readonly store: PhysicalStore;
  private readonly decideHandler: number;

  // Geometry and timings in core cycles.
  private readonly ratio: number;
  private readonly kinds: Int8Array;
  private readonly radix: Float64Array;
  /** 1/radix where radix is a power of two (exact), else 0. */
  private readonly invRadix: Float64Array;
  private readonly invBurstBytes: number;
  private readonly invRatio: number;
  private readonly burstBytes: number;
  private readonly banksPerRank: number;
  private readonly tBurst: number;
  private readonly tCL: number; private readonly tCWL: number; private readonly tRCD: number; private readonly tRP: number;
  private readonly tRAS: number; private readonly tRRD_S: number; private readonly tRRD_L: number; private readonly tFAW: number;
  private readonly tCCD_S: number; private readonly tCCD_L: number; private readonly tWR: number; private readonly tWTR_S: number;
  private readonly tWTR_L: number; private readonly tRTP: number; private readonly tRFC: number; private readonly tREFI: number;
  private readonly tRTW: number; private readonly tCS: number;
  private readonly decisionLead: number;
  private readonly isFrFcfs: boolean;
  private readonly isClosedPage: boolean;

  // Per request (indexed by request id).
  private readonly rCh: Int32Array;
  private readonly rRank: Int32Array;     // global rank: ch * ranks + rank
  private readonly rBg: Int32Array;       // global bank group: rank * bankGroups + bg
  private readonly rBank: Int32Array;     // global bank: rank * banksPerRank + bg * banksPerGroup + bank
  private readonly rRow: Float64Array;
  private readonly rBlock: Float64Array;  // address / burstBytes: same-address ordering
  private readonly rHazard: Uint8Array;   // 1: an older same-block request (one a write) was queued at enqueue
  private readonly rArrive: Float64Array;
  private readonly rEnqueue: Float64Array;

  // Per channel.
  private readonly queue: Int32Array;     // channel c's queue: [c * queueCap, c * queueCap + qLen[c]), oldest first
  private readonly queueCap: number;
  private readonly qLen: Int32Array;
  private readonly busFreeAt: Float64Array;
  private readonly lastBusRank: Int32Array;
  private readonly lastBusWrite: Uint8Array;
  private readonly nextDecisionAt: Float64Array;
  private readonly decisionPending: Uint8Array;
  private readonly bypasses: Int32Array;         // decisions that passed over the current oldest request

  // Per rank.
  private readonly rankLastAct: Float64Array;
  private readonly rankLastCol: Float64Array;
  private readonly rankWriteEnd: Float64Array;   // end of the last write burst (tWTR_S)
  private readonly fawRing: Float64Array;        // last 4 ACT times
  private readonly fawNext: Int32Array;
  private readonly nextRefreshAt: Float64Array;
  private refreshesDone = 0;

  // Per bank group.
  private readonly bgLastAct: Float64Array;
  private readonly bgLastCol: Float64Array;
  private readonly bgWriteEnd: Float64Array;     // tWTR_L

  // Per bank.
  private readonly openRow: Float64Array;        // -1: closed
  private readonly actAllowedAt: Float64Array;
  private readonly preAllowedAt: Float64Array;
  private readonly colAllowedAt: Float64Array;

  private inController = 0;                      // requests between arrival and leaving a queue
  private readonly hitStamp: Int32Array;         // per bank: pick() call that saw a queued hit to its open row
  private pickStamp = 0;

  // Result of plan(): the command times of one request, in core cycles (-1: no such command).
  private pPre = -1; private pAct = -1; private pCol = 0; private pKind = HIT;
  private pSeamless = 0;                         // column time if the burst could follow the last one back to back

  constructor(opts: { name: string; q: EventQueue; table: RequestTable; store: PhysicalStore; cfg: DramConfig; stats: StatsRegistry; statsPath: string }) {
    const { name, q, table, store, cfg, stats, statsPath } = opts;
    checkDramConfig(cfg, 'dram');
    this.name = name; this.q = q; this.table = table; this.store = store;
    this.cfg = Object.freeze({ ...cfg });

    const r = cfg.clockRatio;
    this.ratio = r;
    this.invRatio = Number.isInteger(Math.log2(r)) ? 1 / r : 0;
    const lay = layoutOf(cfg);
    this.kinds = lay.kinds; this.radix = lay.radix; this.burstBytes = lay.burstBytes;
    const isPow2 = (x: number): boolean => Number.isInteger(Math.log2(x));
    this.invRadix = lay.radix.map((x) => (x !== Infinity && isPow2(x) ? 1 / x : 0));
    if (!isPow2(lay.burstBytes)) throw new UserError(`${name}: busBytes*burstLength must be a power of two (got ${lay.burstBytes})`);
    this.invBurstBytes = 1 / lay.burstBytes;
    this.banksPerRank = cfg.bankGroups * cfg.banksPerGroup;
    this.tBurst = (cfg.burstLength / 2) * r;
    this.tCL = cfg.tCL * r; this.tCWL = cfg.tCWL * r; this.tRCD = cfg.tRCD * r; this.tRP = cfg.tRP * r;
    this.tRAS = cfg.tRAS * r; this.tRRD_S = cfg.tRRD_S * r; this.tRRD_L = cfg.tRRD_L * r; this.tFAW = cfg.tFAW * r;
    this.tCCD_S = cfg.tCCD_S * r; this.tCCD_L = cfg.tCCD_L * r; this.tWR = cfg.tWR * r; this.tWTR_S = cfg.tWTR_S * r;
    this.tWTR_L = cfg.tWTR_L * r; this.tRTP = cfg.tRTP * r; this.tRFC = cfg.tRFC * r; this.tREFI = cfg.tREFI * r;
    this.tRTW = T_RTW_NCK * r; this.tCS = T_CS_NCK * r;
    this.decisionLead = this.tRP + this.tRCD + this.tCL;
    this.isFrFcfs = cfg.scheduler === 'fr-fcfs';
    this.isClosedPage = cfg.pagePolicy === 'closed';

    const cap = table.capacity;
    this.rCh = new Int32Array(cap); this.rRank = new Int32Array(cap); this.rBg = new Int32Array(cap); this.rBank = new Int32Array(cap);
    this.rRow = new Float64Array(cap); this.rBlock = new Float64Array(cap); this.rHazard = new Uint8Array(cap);
    this.rArrive = new Float64Array(cap); this.rEnqueue = new Float64Array(cap);

    const nCh = cfg.channels, nRank = nCh * cfg.ranks, nBg = nRank * cfg.bankGroups, nBank = nRank * this.banksPerRank;
    this.inCredits = nCh * cfg.queueDepth;
    this.queueCap = this.inCredits;
    this.queue = new Int32Array(nCh * this.queueCap);
    this.qLen = new Int32Array(nCh);
    this.busFreeAt = new Float64Array(nCh).fill(NEVER);
    this.lastBusRank = new Int32Array(nCh).fill(-1);
    this.lastBusWrite = new Uint8Array(nCh);
    this.nextDecisionAt = new Float64Array(nCh);
    this.decisionPending = new Uint8Array(nCh);
    this.bypasses = new Int32Array(nCh);

    this.rankLastAct = new Float64Array(nRank).fill(NEVER);
    this.rankLastCol = new Float64Array(nRank).fill(NEVER);
    this.rankWriteEnd = new Float64Array(nRank).fill(NEVER);
    this.fawRing = new Float64Array(nRank * 4).fill(NEVER);
    this.fawNext = new Int32Array(nRank);
    this.nextRefreshAt = new Float64Array(nRank);
    // Stagger the ranks of a channel evenly over tREFI (DRAMSim3's RANK_LEVEL_STAGGERED).
    for (let k = 0; k < nRank; k++) {
      const within = k % cfg.ranks;
      this.nextRefreshAt[k] = Math.floor(((within + 1) * cfg.tREFI) / cfg.ranks) * r;
    }
    this.bgLastAct = new Float64Array(nBg).fill(NEVER);
    this.bgLastCol = new Float64Array(nBg).fill(NEVER);
    this.bgWriteEnd = new Float64Array(nBg).fill(NEVER);
    this.openRow = new Float64Array(nBank).fill(-1);
    this.actAllowedAt = new Float64Array(nBank);
    this.preAllowedAt = new Float64Array(nBank);
    this.colAllowedAt = new Float64Array(nBank);
    this.hitStamp = new Int32Array(nBank);

    this.reqHandler = q.register(`${name}.request`, (id) => this.onRequest(id));
    this.decideHandler = q.register(`${name}.decide`, (ch) => this.decide(ch));

    const count = (desc: string) => ({ unit: 'count', desc });
    stats.add(statsPath, this.stats, {
      reads: count('read and fetch requests performed'),
      writes: count('write requests performed'),
      bytesRead: { unit: 'bytes', desc: 'bytes returned by reads (request sizes)' },
      bytesWritten: { unit: 'bytes', desc: 'bytes stored by writes (request sizes)' },
      rowHits: count('accesses to the row already open in their bank'),
      rowMisses: count('accesses to a closed bank (ACT only)'),
      rowConflicts: count('accesses to a bank with another row open (PRE + ACT): bank conflicts'),
      activates: count('ACT commands'),
      precharges: count('banks precharged: PRE for conflicts, auto-precharge, and banks closed for refresh'),
      starvationPicks: count('FR-FCFS decisions forced to the oldest request by the starvation bound (BYPASS_CAP)'),
    });
    stats.addFormula(`${statsPath}.refreshes`, () => this.refreshCount(this.q.now), count('all-bank refreshes (REF), counted up to the current cycle'));
    stats.addHistogram(`${statsPath}.readLatency`, this.readLatency, { unit: 'cycles', desc: 'read latency: arrival at the controller to the response leaving' });
    stats.addHistogram(`${statsPath}.writeLatency`, this.writeLatency, { unit: 'cycles', desc: 'write latency: arrival at the controller to the response leaving' });
    stats.addHistogram(`${statsPath}.queueDelay`, this.queueDelay, { unit: 'cycles', desc: 'cycles a request waited in its channel queue before being scheduled' });
    stats.addFormula(`${statsPath}.bandwidthBytesPerCycle`, () => (this.q.now > 0 ? (this.stats.bytesRead + this.stats.bytesWritten) / this.q.now : 0),
      { unit: 'bytes/cycle', desc: 'bytes read and written per core cycle, averaged from cycle 0' });
    stats.addFormula(`${statsPath}.peakBytesPerCycle`, () => this.peakBytesPerCycle(), { unit: 'bytes/cycle', desc: 'configured peak bandwidth' });
    for (let c = 0; c < nCh; c++) {
      const cs = new ChannelStats();
      this.channelStats.push(cs);
      stats.add(`${statsPath}.ch${c}`, cs, {
        busBusyCycles: { unit: 'cycles', desc: 'core cycles the data bus carried a burst' },
        bursts: count('bursts on the data bus'),
      });
    }
  }

  /** Configured peak bandwidth in bytes per core cycle (DDR: two beats per DRAM clock). */
  peakBytesPerCycle(): number {
    return (this.cfg.channels * this.cfg.busBytes * 2) / this.cfg.clockRatio;
  }

  // ---- arrival and queueing -------------------------------------------------------------------

  private onRequest(id: number): void {
    this.acceptAt(id, this.q.now);
  }

  /**
   * Takes request `id` that reaches the controller at cycle `at` (>= now): the sender's link may
   * deliver it ahead of time (Link's direct mode) to save an event. The request is queued at once
   * but no decision looks at it before `at + frontendLatency`.
   */
  acceptAt(id: number, at: number): void {
    if (++this.inController > this.inCredits) {
      throw new Error(`${this.name}: request ${id} arrived with every queue entry taken (inLink credits must be channels*queueDepth = ${this.inCredits})`);
    }
    const t = this.table;
    const addr = t.addr[id]!, size = t.size[id]!;
    const bb = this.burstBytes;
    if (size < 1 || mod(addr, bb) + size > bb) throw new Error(`${this.name}: request ${id} (${size} bytes at 0x${addr.toString(16)}) crosses a ${bb}-byte burst`);
    this.decode(id, addr);
    this.rArrive[id] = at;
    this.enqueue(id, at + this.cfg.frontendLatency);
  }

  private decode(id: number, addr: number): void {
    const kinds = this.kinds, radix = this.radix, inv = this.invRadix;
    let block = Math.floor(addr * this.invBurstBytes);
    this.rBlock[id] = block;
    let ch = 0, ra = 0, bg = 0, ba = 0, ro = 0;
    for (let i = 0; i < 6; i++) {
      const r = radix[i]!;
      let v: number;
      // Multiplying by the reciprocal is exact for the power-of-two field sizes (and a division is
      // several times slower); a field size that is not a power of two divides.
      if (r === Infinity) { v = block; block = 0; } else { const qq = inv[i]! !== 0 ? Math.floor(block * inv[i]!) : Math.floor(block / r); v = block - qq * r; block = qq; }
      switch (kinds[i]) {
        case F_CH: ch = v; break;
        case F_RA: ra = v; break;
        case F_BG: bg = v; break;
        case F_BA: ba = v; break;
        case F_RO: ro = v; break;
        default: break;                      // the column only matters through the row
      }
    }
    const rank = ch * this.cfg.ranks + ra;
    this.rCh[id] = ch;
    this.rRank[id] = rank;
    this.rBg[id] = rank * this.cfg.bankGroups + bg;
    this.rBank[id] = rank * this.banksPerRank + bg * this.cfg.banksPerGroup + ba;
    this.rRow[id] = ro;
  }

  private enqueue(id: number, at: number): void {
    const ch = this.rCh[id]!;
    const n = this.qLen[ch]!;
    if (n === this.queueCap) throw new Error(`${this.name}: channel ${ch} queue overflow`);   // unreachable: inController bounds it
    const base = ch * this.queueCap;
    // Flag a request that has an older same-block request with a write on either side; pick()
    // then checks, for flagged requests only, whether that one is still queued.
    const block = this.rBlock[id]!;
    const isWrite = this.table.kind[id] === ReqKind.Write;
    let hazard = 0;
    for (let j = 0; j < n; j++) {
      const o = this.queue[base + j]!;
      if (this.rBlock[o] === block && (isWrite || this.table.kind[o] === ReqKind.Write)) { hazard = 1; break; }
    }
    this.rHazard[id] = hazard;
    this.queue[base + n] = id;
    this.qLen[ch] = n + 1;
    this.rEnqueue[id] = at;
    if (this.decisionPending[ch] === 0) {
      this.decisionPending[ch] = 1;
      this.q.scheduleAt(this.decideHandler, Math.max(this.alignUp(at), this.nextDecisionAt[ch]!), ch);
    }
  }

  private alignUp(t: number): number {
    // Multiplying by 1/ratio is exact for a power-of-two ratio; otherwise divide.
    return (this.invRatio !== 0 ? Math.ceil(t * this.invRatio) : Math.ceil(t / this.ratio)) * this.ratio;
  }

  // ---- scheduling -----------------------------------------------------------------------------

  private decide(ch: number): void {
    this.decisionPending[ch] = 0;
    const qn = this.qLen[ch]!;
    if (qn === 0) return;
    const now = this.alignUp(this.q.now);
    // Requests reach the queue in order (their senders' delays never decrease), so the ones that
    // have arrived by now are a prefix of the queue.
    const base0 = ch * this.queueCap;
    let n = 0;
    while (n < qn && this.rEnqueue[this.queue[base0 + n]!]! <= now) n++;
    if (n === 0) {
      this.decisionPending[ch] = 1;
      this.q.scheduleAt(this.decideHandler, this.alignUp(this.rEnqueue[this.queue[base0]!]!), ch);
      return;
    }
    const ranks = this.cfg.ranks;
    if (this.cfg.refresh) for (let k = ch * ranks; k < (ch + 1) * ranks; k++) while (this.nextRefreshAt[k]! <= now) this.refreshRank(k);

    const slot = this.pick(ch, n, now);
    this.bypasses[ch] = slot === 0 ? 0 : this.bypasses[ch]! + 1;
    const base = ch * this.queueCap;
    const id = this.queue[base + slot]!;
    const queue = this.queue;                     // close the gap (a loop: copyWithin is a runtime call)
    for (let j = base + slot, e = base + qn - 1; j < e; j++) queue[j] = queue[j + 1]!;
    this.qLen[ch] = qn - 1;
    this.inController--;
    this.queueDelay.record(now - this.rEnqueue[id]!);

    this.plan(id, now);
    if (this.cfg.refresh) {
      const rank = this.rRank[id]!;
      // A refresh falls due before this request's first command: the rank refreshes first.
      while (this.firstCommandAt() >= this.nextRefreshAt[rank]!) { this.refreshRank(rank); this.plan(id, now); }
    }
    const dataEnd = this.commit(id);
    // Bursts of a channel are performed in commit order, so the access can be performed now and
    // answered at dataEnd + backendLatency: one event fewer per request than waiting for dataEnd.
    this.perform(id, dataEnd);

    // Wake when a request decided then could still meet the bus as it frees (see the class comment),
    // and at most once per DRAM clock.
    this.nextDecisionAt[ch] = Math.max(now + this.ratio, this.busFreeAt[ch]! - this.decisionLead);
    if (this.qLen[ch]! > 0) {
      this.decisionPending[ch] = 1;
      this.q.scheduleAt(this.decideHandler, Math.max(this.nextDecisionAt[ch]!, this.alignUp(this.rEnqueue[this.queue[base]!]!)), ch);
    }
    this.inLink?.release();            // last: the sender may send again from its onCredit
  }

  /** Queue slot (0 = oldest) of the request to schedule next. */
  private pick(ch: number, n: number, now: number): number {
    if (!this.isFrFcfs) return 0;
    const base = ch * this.queueCap;
    // 0. The oldest, once passed over BYPASS_CAP times, goes next whatever it costs.
    if (this.bypasses[ch]! >= BYPASS_CAP) { this.stats.starvationPicks++; return 0; }
    const stamp = ++this.pickStamp;
    // 1. The oldest row hit that can take the next bus slot with no delay: no bank-side wait
    //    (tCCD_L, tWTR_L) and no bus turnaround (tWTR_S, read-to-write, rank switch).
    for (let i = 0; i < n; i++) {
      const id = this.queue[base + i]!;
      const b = this.rBank[id]!;
      if (this.openRow[b] !== this.rRow[id]) continue;
      this.hitStamp[b] = stamp;
      if (this.rHazard[id] === 1 && this.mustWaitForOlder(base, i, id)) continue;
      this.plan(id, now);
      if (this.pCol <= this.pSeamless) return i;
    }
    // 2. The oldest request that can be ready for that slot (its PRE/ACT fit in), else the one whose column
    //    command can issue soonest (the oldest on ties). Conflicts that would close a row other
    //    queued requests hit are passed over.
    let best = 0, bestCol = Infinity;
    for (let i = 0; i < n; i++) {
      const id = this.queue[base + i]!;
      const b = this.rBank[id]!;
      const open = this.openRow[b]!;
      const row = this.rRow[id]!;
      if (open !== row) {
        if (open >= 0 && this.hitStamp[b] === stamp) continue;
        // Cheap bound first: skip the full plan when the bank alone rules the request out.
        const colLow = (open >= 0 ? Math.max(now, this.preAllowedAt[b]!) + this.tRP : Math.max(now, this.actAllowedAt[b]!)) + this.tRCD;
        if (colLow >= bestCol) {
          const lat = this.table.kind[id] === ReqKind.Write ? this.tCWL : this.tCL;
          const seamless = Math.max(now, this.rankLastCol[this.rRank[id]!]! + this.tCCD_S, this.busFreeAt[ch]! - lat);
          if (colLow > seamless) continue;
        }
      }
      if (this.rHazard[id] === 1 && this.mustWaitForOlder(base, i, id)) continue;
      this.plan(id, now);
      if (this.pCol <= this.pSeamless) return i;
      if (this.pCol < bestCol) { bestCol = this.pCol; best = i; }
    }
    return best;
  }

  /** True if an older queued request to the same burst block, with a write on either side, exists. */
  private mustWaitForOlder(base: number, i: number, id: number): boolean {
    const block = this.rBlock[id]!;
    const isWrite = this.table.kind[id] === ReqKind.Write;
    for (let j = 0; j < i; j++) {
      const o = this.queue[base + j]!;
      if (this.rBlock[o] === block && (isWrite || this.table.kind[o] === ReqKind.Write)) return true;
    }
    return false;
  }

  private firstCommandAt(): number {
    return this.pPre >= 0 ? this.pPre : this.pAct >= 0 ? this.pAct : this.pCol;
  }

  /** Computes the command times of request `id` if scheduled at `now`, into the p* fields. */
  private plan(id: number, now: number): void {
    const b = this.rBank[id]!, rank = this.rRank[id]!, bg = this.rBg[id]!, ch = this.rCh[id]!;
    const row = this.rRow[id]!;
    const isWrite = this.table.kind[id] === ReqKind.Write;
    const open = this.openRow[b]!;
    let bankCol: number;
    if (open === row) {
      this.pKind = HIT; this.pPre = -1; this.pAct = -1;
      bankCol = this.colAllowedAt[b]!;
    } else {
      let actReady: number;
      if (open >= 0) {
        this.pKind = CONFLICT;
        const pre = Math.max(now, this.preAllowedAt[b]!);
        this.pPre = pre;
        actReady = pre + this.tRP;
      } else {
        this.pKind = MISS; this.pPre = -1;
        actReady = Math.max(now, this.actAllowedAt[b]!);
      }
      const f = this.fawRing[rank * 4 + this.fawNext[rank]!]!;   // the 4th most recent ACT
      const act = Math.max(actReady, this.rankLastAct[rank]! + this.tRRD_S, this.bgLastAct[bg]! + this.tRRD_L, f + this.tFAW);
      this.pAct = act;
      bankCol = act + this.tRCD;
    }
    bankCol = Math.max(bankCol, this.bgLastCol[bg]! + this.tCCD_L);
    // The channel side: rank column spacing and the data bus (with turnaround gaps).
    let slotCol = this.rankLastCol[rank]! + this.tCCD_S;
    let gap = this.lastBusRank[ch] !== rank && this.lastBusRank[ch]! >= 0 ? this.tCS : 0;
    if (isWrite) {
      if (this.lastBusWrite[ch] === 0 && this.tRTW > gap) gap = this.tRTW;
      slotCol = Math.max(slotCol, this.busFreeAt[ch]! + gap - this.tCWL);
    } else {
      bankCol = Math.max(bankCol, this.bgWriteEnd[bg]! + this.tWTR_L);
      slotCol = Math.max(slotCol, this.busFreeAt[ch]! + gap - this.tCL, this.rankWriteEnd[rank]! + this.tWTR_S);
    }
    this.pCol = Math.max(now, bankCol, slotCol);
    this.pSeamless = Math.max(now, this.rankLastCol[rank]! + this.tCCD_S, this.busFreeAt[ch]! - (isWrite ? this.tCWL : this.tCL));
  }

  /** Applies the last plan() of request `id` to the bank, rank and channel state; returns the data end. */
  private commit(id: number): number {
    const b = this.rBank[id]!, rank = this.rRank[id]!, bg = this.rBg[id]!, ch = this.rCh[id]!;
    const isWrite = this.table.kind[id] === ReqKind.Write;
    const s = this.stats;
    const col = this.pCol;
    if (this.pKind === HIT) s.rowHits++;
    else {
      if (this.pKind === CONFLICT) { s.rowConflicts++; s.precharges++; } else s.rowMisses++;
      const act = this.pAct;
      s.activates++;
      this.openRow[b] = this.rRow[id]!;
      this.rankLastAct[rank] = act; this.bgLastAct[bg] = act;
      const k = rank * 4 + this.fawNext[rank]!;
      this.fawRing[k] = act;
      this.fawNext[rank] = (this.fawNext[rank]! + 1) & 3;
      this.preAllowedAt[b] = act + this.tRAS;
      this.colAllowedAt[b] = act + this.tRCD;
    }
    this.rankLastCol[rank] = col; this.bgLastCol[bg] = col;
    const dataStart = col + (isWrite ? this.tCWL : this.tCL);
    const dataEnd = dataStart + this.tBurst;
    if (isWrite) {
      this.preAllowedAt[b] = Math.max(this.preAllowedAt[b]!, dataEnd + this.tWR);
      this.rankWriteEnd[rank] = dataEnd; this.bgWriteEnd[bg] = dataEnd;
    } else {
      this.preAllowedAt[b] = Math.max(this.preAllowedAt[b]!, col + this.tRTP);
    }
    this.busFreeAt[ch] = dataEnd;
    this.lastBusRank[ch] = rank;
    this.lastBusWrite[ch] = isWrite ? 1 : 0;
    const cs = this.channelStats[ch]!;
    cs.busBusyCycles += this.tBurst; cs.bursts++;
    if (this.isClosedPage) {
      // Auto-precharge: the bank closes as soon as tRAS, tRTP / tWR allow.
      s.precharges++;
      this.openRow[b] = -1;
      this.actAllowedAt[b] = this.preAllowedAt[b]! + this.tRP;
    }
    return dataEnd;
  }

  /** All-bank refresh of global rank `k`, due at nextRefreshAt[k]. */
  private refreshRank(k: number): void {
    let start = this.nextRefreshAt[k]!;
    const b0 = k * this.banksPerRank, b1 = b0 + this.banksPerRank;
    for (let b = b0; b < b1; b++) {
      if (this.openRow[b]! >= 0) {
        start = Math.max(start, this.preAllowedAt[b]! + this.tRP);
        this.openRow[b] = -1;
        this.stats.precharges++;
      } else start = Math.max(start, this.actAllowedAt[b]!);
    }
    const end = start + this.tRFC;
    for (let b = b0; b < b1; b++) this.actAllowedAt[b] = end;
    this.refreshesDone++;
    this.nextRefreshAt[k] = this.nextRefreshAt[k]! + this.tREFI;
  }

  /** Refreshes performed, plus those due by `now` that no decision has applied yet. */
  private refreshCount(now: number): number {
    if (!this.cfg.refresh) return 0;
    let n = this.refreshesDone;
    for (let k = 0; k < this.nextRefreshAt.length; k++) {
      const due = this.nextRefreshAt[k]!;
      if (due <= now) n += Math.floor((now - due) / this.tREFI) + 1;
    }
    return n;
  }

  // ---- completion -----------------------------------------------------------------------------

  /** Performs the committed access (its burst ends at `dataEnd`) and sends the response. */
  private perform(id: number, dataEnd: number): void {
    const t = this.table;
    const now = this.q.now;
    const size = t.size[id]!, off = t.dataOffset(id);
    const done = dataEnd + this.cfg.backendLatency;
    if (t.kind[id] === ReqKind.Write) {
      this.store.write(t.addr[id]!, t.data, off, size);
      this.stats.writes++; this.stats.bytesWritten += size;
      this.writeLatency.record(done - this.rArrive[id]!);
    } else {
      this.store.read(t.addr[id]!, t.data, off, size);
      this.stats.reads++; this.stats.bytesRead += size;
      this.readLatency.record(done - this.rArrive[id]!);
    }
    t.status[id] = ReqStatus.Ok;
    t.doneAt[id] = done;
    const link = this.respLink;
    if (link === undefined || !link.trySendAfter(id, done - now)) throw new Error(`${this.name}: response link missing or refused request ${id}`);
  }
}
