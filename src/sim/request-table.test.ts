import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { RequestTable, ReqKind, ReqStatus } from './request-table.js';

describe('RequestTable', () => {
  it('allocates every slot once, then returns -1', () => {
    const t = new RequestTable(8);
    const ids: number[] = [];
    for (let i = 0; i < 8; i++) {
      const id = t.alloc(ReqKind.Read, 0x1000 + i * 64, 64, 0, 0, 0);
      expect(id).toBeGreaterThanOrEqual(0);
      expect(id).toBeLessThan(8);
      ids.push(id);
    }
    expect(new Set(ids).size).toBe(8);
    expect(t.inUse).toBe(8);
    expect(t.alloc(ReqKind.Read, 0, 64, 0, 0, 0)).toBe(-1);
    expect(t.alloc(ReqKind.Write, 0, 64, 0, 0, 0)).toBe(-1);
    expect(t.inUse).toBe(8);
  });

  it('fills the header on alloc, overwriting what the previous user left', () => {
    const t = new RequestTable(1);
    const a = t.alloc(ReqKind.Write, 2 ** 52 - 64, 32, 0x44, 3, 100);
    t.status[a] = ReqStatus.SlaveError; t.tag[a] = 77; t.doneAt[a] = 150;
    t.release(a);
    const b = t.alloc(ReqKind.Fetch, 0x8000_0000, 4, 0xff, 1, 200);
    expect(b).toBe(a);
    expect(t.kind[b]).toBe(ReqKind.Fetch);
    expect(t.status[b]).toBe(ReqStatus.Pending);
    expect(t.addr[b]).toBe(0x8000_0000);
    expect(t.size[b]).toBe(4);
    expect(t.attrs[b]).toBe(0xff);
    expect(t.source[b]).toBe(1);
    expect(t.tag[b]).toBe(0);
    expect(t.issuedAt[b]).toBe(200);
    expect(t.doneAt[b]).toBe(-1);
  });

  it('keeps a 52-bit physical address exact', () => {
    const t = new RequestTable(2);
    const pa = 2 ** 52 - 1 - 63; // top of a 52-bit PA space, line-aligned
    const id = t.alloc(ReqKind.Read, pa, 64, 0, 0, 0);
    expect(t.addr[id]).toBe(pa);
  });

  it('reuses a released slot', () => {
    const t = new RequestTable(3);
    const a = t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    const b = t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    const c = t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    expect(t.alloc(ReqKind.Read, 0, 8, 0, 0, 0)).toBe(-1);
    t.release(b);
    expect(t.inUse).toBe(2);
    expect(t.alloc(ReqKind.Read, 0, 8, 0, 0, 0)).toBe(b);
    t.release(a); t.release(c);
    const again = [t.alloc(ReqKind.Read, 0, 8, 0, 0, 0), t.alloc(ReqKind.Read, 0, 8, 0, 0, 0)];
    expect(new Set(again)).toEqual(new Set([a, c]));
    expect(t.alloc(ReqKind.Read, 0, 8, 0, 0, 0)).toBe(-1);
  });

  it('never hands out a slot that is in use, under random alloc/release', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 16 }), fc.array(fc.nat(), { maxLength: 200 }), (cap, script) => {
        const t = new RequestTable(cap, 8);
        const live = new Set<number>();
        for (const step of script) {
          if (step % 3 !== 0 || live.size === 0) {
            const id = t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
            if (live.size === cap) { expect(id).toBe(-1); continue; }
            expect(live.has(id)).toBe(false);
            expect(id).toBeGreaterThanOrEqual(0);
            expect(id).toBeLessThan(cap);
            live.add(id);
          } else {
            const victim = [...live][step % live.size]!;
            live.delete(victim);
            t.release(victim);
          }
          expect(t.inUse).toBe(live.size);
        }
      }),
    );
  });

  it('gives each request its own data slice', () => {
    const stride = 64;
    const t = new RequestTable(16, stride);
    expect(t.data.length).toBe(16 * stride);
    const ids: number[] = [];
    for (let i = 0; i < 16; i++) ids.push(t.alloc(ReqKind.Write, 0, stride, 0, 0, 0));
    // Fill each slice with its own id, then check that no write spilled into a neighbour.
    for (const id of ids) {
      const off = t.dataOffset(id);
      expect(off).toBeGreaterThanOrEqual(0);
      expect(off + stride).toBeLessThanOrEqual(t.data.length);
      t.data.fill(id + 1, off, off + stride);
    }
    for (const id of ids) {
      const slice = t.data.subarray(t.dataOffset(id), t.dataOffset(id) + stride);
      expect(slice.every((b) => b === id + 1)).toBe(true);
    }
    const starts = ids.map((id) => t.dataOffset(id)).sort((a, b) => a - b);
    for (let i = 1; i < starts.length; i++) expect(starts[i]! - starts[i - 1]!).toBeGreaterThanOrEqual(stride);
  });

  it('keeps data in a SharedArrayBuffer so a worker can see it', () => {
    const t = new RequestTable(2);
    expect(t.data.buffer).toBeInstanceOf(SharedArrayBuffer);
  });

  it('tracks the high-water mark of requests in flight', () => {
    const t = new RequestTable(8);
    expect(t.peakInUse).toBe(0);
    const a = t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    const b = t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    const c = t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    expect(t.peakInUse).toBe(3);
    t.release(a); t.release(b);
    expect(t.peakInUse).toBe(3); // a high-water mark does not drop
    t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    expect(t.peakInUse).toBe(3);
    t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    t.alloc(ReqKind.Read, 0, 8, 0, 0, 0);
    expect(t.inUse).toBe(4);
    expect(t.peakInUse).toBe(4);
    void c;
  });
});
