import { describe, expect, it } from 'vitest';
import { EventQueue } from '../sim/index.js';
import { NORMAL_NC_OSH, NORMAL_WB_RWA_ISH, NORMAL_WB_RWA_NSH, SparseMemory } from '../mem/index.js';
import { resolveSmmuConfig } from './config.js';
import { DmaMaster, resolveDmaConfig } from './dma.js';
import { SmmuHost } from './host.js';
import { PathMemory, isCoherentAccess } from './memory.js';

describe('PathMemory', () => {
  it('coherent only with COHACC and Normal WB shareable attributes', () => {
    expect(isCoherentAccess(true, NORMAL_WB_RWA_ISH)).toBe(true);
    expect(isCoherentAccess(false, NORMAL_WB_RWA_ISH)).toBe(false);
    expect(isCoherentAccess(true, NORMAL_NC_OSH)).toBe(false);
    expect(isCoherentAccess(true, NORMAL_WB_RWA_NSH)).toBe(false);
  });

  it('sends each access down the path its attributes choose, and aborts what no region decodes', () => {
    const coh = new SparseMemory({ base: 0, size: 2 ** 20, chunkBytes: 4096 }), mem = new SparseMemory({ base: 0, size: 2 ** 20, chunkBytes: 4096 });
    coh.write(0x100, Uint8Array.of(1), 0, 1);
    mem.write(0x100, Uint8Array.of(2), 0, 1);
    const p = new PathMemory(true, coh, mem, (pa, len) => pa + len <= 2 ** 20);
    const b = new Uint8Array(1);
    p.readBytes(0x100, b, 0, 1, NORMAL_WB_RWA_ISH); expect(b[0]).toBe(1);
    p.readBytes(0x100, b, 0, 1, NORMAL_NC_OSH); expect(b[0]).toBe(2);
    expect(p.readBytes(2 ** 20, b, 0, 1)).toBe(false);
    expect(p.stats).toMatchObject({ coherentReads: 1, nonCoherentReads: 1, aborts: 1 });
  });
});

describe('DmaMaster', () => {
  it('a fill in bypass runs beat by beat on the queue: translate + beat cycles each, data written at the end of each translation', () => {
    const q = new EventQueue(64);
    const store = new SparseMemory({ base: 0, size: 2 ** 24, chunkBytes: 4096 });
    const mem = new PathMemory(true, store, store);
    const cfg = resolveDmaConfig({ translateCycles: 8, descriptorReadCycles: 60, beatCycles: 4 });
    const host = new SmmuHost(q, mem, resolveSmmuConfig({}), cfg, { threads: 0 });   // SMMUEN=0, GBPA: bypass
    const d = new DmaMaster('dma', q, host, mem, cfg);
    const job = d.submit({ op: 'fill', streamId: 0, dst: 0x1000 - 32, bytes: 160, value: 0xab });
    const sum = d.submit({ op: 'checksum', streamId: 0, src: 0x1000 - 32, bytes: 160 });
    q.runUntil(1e9);
    // Beats: 32 (to the line end, which is also the page end), 64, 64.
    expect(job).toMatchObject({ status: 'done', bytesDone: 160, translations: 3, startCycle: 0, endCycle: 3 * (8 + 4) });
    expect(sum).toMatchObject({ status: 'done', bytesDone: 160, startCycle: 36, endCycle: 72 });
    expect(sum.data.slice(0, 160).every((v) => v === 0xab)).toBe(true);
    expect(d.stats).toMatchObject({ jobs: 2, beats: 6, bytesWritten: 160, bytesRead: 160, faults: 0 });
    expect(d.busy).toBe(false);
  });

  it('rejects bad config values with the field name', () => {
    expect(() => resolveDmaConfig({ beatBytes: 48 })).toThrow(/^beatBytes:/);
  });
});
