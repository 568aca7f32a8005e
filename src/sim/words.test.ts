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
    expect(v.at).toBe(256);                                // the array's byte offset, remembered with it
    expect(v.of(b)).toBe(wa);                             // per buffer, not per view: no new view
    expect(v.at).toBe(512);
    expect(v.of(a)).toBe(wa);
    expect(v.at).toBe(256);                                // a remembered array brings its own offset back
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
    const small = new Uint8Array(64);
    expect(v.of(small)).toBeUndefined();
    expect(v.of(small)).toBeUndefined();                  // remembered as having none
  });

  it('keeps views of up to eight arrays without making them again', () => {
    const v = new WordViews();
    const arrays = [0, 1, 2, 3, 4, 5, 6, 7].map(() => new Uint8Array(4096));
    const first = arrays.map((a) => v.of(a));
    for (let round = 0; round < 3; round++) arrays.forEach((a, i) => expect(v.of(a)).toBe(first[i]));
    const ninth = new Uint8Array(4096);
    const w9 = v.of(ninth)!;
    expect(w9.buffer).toBe(ninth.buffer);
    expect(v.of(arrays[0]!)!.buffer).toBe(arrays[0]!.buffer);   // made again after being replaced, still right
  });
});
