/**
 * Field access on SMMU records held as little-endian 32-bit words: word 2n = dword n bits [31:0],
 * word 2n+1 = dword n bits [63:32]. Bit numbers below are within a 64-bit dword, as the
 * architecture and the Linux masks (`GENMASK_ULL(h, l)`) give them. Address fields are kept in
 * place (bits [msb:lsb] of the dword, low bits zero) as numbers below 2^52 (STYLE §6: no `>>>`
 * on addresses, which would truncate to 32 bits).
 */

const TWO_32 = 4294967296;

/** Bits [lsb+width-1:lsb] of dword `dw` (width <= 32); may straddle bit 32. */
export function getField(w: ArrayLike<number>, dw: number, lsb: number, width: number): number {
  const lo = w[2 * dw]! >>> 0, hi = w[2 * dw + 1]! >>> 0;
  if (lsb >= 32) return width === 32 ? hi : ((hi >>> (lsb - 32)) % 2 ** width);
  if (lsb + width <= 32) return width === 32 ? lo : ((lo >>> lsb) % 2 ** width);
  const lowPart = lo >>> lsb, lowBits = 32 - lsb;
  const highPart = hi & (2 ** (width - lowBits) - 1);
  return (lowPart + highPart * 2 ** lowBits) >>> 0;
}

/** Writes `v` into bits [lsb+width-1:lsb] of dword `dw` (width <= 32). */
export function setField(w: Uint32Array, dw: number, lsb: number, width: number, v: number): void {
  const max = 2 ** width - 1;
  if (!Number.isInteger(v) || v < 0 || v > max) throw new RangeError(`field at dword ${dw} bit ${lsb}: ${v} does not fit in ${width} bits`);
  for (let i = 0; i < width; i++) {
    const bit = lsb + i, word = 2 * dw + (bit >= 32 ? 1 : 0), b = bit & 31;
    const on = Math.floor(v / 2 ** i) % 2 === 1;
    w[word] = on ? (w[word]! | (1 << b)) >>> 0 : (w[word]! & ~(1 << b)) >>> 0;
  }
}

export const getBit = (w: ArrayLike<number>, dw: number, bit: number): boolean => getField(w, dw, bit, 1) === 1;
export const setBit = (w: Uint32Array, dw: number, bit: number, on: boolean | number): void => setField(w, dw, bit, 1, on ? 1 : 0);

/** Bits [msb:lsb] of dword `dw` in place (the address the field names), as a number. */
export function getAddr(w: ArrayLike<number>, dw: number, msb: number, lsb: number): number {
  const lo = w[2 * dw]! >>> 0, hi = w[2 * dw + 1]! >>> 0;
  const hiMasked = msb >= 32 ? (msb >= 63 ? hi : hi % 2 ** (msb - 31)) : 0;
  const loMasked = msb >= 31 ? lo : lo % 2 ** (msb + 1);
  const v = hiMasked * TWO_32 + loMasked;
  return v - (v % 2 ** lsb);
}

/** Writes address `a` (must have zero bits outside [msb:lsb]) into bits [msb:lsb] of dword `dw`. */
export function setAddr(w: Uint32Array, dw: number, msb: number, lsb: number, a: number): void {
  if (!Number.isSafeInteger(a) || a < 0 || a % 2 ** lsb !== 0 || (msb < 52 && a >= 2 ** (msb + 1))) {
    throw new RangeError(`address 0x${a.toString(16)} does not fit bits [${msb}:${lsb}]`);
  }
  const hi = Math.floor(a / TWO_32), lo = a % TWO_32;
  // clear the field, then OR the value in
  for (let bit = lsb; bit <= msb; bit++) {
    const word = 2 * dw + (bit >= 32 ? 1 : 0), b = bit & 31;
    w[word] = (w[word]! & ~(1 << b)) >>> 0;
  }
  w[2 * dw] = (w[2 * dw]! | lo) >>> 0;
  w[2 * dw + 1] = (w[2 * dw + 1]! | hi) >>> 0;
}

/** A 64-bit value as halves; hi:lo. */
export interface Dword { lo: number; hi: number }

/** hi:lo bits [51:0] as a number. */
export const dwordToAddr52 = (lo: number, hi: number): number => (hi & 0xfffff) * TWO_32 + (lo >>> 0);
export const split64 = (n: number): Dword => ({ lo: n % TWO_32, hi: Math.floor(n / TWO_32) });

/** Parses a record's memory image: hex bytes in ascending address order (spaces, `0x`, `_` and `:` allowed). */
export function wordsFromHex(hex: string, bytes: number): Uint32Array {
  const clean = hex.replace(/0x/gi, '').replace(/[\s_:,]/g, '');
  if (!/^[0-9a-fA-F]*$/.test(clean)) throw new RangeError('hex: only hexadecimal digits are accepted');
  if (clean.length !== bytes * 2) throw new RangeError(`hex: expected ${bytes} bytes (${bytes * 2} hex digits), got ${clean.length / 2}`);
  const w = new Uint32Array(bytes / 4);
  for (let i = 0; i < bytes; i++) {
    const b = parseInt(clean.slice(2 * i, 2 * i + 2), 16);
    w[i >> 2] = (w[i >> 2]! | (b << (8 * (i & 3)))) >>> 0;
  }
  return w;
}

/** The memory image of `w` as hex bytes in ascending address order. */
export function hexFromWords(w: ArrayLike<number>): string {
  let s = '';
  for (let i = 0; i < w.length; i++) {
    const v = w[i]! >>> 0;
    for (let b = 0; b < 4; b++) s += ((v >>> (8 * b)) & 0xff).toString(16).padStart(2, '0');
  }
  return s;
}

export const hexAddr = (a: number): string => `0x${a.toString(16)}`;
