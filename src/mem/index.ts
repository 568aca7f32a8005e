/**
 * mem — physical memory.
 *
 * Models: the physical address map of named regions and their properties (kind, MTE tags, how
 * non-cacheable atomics behave, global monitor, linear map); a sparse backing store that costs
 * nothing until touched; DRAM timing (channels, ranks, bank groups, banks, open rows, FR-FCFS,
 * refresh); device targets; the interconnect and home node that routes requests and turns an
 * undecoded address into an external abort.
 * Leaves out (for now): snooping and the snoop filter, far atomics, the global exclusive monitor.
 */
export type { PhysicalStore } from './store.js';
export { SparseMemory } from './sparse-memory.js';
export { AddressMap, type Region, type RegionProps, type RegionKind, type NcAtomics } from './address-map.js';
export { DramController, type DramConfig } from './dram.js';
export { DDR4_3200 } from './dram-presets.js';
export { DeviceTarget } from './device.js';
export { HomeNode, type HomeNodeConfig } from './home-node.js';
export * from './mem-attrs.js';
