import { Histogram, REQ_FLAG_NO_DATA, ReqKind, ReqStatus, UserError } from '../sim/index.js';
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

// Module-level copies of imported constants: V8 compiles these as immediates, but reads a
// property of the imported object (with a map check) at every use.
const WRITE: number = ReqKind.Write;
const STATUS_OK: number = ReqStatus.Ok;

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
  private readonly reqKind: Uint8Array;          // table.kind
  private readonly store: PhysicalStore;
  private readonly decideHandler: number;

  // Geometry and timings in core cycles.
  private readonly ratio: number;
  private readonly kinds: Int8Array;
  private readonly radix: Float64Array;
  /** 1/radix where radix is a power of two (exact), else 0. */
  private readonly invRadix: Float64Array;
  private readonly invBurstBytes: number;
  // Fast decode (see decode()): when the fields below the row span a power of two `lowSpan`
  // <= 2^30, `block mod lowSpan` is a small integer whose fields come out with shifts and masks.
  private readonly lowSpan: number;              // 0: the layout needs the generic loop
  private readonly invLowSpan: number;
  private readonly chShift: number; private readonly chMask: number;   // where each field sits in `low`
  private readonly raShift: number; private readonly raMask: number;
  private readonly bgShift: number; private readonly bgMask: number;
  private readonly baShift: number; private readonly baMask: number;
  private readonly invRatio: number;
  private readonly nRanks: number;               // ranks per channel
  private readonly nBankGroups: number;          // bank groups per rank
  private readonly nBanksPerGroup: number;
  private readonly refreshOn: boolean;
  private readonly frontendLatency: number;
  private readonly backendLatency: number;
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
  /**
   * When the last write performed so far finished its burst (cycles; 0 before any). A writer
   * whose writes are acknowledged early (interconnect.postedWrites) learns from it when they
   * actually reached memory.
   */
  lastWriteDataEnd = 0;
  private readonly hitStamp: Int32Array;         // per bank: pick() call that saw a queued hit to its open row
  private pickStamp = 0;

  // Result of plan(): the command times of one request, in core cycles (-1: no such command).
  private pPre = -1; private pAct = -1; private pCol = 0; private pKind = HIT;
  /** The request the p* fields were planned for, or -1 once bank state has changed since. */
  private pId = -1;
  // Plans made since bank state last changed (every plan of one decision sees the same state and
  // `now`), so pick() and decide() never compute a request's plan twice: valid while mGen[id] === gen.
  private gen = 1;                               // bumped by commit() and refreshRank()
  private readonly mGen: Float64Array;
  private readonly mPre: Float64Array;
  private readonly mAct: Float64Array;
  private readonly mCol: Float64Array;
  private readonly mSeamless: Float64Array;
  private readonly mKind: Uint8Array;
  private pSeamless = 0;                         // column time if the burst could follow the last one back to back

  constructor(opts: { name: string; q: EventQueue; table: RequestTable; store: PhysicalStore; cfg: DramConfig; stats: StatsRegistry; statsPath: string }) {
    const { name, q, table, store, cfg, stats, statsPath } = opts;
    checkDramConfig(cfg, 'dram');
    this.name = name; this.q = q; this.table = table; this.store = store;
    this.reqKind = table.kind;
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
    const shift = new Int32Array(6), mask = new Int32Array(6);
    let span = 1;
    for (let i = 0; i < 5; i++) {
      shift[lay.kinds[i]!] = Math.log2(span); mask[lay.kinds[i]!] = lay.radix[i]! - 1;
      span *= lay.radix[i]!;
    }
    this.chShift = shift[F_CH]!; this.chMask = mask[F_CH]!; this.raShift = shift[F_RA]!; this.raMask = mask[F_RA]!;
    this.bgShift = shift[F_BG]!; this.bgMask = mask[F_BG]!; this.baShift = shift[F_BA]!; this.baMask = mask[F_BA]!;
    const fast = lay.kinds[5] === F_RO && lay.radix.slice(0, 5).every(isPow2) && span <= 2 ** 30;
    this.lowSpan = fast ? span : 0;
    this.invLowSpan = fast ? 1 / span : 0;
    this.nRanks = cfg.ranks; this.nBankGroups = cfg.bankGroups; this.nBanksPerGroup = cfg.banksPerGroup;
    this.refreshOn = cfg.refresh;
    this.frontendLatency = cfg.frontendLatency; this.backendLatency = cfg.backendLatency;
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
    this.mGen = new Float64Array(cap); this.mPre = new Float64Array(cap); this.mAct = new Float64Array(cap);
    this.mCol = new Float64Array(cap); this.mSeamless = new Float64Array(cap); this.mKind = new Uint8Array(cap);

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
    if (++this.inController > this.inCredits) this.badRequest(id, 'full');
    const t = this.table;
    const addr = t.addr[id]!, size = t.size[id]!;
    const bb = this.burstBytes;
    const block = Math.floor(addr * this.invBurstBytes);        // exact: burstBytes is a power of two
    if (size < 1 || addr - block * bb + size > bb) this.badRequest(id, 'crosses');
    this.rBlock[id] = block;
    this.decode(id);                             // (passes the id: an address-sized double argument would be boxed)
    this.rArrive[id] = at;
    this.enqueue(id, at + this.frontendLatency);
  }

  // Errors are raised out of line: the hot functions stay small enough for callers to inline.
  private badRequest(id: number, what: 'full' | 'crosses'): never {
    if (what === 'full') throw new Error(`${this.name}: request ${id} arrived with every queue entry taken (inLink credits must be channels*queueDepth = ${this.inCredits})`);
    const addr = this.table.addr[id]!, size = this.table.size[id]!;
    throw new Error(`${this.name}: request ${id} (${size} bytes at 0x${addr.toString(16)}) crosses a ${this.burstBytes}-byte burst`);
  }

  private overflow(ch: number): never { throw new Error(`${this.name}: channel ${ch} queue overflow`); }

  /** Fills the per-request coordinates of `id` from its burst block rBlock[id] (address / burstBytes). */
  private decode(id: number): void {
    let block = this.rBlock[id]!;
    let ch = 0, ra = 0, bg = 0, ba = 0, ro = 0;
    if (this.lowSpan !== 0) {
      // The row is what lies above lowSpan (exact: lowSpan is a power of two); `low` < 2^30, so
      // shifts and masks on it are exact (it is a field index, not an address).
      ro = Math.floor(block * this.invLowSpan);
      const low = block - ro * this.lowSpan;
      ch = (low >>> this.chShift) & this.chMask;
      ra = (low >>> this.raShift) & this.raMask;
      bg = (low >>> this.bgShift) & this.bgMask;
      ba = (low >>> this.baShift) & this.baMask;
    } else {
      const kinds = this.kinds, radix = this.radix, inv = this.invRadix;
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
    }
    const rank = ch * this.nRanks + ra;
    this.rCh[id] = ch;
    this.rRank[id] = rank;
    this.rBg[id] = rank * this.nBankGroups + bg;
    this.rBank[id] = rank * this.banksPerRank + bg * this.nBanksPerGroup + ba;
    this.rRow[id] = ro;
  }

  private enqueue(id: number, at: number): void {
    const ch = this.rCh[id]!;
    const n = this.qLen[ch]!;
    if (n === this.queueCap) this.overflow(ch);   // unreachable: inController bounds it
    const base = ch * this.queueCap;
    // Flag a request that has an older same-block request with a write on either side; pick()
    // then checks, for flagged requests only, whether that one is still queued.
    const block = this.rBlock[id]!;
    const kind = this.reqKind, queue = this.queue, rBlock = this.rBlock;
    const isWrite = kind[id] === WRITE;
    let hazard = 0;
    for (let j = base, e = base + n; j < e; j++) {
      const o = queue[j]!;
      if (rBlock[o] === block && (isWrite || kind[o] === WRITE)) { hazard = 1; break; }
    }
    this.rHazard[id] = hazard;
    queue[base + n] = id;
    this.qLen[ch] = n + 1;
    this.rEnqueue[id] = at;
    if (this.decisionPending[ch] === 0) {
      this.decisionPending[ch] = 1;
      const t = this.alignUp(at), nd = this.nextDecisionAt[ch]!;
      this.q.scheduleAt(this.decideHandler, t > nd ? t : nd, ch);
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
    const queue = this.queue, enq = this.rEnqueue;
    const base = ch * this.queueCap;
    let n = 0;
    while (n < qn && enq[queue[base + n]!]! <= now) n++;
    if (n === 0) {
      this.decisionPending[ch] = 1;
      this.q.scheduleAt(this.decideHandler, this.alignUp(enq[queue[base]!]!), ch);
      return;
    }
    if (this.refreshOn) {
      const ranks = this.nRanks;
      for (let k = ch * ranks; k < (ch + 1) * ranks; k++) while (this.nextRefreshAt[k]! <= now) this.refreshRank(k);
    }

    // pick() of a lone arrived request (the usual case) only stamps the call: done here, without the call.
    let slot = 0;
    if (n === 1 && this.isFrFcfs && this.bypasses[ch]! < BYPASS_CAP) this.pickStamp++;
    else slot = this.pick(ch, n, now);
    this.bypasses[ch] = slot === 0 ? 0 : this.bypasses[ch]! + 1;
    const id = queue[base + slot]!;
    for (let j = base + slot, e = base + qn - 1; j < e; j++) queue[j] = queue[j + 1]!;   // close the gap (a loop: copyWithin is a runtime call)
    this.qLen[ch] = qn - 1;
    this.inController--;
    this.queueDelay.record(now - enq[id]!);

    if (this.pId !== id) {                        // pick() usually planned it last
      if (this.mGen[id] === this.gen) this.recall(id); else this.plan(id, now);
    }
    if (this.refreshOn) {
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
    const soonest = now + this.ratio, lead = this.busFreeAt[ch]! - this.decisionLead;
    const next = soonest > lead ? soonest : lead;
    this.nextDecisionAt[ch] = next;
    if (qn > 1) {
      this.decisionPending[ch] = 1;
      const head = this.alignUp(enq[queue[base]!]!);
      this.q.scheduleAt(this.decideHandler, next > head ? next : head, ch);
    }
    this.inLink?.release();            // last: the sender may send again from its onCredit
  }

  /** Queue slot (0 = oldest) of the request to schedule next. */
  private pick(ch: number, n: number, now: number): number {
    if (!this.isFrFcfs) return 0;
    // 0. The oldest, once passed over BYPASS_CAP times, goes next whatever it costs.
    if (this.bypasses[ch]! >= BYPASS_CAP) { this.stats.starvationPicks++; return 0; }
    const stamp = ++this.pickStamp;
    if (n === 1) return 0;                       // every tier below ends at the only candidate
    const base = ch * this.queueCap;
    const queue = this.queue, rBank = this.rBank, rRow = this.rRow, openRow = this.openRow, hitStamp = this.hitStamp;
    // 1. The oldest row hit that can take the next bus slot with no delay: no bank-side wait
    //    (tCCD_L, tWTR_L) and no bus turnaround (tWTR_S, read-to-write, rank switch).
    for (let i = 0; i < n; i++) {
      const id = queue[base + i]!;
      const b = rBank[id]!;
      if (openRow[b] !== rRow[id]) continue;
      hitStamp[b] = stamp;
      if (this.rHazard[id] === 1 && this.mustWaitForOlder(base, i, id)) continue;
      this.planOnce(id, now);
      if (this.pCol <= this.pSeamless) return i;
    }
    // 2. The oldest request that can be ready for that slot (its PRE/ACT fit in), else the one whose column
    //    command can issue soonest (the oldest on ties). Conflicts that would close a row other
    //    queued requests hit are passed over.
    let best = 0, bestCol = Infinity;
    for (let i = 0; i < n; i++) {
      const id = queue[base + i]!;
      const b = rBank[id]!;
      const open = openRow[b]!;
      if (open !== rRow[id]) {
        if (open >= 0 && hitStamp[b] === stamp) continue;
        // Cheap bound first: skip the full plan when the bank alone rules the request out.
        if (bestCol !== Infinity) {
          let colLow: number;
          if (open >= 0) { const p = this.preAllowedAt[b]!; colLow = (p > now ? p : now) + this.tRP + this.tRCD; }
          else { const a = this.actAllowedAt[b]!; colLow = (a > now ? a : now) + this.tRCD; }
          if (colLow >= bestCol) {
            const busReady = this.busFreeAt[ch]! - (this.reqKind[id] === WRITE ? this.tCWL : this.tCL);
            const rankReady = this.rankLastCol[this.rRank[id]!]! + this.tCCD_S;
            if (colLow > now && colLow > rankReady && colLow > busReady) continue;   // colLow > seamless slot
          }
        }
      }
      if (this.rHazard[id] === 1 && this.mustWaitForOlder(base, i, id)) continue;
      this.planOnce(id, now);
      if (this.pCol <= this.pSeamless) return i;
      if (this.pCol < bestCol) { bestCol = this.pCol; best = i; }
    }
    return best;
  }

  /** True if an older queued request to the same burst block, with a write on either side, exists. */
  private mustWaitForOlder(base: number, i: number, id: number): boolean {
    const block = this.rBlock[id]!;
    const kind = this.reqKind;
    const isWrite = kind[id] === WRITE;
    for (let j = 0; j < i; j++) {
      const o = this.queue[base + j]!;
      if (this.rBlock[o] === block && (isWrite || kind[o] === WRITE)) return true;
    }
    return false;
  }

  private firstCommandAt(): number {
    return this.pPre >= 0 ? this.pPre : this.pAct >= 0 ? this.pAct : this.pCol;
  }

  /** plan() for pick(): the same plan recalled if one was made since bank state last changed. */
  private planOnce(id: number, now: number): void {
    if (this.mGen[id] === this.gen) { this.recall(id); return; }
    this.plan(id, now);
    this.mGen[id] = this.gen;
    this.mPre[id] = this.pPre; this.mAct[id] = this.pAct; this.mCol[id] = this.pCol;
    this.mSeamless[id] = this.pSeamless; this.mKind[id] = this.pKind;
  }

  /** Puts the remembered plan of `id` (valid: mGen[id] === gen) back into the p* fields. */
  private recall(id: number): void {
    this.pId = id;
    this.pPre = this.mPre[id]!; this.pAct = this.mAct[id]!; this.pCol = this.mCol[id]!;
    this.pSeamless = this.mSeamless[id]!; this.pKind = this.mKind[id]!;
  }

  /** Computes the command times of request `id` if scheduled at `now`, into the p* fields. */
  private plan(id: number, now: number): void {
    // Maxima as comparisons rather than Math.max chains (every operand is a finite integer).
    this.pId = id;
    const b = this.rBank[id]!, rank = this.rRank[id]!, bg = this.rBg[id]!, ch = this.rCh[id]!;
    const isWrite = this.reqKind[id] === WRITE;
    const open = this.openRow[b]!;
    let bankCol: number, t: number;
    if (open === this.rRow[id]) {
      this.pKind = HIT; this.pPre = -1; this.pAct = -1;
      bankCol = this.colAllowedAt[b]!;
    } else {
      let act: number;
      if (open >= 0) {
        this.pKind = CONFLICT;
        t = this.preAllowedAt[b]!;
        const pre = t > now ? t : now;
        this.pPre = pre;
        act = pre + this.tRP;
      } else {
        this.pKind = MISS; this.pPre = -1;
        t = this.actAllowedAt[b]!;
        act = t > now ? t : now;
      }
      t = this.rankLastAct[rank]! + this.tRRD_S; if (t > act) act = t;
      t = this.bgLastAct[bg]! + this.tRRD_L; if (t > act) act = t;
      t = this.fawRing[rank * 4 + this.fawNext[rank]!]! + this.tFAW; if (t > act) act = t;   // the 4th most recent ACT
      this.pAct = act;
      bankCol = act + this.tRCD;
    }
    t = this.bgLastCol[bg]! + this.tCCD_L; if (t > bankCol) bankCol = t;
    // The channel side: rank column spacing and the data bus (with turnaround gaps).
    const rankSlot = this.rankLastCol[rank]! + this.tCCD_S;
    let slotCol = rankSlot;
    const lastRank = this.lastBusRank[ch]!;
    let gap = lastRank !== rank && lastRank >= 0 ? this.tCS : 0;
    const busFree = this.busFreeAt[ch]!;
    let busSlot: number;
    if (isWrite) {
      if (this.lastBusWrite[ch] === 0 && this.tRTW > gap) gap = this.tRTW;
      busSlot = busFree - this.tCWL;
      t = busFree + gap - this.tCWL; if (t > slotCol) slotCol = t;
    } else {
      t = this.bgWriteEnd[bg]! + this.tWTR_L; if (t > bankCol) bankCol = t;
      busSlot = busFree - this.tCL;
      t = busFree + gap - this.tCL; if (t > slotCol) slotCol = t;
      t = this.rankWriteEnd[rank]! + this.tWTR_S; if (t > slotCol) slotCol = t;
    }
    let col = now;
    if (bankCol > col) col = bankCol;
    if (slotCol > col) col = slotCol;
    this.pCol = col;
    let seamless = now;
    if (rankSlot > seamless) seamless = rankSlot;
    if (busSlot > seamless) seamless = busSlot;
    this.pSeamless = seamless;
  }

  /** Applies the last plan() of request `id` to the bank, rank and channel state; returns the data end. */
  private commit(id: number): number {
    this.pId = -1; this.gen++;
    const b = this.rBank[id]!, rank = this.rRank[id]!, bg = this.rBg[id]!, ch = this.rCh[id]!;
    const isWrite = this.reqKind[id] === WRITE;
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
    const dataEnd = col + (isWrite ? this.tCWL : this.tCL) + this.tBurst;
    const pre = this.preAllowedAt[b]!;
    if (isWrite) {
      const t = dataEnd + this.tWR;
      this.preAllowedAt[b] = pre > t ? pre : t;
      this.rankWriteEnd[rank] = dataEnd; this.bgWriteEnd[bg] = dataEnd;
    } else {
      const t = col + this.tRTP;
      this.preAllowedAt[b] = pre > t ? pre : t;
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
    this.pId = -1; this.gen++;
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
    if (!this.refreshOn) return 0;
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
    const done = dataEnd + this.backendLatency;
    const moveData = (t.flags[id]! & REQ_FLAG_NO_DATA) === 0;
    if (t.kind[id] === WRITE) {
      if (moveData) this.store.write(t.addr[id]!, t.data, off, size);
      this.stats.writes++; this.stats.bytesWritten += size;
      this.writeLatency.record(done - this.rArrive[id]!);
      if (dataEnd > this.lastWriteDataEnd) this.lastWriteDataEnd = dataEnd;
    } else {
      if (moveData) this.store.read(t.addr[id]!, t.data, off, size);
      this.stats.reads++; this.stats.bytesRead += size;
      this.readLatency.record(done - this.rArrive[id]!);
    }
    t.status[id] = STATUS_OK;
    t.doneAt[id] = done;
    const link = this.respLink;
    if (link === undefined || !link.trySendAfter(id, done - now)) this.responseRefused(id);
  }

  private responseRefused(id: number): never {
    throw new Error(`${this.name}: response link missing or refused request ${id}`);
  }
}
