import type { Region } from '../src/mem/index.js';
import type { System } from '../src/platform/index.js';
import { UserError } from '../src/sim/index.js';

/**
 * The platform's first dram region (with at least `minBytes`, where the scenario lays out its data
 * at fixed offsets); a one-line UserError naming the scenario when it has none or a smaller one.
 */
export function dramRegion(sys: System, scenario: string, minBytes = 0): Region {
  const ram = sys.map.regions.find((r) => r.kind === 'dram');
  if (ram === undefined) throw new UserError(`memory.regions: ${scenario} needs a region of kind dram (the platform has none)`);
  return atLeast(ram, scenario, minBytes);
}

/** `r`, if it has at least `minBytes`; else a one-line UserError naming its size key. */
export function atLeast(r: Region, scenario: string, minBytes: number): Region {
  if (r.size < minBytes) throw new UserError(`memory.regions.${r.name}.size: ${scenario} needs at least ${sizeText(minBytes)} of ${r.kind} (got ${r.size})`);
  return r;
}

const sizeText = (b: number): string => (b % 2 ** 20 === 0 ? `${b / 2 ** 20} MiB` : b % 1024 === 0 ? `${b / 1024} KiB` : `${b} bytes`);

/**
 * The first dram region (with at least `minDramBytes`) and the first device region of the
 * platform, for scenarios that place tables and buffers in one and a device window in the other;
 * a one-line UserError naming the scenario when the platform lacks them.
 */
export function dramAndDevice(sys: System, scenario: string, minDramBytes: number) {
  const ram = sys.map.regions.find((r) => r.kind === 'dram');
  const dev = sys.map.regions.find((r) => r.kind === 'device');
  if (ram === undefined || dev === undefined) throw new UserError(`memory.regions: ${scenario} needs a region of kind dram and one of kind device`);
  return { ram: atLeast(ram, scenario, minDramBytes), dev };
}

/** Where the hypervisor scenarios put guest RAM in the host's dram region (its page tables are at 16 MiB). */
export const GUEST_RAM_HOST_OFFSET = 0x4000_0000;

/**
 * What every scenario that runs the hypervisor model needs of the platform (besides the VMSA
 * translation, which its `translation: 'vmsa'` asks for): EL2, FEAT_S2FWB when `hyp.cmo=fwb`, and
 * a dram region in the linear map that holds `guestRamBytes` of guest RAM at GUEST_RAM_HOST_OFFSET.
 * Returns that region; a one-line UserError naming the key otherwise.
 */
export function hypervisorHost(sys: System, scenario: string, guestRamBytes: number): Region {
  const cfg = sys.cfg;
  if (!cfg.mmu.el2) throw new UserError(`mmu.el2: expected true (${scenario} runs a hypervisor at EL2, its guests under stage 2)`);
  if (cfg.hyp.cmo === 'fwb' && !cfg.mmu.featS2FWB) throw new UserError("hyp.cmo: 'fwb' needs FEAT_S2FWB, which this platform lacks (mmu.featS2FWB=false); use a platform that has it (grace)");
  const ram = sys.map.regions.find((r) => r.kind === 'dram' && r.linearMap);
  if (ram === undefined) throw new UserError(`memory.regions: ${scenario} needs a region of kind dram in the linear map (linearMap=true)`);
  return atLeast(ram, scenario, GUEST_RAM_HOST_OFFSET + guestRamBytes);
}
