import type { PlatformConfig } from '../platform/index.js';

/**
 * One dimension of a suite's grid. Each value becomes one `--set KEY=VALUE` (platform key, or
 * `scenario.`-prefixed scenario parameter) and one `name=value` part of the cell key.
 */
export interface Axis {
  /** Short name, used in cell keys, table headers and `--axis NAME=v,...`. */
  name: string;
  /** The `--set` key the value goes to. */
  key: string;
  /** `size`: byte counts (canonicalized, so 1MiB and 1048576 are the same cell); `enum`: only the listed values. */
  kind: 'size' | 'enum';
  values: readonly string[];
  /** Values under `--quick` (tests, smoke runs); default: `values`. */
  quick?: readonly string[];
}

/** A quantity read from a scenario's checks: `check.field` (e.g. `staleBytes.bytes`). */
export interface Measure {
  path: string;
  /** Column header. */
  label: string;
  /** Paths tried when `path` is absent (suites over scenarios whose checks differ); the value is recorded under `path`. */
  or?: readonly string[];
}

/** What a skip rule sees: the cell's resolved platform and scenario parameters. */
export interface CellView {
  scenario: string;
  platform: string;
  cfg: PlatformConfig;
  params: Record<string, unknown>;
}

/** A cell the suite does not run on purpose (the platform lacks a feature, the sizes do not fit). */
export interface SkipRule {
  /** The reason when the rule applies, else undefined. */
  test(c: CellView): string | undefined;
}

/**
 * A named grid: scenarios × platforms × axes × seeds. Contract: cells are enumerated in that
 * order (the last axis varies fastest); a cell's key names every coordinate, so it is stable
 * across runs, job counts and `--resume`.
 */
export interface Suite {
  name: string;
  description: string;
  scenarios: readonly string[];
  /** Default `--platform` list. */
  platforms: readonly string[];
  axes: readonly Axis[];
  /** `--set`s every cell gets (after the scenario's own platformSets, before the axes'). */
  sets?: readonly string[];
  seeds: readonly number[];
  measures: readonly Measure[];
  skips: readonly SkipRule[];
}

const KiB = 1024, MiB = 1024 * KiB;
/** guest-boot-mmu-off loads the image at this offset into guest RAM (arm64 Image text offset). */
const IMAGE_OFFSET = 0x8_0000;

const needsEl2: SkipRule = { test: (c) => (c.cfg.mmu.el2 ? undefined : 'needs EL2 (mmu.el2=false on this platform)') };

export const CMO_STRATEGIES_SUITE: Suite = {
  name: 'cmo-strategies',
  description: 'seed 003: guest-boot-mmu-off under every hyp.cmo, across image and guest RAM sizes — stale bytes seen, cycles in maintenance, stage-2 faults, boot cycles',
  scenarios: ['guest-boot-mmu-off'],
  platforms: ['xgene1', 'neoverse-n1', 'grace'],
  axes: [
    { name: 'cmo', key: 'hyp.cmo', kind: 'enum', values: ['none', 'clean-all-at-start', 'clean-on-s2-fault', 'vmm-clean-loaded', 'set-way-at-start', 'hcr-dc', 'fwb'] },
    { name: 'image', key: 'scenario.imageBytes', kind: 'size', values: ['1MiB', '4MiB', '16MiB', '64MiB'], quick: ['64KiB', '256KiB'] },
    { name: 'ram', key: 'scenario.guestRamBytes', kind: 'size', values: ['64MiB', '256MiB'], quick: ['1MiB', '4MiB'] },
  ],
  seeds: [1],
  measures: [
    { path: 'staleBytes.bytes', label: 'staleBytes' },
    { path: 'correct.value', label: 'correct' },
    { path: 'cmoCycles.cycles', label: 'cmoCycles' },
    { path: 's2Faults.faults', label: 's2Faults' },
    { path: 'bootCycles.cycles', label: 'bootCycles' },
  ],
  skips: [
    needsEl2,
    { test: (c) => (c.cfg.hyp.cmo === 'fwb' && !c.cfg.mmu.featS2FWB ? 'hyp.cmo=fwb needs FEAT_S2FWB (mmu.featS2FWB=false on this platform)' : undefined) },
    {
      test: (c) => {
        const image = c.params.imageBytes as number, ram = c.params.guestRamBytes as number;
        return IMAGE_OFFSET + image > ram ? `the image does not fit in guest RAM at offset 0x80000 (${fmtSize(image)} image, ${fmtSize(ram)} RAM)` : undefined;
      },
    },
  ],
};

/** The passthrough scenarios; cells of one not yet in the catalog are listed as skipped ("not yet"). */
const PFNMAP_SCENARIOS = ['atomics-normal-nc', 'exec-on-device-memory', 'mte-on-pfnmap'];

export const PFNMAP_POLICIES_SUITE: Suite = {
  name: 'pfnmap-policies',
  description: 'the hyp.policy × platform matrix for the passthrough (VM_PFNMAP) scenarios: outcome per cell',
  scenarios: PFNMAP_SCENARIOS,
  platforms: ['xgene1', 'neoverse-n1', 'grace'],
  axes: [{ name: 'policy', key: 'hyp.policy', kind: 'enum', values: ['legacy', 'wc', 'cacheable-pfnmap-v2', 'cacheable-pfnmap'] }],
  seeds: [1],
  // What stage 2 mapped (or refused) and the outcome the scenario predicted from the policy's rules.
  measures: [
    { path: 'stage2.observed', label: 'stage2', or: ['stage2.mapped'] },
    { path: 'expected.outcome', label: 'outcome', or: ['fetch.outcome'] },
  ],
  skips: [needsEl2],
};

