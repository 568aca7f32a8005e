/**
 * Int32 views of the buffers that byte arrays live in, so that copies between word-aligned byte
 * ranges can move 32-bit words: a quarter of the element copies, and the same bytes on any host
 * (a word copied from one Int32Array to another keeps its bytes in order, whatever the byte order).
 *
 * Views are kept per ArrayBuffer, not per Uint8Array, so the many small views of one scratch
 * arena (or of a request table's data) share one Int32Array; only buffers of at least MIN_BYTES
 * get a view, so a copy to or from a small standalone array simply stays byte-wise and never
 * allocates.
 *
 * The arrays asked about are remembered by identity, with their byte offset: `a.buffer` and
 * `a.byteOffset` are calls into the engine's runtime when the compiler does not inline them
 * (hundreds of nanoseconds per line copy on the miss path), while a steady state copies between
 * a handful of the same arrays. SLOTS arrays are remembered (round robin); a steady state that
 * alternates between at most SLOTS arrays allocates nothing and never asks the runtime.
 *
 * Use: `const w = views.of(a)`; when it is defined, word `((views.at + off) >>> 2)` of `w` is
 * byte `off` of `a` (`views.at` is `a.byteOffset`, set by that call), provided `views.at + off`
 * is a multiple of 4 (the caller checks).
 */
const MIN_BYTES = 4096;
const SLOTS = 8;
const NONE = new Int32Array(0);

export class WordViews {
  private readonly arrays: (Uint8Array | undefined)[] = new Array<Uint8Array | undefined>(SLOTS).fill(undefined);
  /** Per remembered array: its buffer's word view, or NONE when its buffer gets none. */
  private readonly views: Int32Array[] = new Array<Int32Array>(SLOTS).fill(NONE);
  private readonly offsets = new Int32Array(SLOTS);
  private next = 0;
  /** The byte offset of the array passed to the last `of()` that returned a view. */
  at = 0;

  /** An Int32Array over all of `a`'s buffer, or undefined when the buffer is small or not whole words. */
  of(a: Uint8Array): Int32Array | undefined {
    const arrays = this.arrays;
    for (let i = 0; i < SLOTS; i++) {
      if (arrays[i] === a) {
        const v = this.views[i]!;
        if (v === NONE) return undefined;
        this.at = this.offsets[i]!;
        return v;
      }
    }
    return this.add(a);
  }

  private add(a: Uint8Array): Int32Array | undefined {
    const b = a.buffer;
    // Another array over a remembered buffer shares its view.
    let v: Int32Array = NONE;
    for (let i = 0; i < SLOTS; i++) {
      if (this.arrays[i]?.buffer === b) { v = this.views[i]!; break; }
    }
    if (v === NONE && b.byteLength >= MIN_BYTES && b.byteLength % 4 === 0) v = new Int32Array(b);
    const i = this.next;
    this.next = (i + 1) % SLOTS;
    this.arrays[i] = a;
    this.views[i] = v;
    this.offsets[i] = a.byteOffset;
    if (v === NONE) return undefined;
    this.at = a.byteOffset;
    return v;
  }
}
