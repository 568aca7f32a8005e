/**
 * Functional contents of physical memory. The timing models (DRAM, device targets) move bytes
 * between a request's data slice and a store when the access is performed.
 *
 * Contract: `pa .. pa+len` lies inside one region the store covers; reads of never-written bytes
 * return zeros; nothing is allocated per call once the touched chunks exist.
 */
export interface PhysicalStore {
  read(pa: number, dst: Uint8Array, dstOff: number, len: number): void;
  write(pa: number, src: Uint8Array, srcOff: number, len: number): void;
}