export const SMMU_INVALIDATION_SUITE: Suite = {
  name: 'smmu-invalidation',
  description: 'nested SMMU: a device streams DMA over 64 pages while the guest remaps 8 per round and invalidates per page, by range, by ASID, all (NH_ALL) or the whole VM (S12_VMALL), each + CMD_SYNC: IOTLB hits/misses, descriptor reads, DMA throughput, commands, stale pages',
  scenarios: ['smmu-invalidation'],
  platforms: ['neoverse-n1', 'grace'],
  axes: [
    // vmall (CMD_TLBI_S12_VMALL) is host-only: what a VMM does after changing stage 2, here for its cost.
    { name: 'granularity', key: 'scenario.granularity', kind: 'enum', values: ['page', 'range', 'asid', 'all', 'vmall'], quick: ['page', 'all'] },
  ],
  seeds: [1],
  measures: [
    { path: 'correct.value', label: 'correct' },
    { path: 'correct.stalePages', label: 'stalePages' },
    { path: 'iotlb.hits', label: 'iotlbHits' },
    { path: 'iotlb.misses', label: 'iotlbMisses' },
    { path: 'walks.descriptorReads', label: 'descReads' },
    { path: 'dma.cycles', label: 'dmaCycles' },
    { path: 'dma.bytes', label: 'dmaBytes' },
    { path: 'dma.bytesPerKcycle', label: 'bytesPerKcycle' },
    { path: 'invalidation.commands', label: 'commands' },
    { path: 'invalidation.cycles', label: 'invCycles' },
  ],
  skips: [],
};

export const PMEM_STRATEGIES_SUITE: Suite = {
  name: 'pmem-strategies',
  description: 'pmem-persist: a log in persistent memory made durable per record with DC CVAP, DC CVAC or nothing, then a power failure, across record sizes: records kept, cycles per record',
  scenarios: ['pmem-persist'],
  platforms: ['xgene1', 'neoverse-n1', 'grace'],
  axes: [
    { name: 'strategy', key: 'scenario.strategy', kind: 'enum', values: ['none', 'cvac', 'cvap'] },
    { name: 'record', key: 'scenario.recordBytes', kind: 'size', values: ['64', '256', '1KiB'], quick: ['64', '256'] },
  ],
  // Eight records of every size fit in half of each preset's L1D (16 KiB at 1 KiB records).
  sets: ['scenario.records=8'],
  seeds: [1],
  measures: [
    { path: 'survived.records', label: 'kept' },
    { path: 'survived.lostBytes', label: 'lostBytes' },
    { path: 'maintenance.undefinedInstructions', label: 'undefined' },
    { path: 'cyclesPerRecord.mean', label: 'cyclesPerRecord' },
  ],
  skips: [],
};

export const DIRTY_LOG_SUITE: Suite = {
  name: 'dirty-log-modes',
  description: 'dirty-logging: write-protect faults (KVM) against FEAT_HAFDBS stage-2 dirty state, across guest sizes: pages logged and missed, faults, guest and collection cycles',
  scenarios: ['dirty-logging'],
  platforms: ['neoverse-n1', 'grace', 'xgene1'],
  axes: [
    { name: 'mode', key: 'hyp.dirtyLog', kind: 'enum', values: ['wp', 'dbm'] },
    { name: 'pages', key: 'scenario.pages', kind: 'enum', values: ['16', '64', '256', '1024'], quick: ['16', '64'] },
  ],
  seeds: [1],
  measures: [
    { path: 'dirtyLog.pagesLogged', label: 'logged' },
    { path: 'dirtyLog.missed', label: 'missed' },
    { path: 'faults.dirtyLogFaults', label: 'wpFaults' },
    { path: 'cycles.guest', label: 'guestCycles' },
    { path: 'cycles.collect', label: 'collectCycles' },
    { path: 'cycles.perWrittenPage', label: 'cyclesPerPage' },
  ],
  skips: [
    needsEl2,
    { test: (c) => (c.cfg.hyp.dirtyLog === 'dbm' && c.cfg.mmu.features.hafdbs !== 2 ? 'hyp.dirtyLog=dbm needs FEAT_HAFDBS dirty state (mmu.features.hafdbs=2)' : undefined) },
  ],
};

/** Every suite `armsim bench` knows, by name. */
export const SUITES: readonly Suite[] = [CMO_STRATEGIES_SUITE, PFNMAP_POLICIES_SUITE, SMMU_INVALIDATION_SUITE, PMEM_STRATEGIES_SUITE, DIRTY_LOG_SUITE];

/** Bytes as the shortest exact KiB/MiB/GiB form (the canonical spelling in cell keys). */
export function fmtSize(n: number): string {
  for (const [u, s] of [[1024 * MiB, 'GiB'], [MiB, 'MiB'], [KiB, 'KiB']] as const) if (n >= u && n % u === 0) return `${n / u}${s}`;
  return String(n);
}
