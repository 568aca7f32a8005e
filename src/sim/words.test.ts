import { describe, expect, it } from 'vitest';
import { WordViews } from './words.js';

describe('WordViews', () => {
  it('gives every view of one large buffer the same word view of the whole buffer', () => {
    const v = new WordViews();
    const buf = new ArrayBuffer(8192);
    const a = new Uint8Array(buf, 256, 64), b = new Uint8Array(buf, 512, 64);
    const wa = v.of(a);
    expect(wa).toBeInstanceOf(Int32Array);
    expect(wa!.buffer).toBe(buf);
    expect(wa!.length).toBe(2048);
    expect(v.of(b)).toBe(wa);                             // per buffer, not per view: no new view
    // Word (byteOffset + off) / 4 of the view is byte off of the array.
    wa![(b.byteOffset + 4) >>> 2] = 0x04030201;
    const le = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;
    expect(Array.from(b.subarray(4, 8))).toEqual(le ? [1, 2, 3, 4] : [4, 3, 2, 1]);
  });

  it('works for shared buffers and gives none for small or ragged buffers', () => {
    const v = new WordViews();
    expect(v.of(new Uint8Array(new SharedArrayBuffer(4096)))).toBeInstanceOf(Int32Array);
    expect(v.of(new Uint8Array(256))).toBeUndefined();
    expect(v.of(new Uint8Array(4098))).toBeUndefined();
  });

  it('keeps views of up to four buffers without making them again', () => {
    const v = new WordViews();
    const arrays = [0, 1, 2, 3].map(() => new Uint8Array(4096));
    const first = arrays.map((a) => v.of(a));
    for (let round = 0; round < 3; round++) arrays.forEach((a, i) => expect(v.of(a)).toBe(first[i]));
    const fifth = new Uint8Array(4096);
    const w5 = v.of(fifth)!;
    expect(w5.buffer).toBe(fifth.buffer);
    expect(v.of(arrays[0]!)!.buffer).toBe(arrays[0]!.buffer);   // made again after being replaced, still right
  });
});
