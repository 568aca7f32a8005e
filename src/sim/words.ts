/**
 * Int32 views of the buffers that byte arrays live in, so that copies between word-aligned byte
 * ranges can move 32-bit words: a quarter of the element copies, and the same bytes on any host
 * (a word copied from one Int32Array to another keeps its bytes in order, whatever the byte order).
 *
 * Views are kept per ArrayBuffer, not per Uint8Array, so the many small views of one scratch
 * arena (or of a request table's data) share one Int32Array; only buffers of at least MIN_BYTES
 * get a view, so a copy to or from a small standalone array simply stays byte-wise and never
 * allocates. A few buffers are remembered (round robin): a steady state that alternates between
 * at most SLOTS large buffers allocates nothing.
 *
 * Use: `const w = views.of(a)`; when it is defined, word `((a.byteOffset + off) >>> 2)` of `w` is
 * byte `off` of `a`, provided `a.byteOffset + off` is a multiple of 4 (the caller checks).
 */
const MIN_BYTES = 4096;
const SLOTS = 4;

export class WordViews {
  private readonly bufs: (ArrayBufferLike | undefined)[] = new Array<ArrayBufferLike | undefined>(SLOTS).fill(undefined);
  private readonly views: Int32Array[] = new Array<Int32Array>(SLOTS).fill(new Int32Array(0));
  private next = 0;

  /** An Int32Array over all of `a`'s buffer, or undefined when the buffer is small or not whole words. */
  of(a: Uint8Array): Int32Array | undefined {
    const b = a.buffer, bufs = this.bufs;
    if (b === bufs[0]) return this.views[0];
    if (b === bufs[1]) return this.views[1];
    if (b === bufs[2]) return this.views[2];
    if (b === bufs[3]) return this.views[3];
    return this.add(b);
  }

  private add(b: ArrayBufferLike): Int32Array | undefined {
    if (b.byteLength < MIN_BYTES || b.byteLength % 4 !== 0) return undefined;
    const i = this.next;
    this.next = (i + 1) % SLOTS;
    const v = new Int32Array(b);
    this.bufs[i] = b;
    this.views[i] = v;
    return v;
  }
}
