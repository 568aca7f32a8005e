/**
 * Configuration machinery: a named preset (plain typed data) plus overrides from a JSON/YAML file
 * (`--config file`) and `--set a.b.c=value` pairs, validated once by a zod schema and frozen.
 *
 * Contract for schema authors:
 * - Use `z.strictObject` (or `z.looseObject` where free-form keys are intended) for every object:
 *   `resolveConfig` refuses a schema containing a plain `z.object`, which would drop a typo silently.
 * - Custom messages (refinements, `error:` options) are phrased to follow the dotted path, e.g.
 *   `must be a multiple of lineBytes (got 48)`; the path and the root name are added here.
 * - Sizes and addresses use `zSize`/`zAddress`, so users may write `64GiB` or `0x8000_0000`.
 *
 * Every problem with user input becomes one UserError line: `config: dram.channels must be an
 * integer from 1 to 16 (got 0)`, prefixed with `file:line:` when the bad value came from a file.
 */
import * as z from 'zod';
import { readFileSync } from 'node:fs';
import { LineCounter, parseDocument, isAlias, isMap, isScalar, isSeq } from 'yaml';
import type { Document, Node as YamlNode } from 'yaml';
import { UserError } from './errors.js';

// ---------------------------------------------------------------------------------------------
// Sizes and addresses

const KiB = 1024;
const UNIT: Readonly<Record<string, number>> = {
  '': 1, b: 1,
  k: KiB, ki: KiB, kib: KiB,
  m: KiB ** 2, mi: KiB ** 2, mib: KiB ** 2,
  g: KiB ** 3, gi: KiB ** 3, gib: KiB ** 3,
  t: KiB ** 4, ti: KiB ** 4, tib: KiB ** 4,
  p: KiB ** 5, pi: KiB ** 5, pib: KiB ** 5,
};
const SIZE_RE = /^(?:0x([0-9a-f]+(?:_[0-9a-f]+)*)|(\d+(?:_\d+)*)(\.\d+)?\s*([a-z]*))$/i;

/**
 * Parses a byte count or address: `4096`, `4_096`, `0x8000_0000`, `64GiB`, `32KiB`, `1.5MiB`,
 * `4G` (K/M/G/T/P, with or without `i`/`iB`, are powers of 1024). `KB`/`MB`/`GB` are refused as
 * ambiguous (1000 or 1024?). Returns NaN unless the result is an exact non-negative safe integer.
 */
export function parseSize(v: string): number {
  const m = SIZE_RE.exec(v.trim());
  if (m === null) return NaN;
  if (m[1] !== undefined) {
    const digits = m[1].replace(/_/g, '').replace(/^0+(?=.)/, '');
    if (digits.length > 14) return NaN;               // > 2^56: certainly not a safe integer
    const n = parseInt(digits, 16);
    return Number.isSafeInteger(n) ? n : NaN;
  }
  const unit = UNIT[m[4]!.toLowerCase()];
  if (unit === undefined) return NaN;
  if (m[3] !== undefined && m[4] === '') return NaN;  // '1.5' bytes
  const n = Number(m[2]!.replace(/_/g, '') + (m[3] ?? '')) * unit;
  return Number.isSafeInteger(n) ? n : NaN;
}

/** `65536` → `64KiB`, `4097` → `4097`: the shortest exact binary-unit spelling. */
function formatSize(n: number): string {
  for (const [u, mult] of [['PiB', KiB ** 5], ['TiB', KiB ** 4], ['GiB', KiB ** 3], ['MiB', KiB ** 2], ['KiB', KiB]] as const) {
    if (n >= mult && n % mult === 0) return `${n / mult}${u}`;
  }
  return String(n);
}

const PA_LIMIT = 2 ** 52;

function sizeLike(accepted: string, max: number): z.ZodType<number, number | string> {
  const error = (iss: { input?: unknown }): string => mustBe(accepted, iss.input);
  return z.union([z.number(), z.string()], { error }).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : parseSize(v);
    if (!Number.isSafeInteger(n) || n < 0 || n > max) {
      ctx.issues.push({ code: 'custom', message: mustBe(accepted, v), input: v });
      return z.NEVER;
    }
    return n;
  });
}

/** A byte count: a non-negative integer, or a string such as `64GiB` or `0x1000`. */
export const zSize: z.ZodType<number, number | string> =
  sizeLike(`a size in bytes (an integer, or a string such as '64GiB' or '0x1000')`, Number.MAX_SAFE_INTEGER);

/** A physical address below 2^52: a non-negative integer, or a string such as `0x8000_0000`. */
export const zAddress: z.ZodType<number, number | string> =
  sizeLike(`an address below 2^52 (an integer, or a string such as '0x8000_0000')`, PA_LIMIT - 1);

function rangeText(min: number, max: number, fmt: (n: number) => string): string {
  return max >= Number.MAX_SAFE_INTEGER ? `of at least ${fmt(min)}` : `from ${fmt(min)} to ${fmt(max)}`;
}

/** An integer in [min, max]. */
export function zInt(min: number, max: number): z.ZodNumber {
  if (!(min <= max)) throw new RangeError(`zInt: empty range ${min}..${max}`);
  const accepted = `an integer ${rangeText(min, max, String)}`;
  return z.number({ error: (iss) => mustBe(accepted, iss.input) }).int().min(min).max(max);
}

/** A power of two in [min, max]; accepts size strings too (`32KiB`), since most are sizes. */
export function zPow2(min: number, max: number): z.ZodType<number, number | string> {
  if (!(min <= max)) throw new RangeError(`zPow2: empty range ${min}..${max}`);
  const fmt = (n: number): string => (n >= KiB ? formatSize(n) : String(n));
  const accepted = `a power of two ${rangeText(min, max, fmt)}`;
  const error = (iss: { input?: unknown }): string => mustBe(accepted, iss.input);
  return z.union([z.number(), z.string()], { error }).transform((v, ctx) => {
    const n = typeof v === 'number' ? v : parseSize(v);
    if (!(Number.isSafeInteger(n) && n >= min && n <= max && n > 0 && isPow2(n))) {
      ctx.issues.push({ code: 'custom', message: mustBe(accepted, v), input: v });
      return z.NEVER;
    }
    return n;
  });
}

function isPow2(n: number): boolean {
  while (n > 1) { if (n % 2 !== 0) return false; n /= 2; }
  return n === 1;
}

// ---------------------------------------------------------------------------------------------
// Files

interface Source { value: unknown; lineOf(path: readonly PropertyKey[]): number | undefined }

/** Reads a `.json`, `.yaml` or `.yml` config file. UserError naming the file (and line) if it can't. */
export function loadConfigFile(path: string): unknown {
  return loadSource(path).value;
}

function loadSource(path: string): Source {
  const ext = /\.(json|ya?ml)$/i.exec(path)?.[1]?.toLowerCase();
  if (ext === undefined) throw new UserError(`${path}: config files must end in .json, .yaml or .yml`);
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (e) {
    throw new UserError(`${path}: cannot read config file (${ioReason(e)})`);
  }
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  if (ext === 'json') {
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch (e) {
      const { reason, pos } = jsonError(text, e);
      throw new UserError(`${path}${pos === undefined ? '' : lineCol(text, pos)}: invalid JSON: ${reason}`);
    }
    return { value, lineOf: yamlLines(text) };   // JSON is YAML: reuse its node positions
  }
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const err = doc.errors[0];
  if (err !== undefined) {
    const at = lc.linePos(err.pos[0]);
    throw new UserError(`${path}:${at.line}:${at.col}: invalid YAML: ${firstLine(err.message)}`);
  }
  let value: unknown;
  try {
    value = doc.toJS({ maxAliasCount: 1000 });
  } catch (e) {
    throw new UserError(`${path}: invalid YAML: ${firstLine(e instanceof Error ? e.message : String(e))}`);
  }
  return { value, lineOf: (p) => nodeLine(doc, lc, p) };
}

function ioReason(e: unknown): string {
  const code = (e as { code?: unknown } | null)?.code;
  switch (code) {
    case 'ENOENT': return 'no such file';
    case 'EACCES': case 'EPERM': return 'permission denied';
    case 'EISDIR': return 'it is a directory';
    default: return typeof code === 'string' ? code : firstLine(e instanceof Error ? e.message : String(e));
  }
}

function firstLine(s: string): string {
  return (s.split('\n')[0] ?? '').replace(/ at line \d+, column \d+:?$/, '').replace(/:$/, '').trim();
}

/** V8's JSON.parse message and, when it can be found, the offset of the offending character. */
function jsonError(text: string, e: unknown): { reason: string; pos?: number } {
  const msg = e instanceof Error ? e.message : String(e);
  const at = / in JSON at position (\d+)/.exec(msg);
  if (at !== null) return { reason: firstLine(msg.slice(0, at.index)), pos: Number(at[1]) };
  const tok = /^(Unexpected token '.*?'), .* is not valid JSON$/s.exec(msg);
  if (tok === null) return { reason: firstLine(msg) };
  // Node 20 names the token but not its place. A prefix that stops before the bad token fails in a
  // different way (end of input), so the shortest prefix that fails the same way ends just after it.
  let lo = 0, hi = text.length;
  while (lo < hi) {
    const mid = Math.floor((lo + hi) / 2);
    let same = false;
    try { JSON.parse(text.slice(0, mid + 1)); } catch (e2) { same = e2 instanceof Error && e2.message.startsWith(tok[1]!); }
    if (same) hi = mid; else lo = mid + 1;
  }
  return { reason: tok[1]!, pos: lo };
}

function lineCol(text: string, pos: number): string {
  let line = 1, start = 0;
  for (let i = 0; i < pos && i < text.length; i++) if (text.charCodeAt(i) === 10) { line++; start = i + 1; }
  return `:${line}:${pos - start + 1}`;
}

function yamlLines(text: string): Source['lineOf'] {
  const lc = new LineCounter();
  let doc: Document | undefined;
  try {
    doc = parseDocument(text, { lineCounter: lc });
    if (doc.errors.length > 0) doc = undefined;
  } catch { doc = undefined; }
  return (p) => (doc === undefined ? undefined : nodeLine(doc, lc, p));
}

/** Line of the key (for a mapping entry) or item at `path`, walking the YAML node tree. */
function nodeLine(doc: Document, lc: LineCounter, path: readonly PropertyKey[]): number | undefined {
  let node: unknown = doc.contents;
  let at: [number, number, number] | null | undefined = (node as YamlNode | null)?.range;
  for (const seg of path) {
    if (isAlias(node)) node = node.resolve(doc);
    if (isMap(node)) {
      const pair = node.items.find((p) => String(isScalar(p.key) ? p.key.value : p.key) === String(seg));
      if (pair === undefined) break;
      at = (pair.key as YamlNode | null)?.range ?? at;
      node = pair.value;
    } else if (isSeq(node)) {
      const item = node.items[Number(seg)] as YamlNode | undefined;
      if (item === undefined) break;
      at = item.range ?? at;
      node = item;
    } else break;
  }
  return at ? lc.linePos(at[0]).line : undefined;
}

// ---------------------------------------------------------------------------------------------
// Merging and --set

type Path = readonly PropertyKey[];
/** Where a leaf value came from: `file` or `file:line`. Keyed by `pathKey`. */
type Origins = Map<string, string>;

function isPlainObject(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== 'object' || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v) as unknown;
  return proto === Object.prototype || proto === null;
}

function getOwn(o: Record<string, unknown>, k: string): unknown {
  return Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined;
}

/** Sets an own data property even for `__proto__`, so config keys can never touch a prototype. */
function setOwn(o: Record<string, unknown> | unknown[], k: string | number, v: unknown): void {
  Object.defineProperty(o, k, { value: v, writable: true, enumerable: true, configurable: true });
}

/** A deep copy of plain objects and arrays; anything else is shared. */
function clonePlain(v: unknown): unknown {
  if (Array.isArray(v)) return v.map(clonePlain);
  if (isPlainObject(v)) {
    const out: Record<string, unknown> = {};
    for (const k of Object.keys(v)) setOwn(out, k, clonePlain(v[k]));
    return out;
  }
  return v;
}

const pathKey = (p: Path): string => JSON.stringify(p.map(String));

/** Merges `src` into `dst` in place: plain objects merge key by key, anything else replaces. */
function mergeInto(dst: Record<string, unknown>, src: Record<string, unknown>, at: PropertyKey[], origins?: Origins, origin?: (p: Path) => string): void {
  for (const k of Object.keys(src)) {
    const sv = src[k], dv = getOwn(dst, k);
    at.push(k);
    if (isPlainObject(sv) && isPlainObject(dv)) {
      mergeInto(dv, sv, at, origins, origin);
    } else {
      setOwn(dst, k, clonePlain(sv));
      if (origins !== undefined) { forgetOrigins(origins, at); recordOrigins(origins, sv, at, origin!); }
    }
    at.pop();
  }
}

function recordOrigins(origins: Origins, v: unknown, at: PropertyKey[], origin: (p: Path) => string): void {
  const keys = Array.isArray(v) ? v.keys() : isPlainObject(v) ? Object.keys(v).values() : undefined;
  let any = false;
  if (keys !== undefined) {
    for (const k of keys) {
      any = true;
      at.push(k);
      recordOrigins(origins, (v as Record<PropertyKey, unknown>)[k], at, origin);
      at.pop();
    }
  }
  if (!any) origins.set(pathKey(at), origin(at));
}

/** Forgets origins at `p`, below it, and at its prefixes (a value set there no longer came from the file). */
function forgetOrigins(origins: Origins, p: Path): void {
  if (origins.size === 0) return;
  const key = pathKey(p);
  const below = key.slice(0, -1) + ',';
  for (const k of [...origins.keys()]) if (k === key || k.startsWith(below)) origins.delete(k);
  for (let i = 0; i < p.length; i++) origins.delete(pathKey(p.slice(0, i)));
}

/**
 * Applies one `--set a.b.c=value` to `target` in place. The value is parsed as JSON when that works
 * (numbers, booleans, null, arrays, objects, quoted strings), else taken as the raw string, so
 * `dram.scheduler=fcfs` and `mem.size=64GiB` work. An object value merges into an existing object.
 * Missing intermediate objects are created; a numeric segment indexes an array (up to its length).
 */
export function applySet(target: Record<string, unknown>, assignment: string, root = 'config'): void {
  applySetAt(target, assignment, root);
}

function applySetAt(target: Record<string, unknown>, assignment: string, root: string): string[] {
  const eq = assignment.indexOf('=');
  const key = eq < 0 ? '' : assignment.slice(0, eq).trim();
  const segs = key.split('.');
  if (eq < 0 || segs.some((s) => s.trim() === '')) throw new UserError(`--set: expected key=value (got ${quote(assignment)})`);
  const raw = assignment.slice(eq + 1).trim();
  let value: unknown;
  try { value = JSON.parse(raw); } catch { value = raw; }

  const path = segs.map((s) => s.trim());
  let node: Record<string, unknown> | unknown[] = target;
  for (let i = 0; i < path.length; i++) {
    const seg = path[i]!;
    const last = i === path.length - 1;
    const here = dotted(path.slice(0, i + 1));
    let k: string | number = seg;
    if (Array.isArray(node)) {
      if (!/^\d+$/.test(seg)) throw new UserError(`${root}: cannot set '${key}': '${dotted(path.slice(0, i))}' is a list, so '${seg}' must be an index`);
      k = Number(seg);
      if (k > node.length) throw new UserError(`${root}: cannot set '${key}': '${here}' is past the end of a list of ${node.length}`);
    }
    const cur: unknown = Array.isArray(node) ? node[k as number] : getOwn(node, seg);
    if (last) {
      if (isPlainObject(value) && isPlainObject(cur)) mergeInto(cur, value, []);
      else setOwn(node, k, value);
    } else if (isPlainObject(cur) || Array.isArray(cur)) {
      node = cur;
    } else if (cur === undefined) {
      const fresh: Record<string, unknown> = {};
      setOwn(node, k, fresh);
      node = fresh;
    } else {
      throw new UserError(`${root}: cannot set '${key}': '${here}' is not an object (it is ${show(cur)})`);
    }
  }
  return path;
}

// ---------------------------------------------------------------------------------------------
// Validation and messages

/**
 * Deep-merges the file and `--set` overrides onto a copy of `base`, validates the result with
 * `schema`, and returns it deep-frozen. Any problem with the user's input throws a one-line
 * UserError; only the first problem (by path) is named, followed by `(and N more)`.
 */
export function resolveConfig<T>(schema: z.ZodType<T>, base: unknown, opts: { file?: string; sets?: readonly string[]; root?: string }): T {
  const root = opts.root ?? 'config';
  assertStrictSchema(schema);
  const merged = clonePlain(base);
  const origins: Origins = new Map();
  let fileLine: Source['lineOf'] | undefined;
  if (opts.file !== undefined || (opts.sets?.length ?? 0) > 0) {
    if (!isPlainObject(merged)) throw new TypeError(`resolveConfig: the base ${root} must be a plain object`);
    if (opts.file !== undefined) {
      const file = opts.file;
      const src = loadSource(file);
      fileLine = src.lineOf;
      if (src.value !== null && src.value !== undefined) {   // an empty file overrides nothing
        if (!isPlainObject(src.value)) throw new UserError(`${file}: ${root}: the file must hold a mapping of keys at the top level (got ${show(src.value)})`);
        mergeInto(merged, src.value, [], origins, () => file);
      }
    }
    for (const s of opts.sets ?? []) forgetOrigins(origins, applySetAt(merged, s, root));
  }

  const r = schema.safeParse(merged, { reportInput: true, error: errorMap });
  if (r.success) return deepFreeze(r.data);

  const flat: Flat[] = [];
  flatten(r.error.issues, [], flat);
  flat.sort((a, b) => comparePaths(a.path, b.path));
  const seen = new Set<string>();
  const uniq = flat.filter((f) => (seen.has(f.text) ? false : (seen.add(f.text), true)));
  const first = uniq[0] ?? { path: [], text: 'is not valid' };
  let where = '';
  for (let n = first.path.length; n >= 0; n--) {
    const file = origins.get(pathKey(first.path.slice(0, n)));
    if (file !== undefined) {
      const line = fileLine?.(first.path);
      where = `${file}${line === undefined ? '' : `:${line}`}: `;
      break;
    }
  }
  const more = uniq.length > 1 ? ` (and ${uniq.length - 1} more)` : '';
  throw new UserError(`${where}${root}: ${first.text}${more}`);
}

interface Flat { path: PropertyKey[]; text: string }

/** Marks messages that `flatten` completes, because only it knows the full path. */
const KEYS = '\u0000keys:';
const UNION = '\u0000union';

type RawIssue = z.core.$ZodRawIssue;
type Issue = z.core.$ZodIssue;

const errorMap: z.core.$ZodErrorMap = (iss) => {
  if (iss.code === 'unrecognized_keys') {
    const shape = (iss.inst as { _zod?: { def?: { shape?: object } } } | undefined)?._zod?.def?.shape;
    return KEYS + JSON.stringify(shape ? Object.keys(shape) : []);
  }
  if (iss.code === 'invalid_union' && !('discriminator' in iss && iss.discriminator !== undefined) && iss.errors.length > 0) return UNION;
  return tail(iss);
};

/** The message after the path: `must be <accepted> (got <input>)`, or `is missing; expected <accepted>`. */
function tail(iss: RawIssue | Issue): string {
  const input = iss.input;
  switch (iss.code) {
    case 'invalid_type':
      if (iss.expected === 'never') return `is not allowed here (got ${show(input)})`;
      return mustBe(TYPE_NAMES[iss.expected] ?? `a ${iss.expected}`, input);
    case 'too_small':
    case 'too_big': {
      const small = iss.code === 'too_small';
      const bound = Number(small ? iss.minimum : iss.maximum);
      const exact = 'exact' in iss && iss.exact === true;
      const cmp = exact ? 'exactly' : iss.inclusive ? (small ? 'at least' : 'at most') : (small ? 'more than' : 'fewer than');
      switch (iss.origin) {
        case 'array': case 'set':
          return `must have ${cmp} ${bound} item${bound === 1 ? '' : 's'} (got ${countOf(input)})`;
        case 'string':
          if (small && bound === 1 && !exact) return mustBe('a non-empty string', input);
          return `must be ${cmp} ${bound} character${bound === 1 ? '' : 's'} long (got ${show(input)})`;
        default: {
          const rel = exact ? 'exactly' : iss.inclusive ? (small ? 'at least' : 'at most') : (small ? 'greater than' : 'less than');
          const noun = iss.origin === 'int' ? 'an integer ' : '';
          return mustBe(`${noun}${rel} ${bound}`, input);
        }
      }
    }
    case 'not_multiple_of':
      return mustBe(`a multiple of ${String(iss.divisor)}`, input);
    case 'invalid_value':
      return mustBe(iss.values.length === 1 ? literal(iss.values[0]) : `one of ${iss.values.map(plain).join(', ')}`, input);
    case 'invalid_format': {
      const f = iss as { format: string; pattern?: string; prefix?: string; suffix?: string; includes?: string };
      if (f.format === 'regex') return mustBe(`a string matching ${f.pattern ?? 'the pattern'}`, input);
      if (f.format === 'starts_with') return mustBe(`a string starting with ${quote(f.prefix ?? '')}`, input);
      if (f.format === 'ends_with') return mustBe(`a string ending with ${quote(f.suffix ?? '')}`, input);
      if (f.format === 'includes') return mustBe(`a string containing ${quote(f.includes ?? '')}`, input);
      return mustBe(`a valid ${f.format}`, input);
    }
    case 'invalid_union':
      if ('discriminator' in iss && typeof iss.discriminator === 'string') {
        const options = (iss as { options?: unknown[] }).options ?? [];
        const v = isPlainObject(input) ? getOwn(input, iss.discriminator) : input;
        return mustBe(`one of ${options.map(plain).join(', ')}`, v);
      }
      return `does not match any accepted form (got ${show(input)})`;
    case 'invalid_key':
      return `is not an accepted key: ${iss.issues[0] ? tail(iss.issues[0]) : 'invalid'}`;
    case 'invalid_element':
      return iss.issues[0] ? tail(iss.issues[0]) : `is not valid (got ${show(input)})`;
    case 'unrecognized_keys':
      return `has unknown keys ${iss.keys.map(quote).join(', ')}`;
    case 'custom':
    default:
      return `is not valid (got ${show(input)})`;
  }
}

const TYPE_NAMES: Readonly<Record<string, string>> = {
  number: 'a number', int: 'an integer', string: 'a string', boolean: 'true or false',
  object: 'an object', record: 'an object', array: 'a list', tuple: 'a list', null: 'null',
  bigint: 'an integer', undefined: 'absent', nan: 'NaN', date: 'a date', map: 'a map', set: 'a set',
  nonoptional: 'a value', function: 'a function', symbol: 'a symbol',
};

function flatten(issues: readonly Issue[], prefix: readonly PropertyKey[], out: Flat[]): void {
  for (const iss of issues) {
    const path = [...prefix, ...iss.path];
    if (iss.code === 'unrecognized_keys' && iss.message.startsWith(KEYS)) {
      const accepted = JSON.parse(iss.message.slice(KEYS.length)) as string[];
      for (const k of iss.keys) {
        const hint = closest(k, accepted);
        const keyPath = [...path, k];
        out.push({ path: keyPath, text: `unknown key '${dotted(keyPath)}' (accepted: ${accepted.join(', ') || 'none'})${hint ? `; did you mean '${hint}'?` : ''}` });
      }
    } else if (iss.code === 'invalid_union' && iss.message === UNION) {
      flattenUnion(iss, path, out);
    } else if (iss.code === 'invalid_key') {
      out.push({ path, text: `key '${dotted(path)}' ${iss.message}` });
    } else {
      out.push({ path, text: `${path.length === 0 ? '' : dotted(path) + ' '}${iss.message}` });
    }
  }
}

/**
 * A union failed every branch. If some branch accepted the value's shape (its errors are deeper
 * than the union itself, or are unknown keys), report that branch; otherwise say what each branch
 * accepts: `must be false or an object (got 3)`.
 */
function flattenUnion(iss: Extract<Issue, { code: 'invalid_union' }>, path: PropertyKey[], out: Flat[]): void {
  let best: readonly Issue[] | undefined;
  for (const branch of iss.errors) {
    const shaped = branch.some((b) => b.path.length > 0 || b.code === 'unrecognized_keys');
    if (shaped && (best === undefined || branch.length < best.length)) best = branch;
  }
  if (best !== undefined) { flatten(best, path, out); return; }
  const accepted: string[] = [];
  for (const branch of iss.errors) {
    const m = /^(?:must be (.*) \(got .*\)|is missing; expected (.*))$/s.exec(branch[0]?.message ?? '');
    if (m === null) { accepted.length = 0; break; }
    const what = m[1] ?? m[2]!;
    if (!accepted.includes(what)) accepted.push(what);
  }
  const what = accepted.length > 0
    ? mustBe(accepted.length === 1 ? accepted[0]! : `${accepted.slice(0, -1).join(', ')} or ${accepted[accepted.length - 1]!}`, iss.input)
    : `does not match any accepted form (got ${show(iss.input)})`;
  out.push({ path, text: `${path.length === 0 ? '' : dotted(path) + ' '}${what}` });
}

function mustBe(accepted: string, input: unknown): string {
  return input === undefined ? `is missing; expected ${accepted}` : `must be ${accepted} (got ${show(input)})`;
}

/** A value as the user would have written it, short and on one line. */
function show(v: unknown): string {
  if (typeof v === 'string') return quote(v);
  if (typeof v === 'bigint') return `${v}n`;
  if (typeof v === 'function') return 'a function';
  if (v === undefined) return 'nothing';
  if (v !== null && typeof v === 'object') {
    let s: string | undefined;
    try { s = JSON.stringify(v); } catch { s = undefined; }
    if (s === undefined) return Array.isArray(v) ? 'a list' : 'an object';
    return s.length > 60 ? s.slice(0, 57) + '...' : s;
  }
  return String(v);
}

function quote(s: string): string {
  const esc = JSON.stringify(s).slice(1, -1).replace(/\\"/g, '"');
  return `'${esc.length > 60 ? esc.slice(0, 57) + '...' : esc}'`;
}

function plain(v: unknown): string { return typeof v === 'string' ? v : show(v); }
function literal(v: unknown): string { return typeof v === 'string' ? quote(v) : show(v); }
function countOf(v: unknown): string { return Array.isArray(v) ? `${v.length}` : show(v); }

/** `dram.channels`, `cores.0.l1d`, `regions["a.b"]`. */
function dotted(path: readonly PropertyKey[]): string {
  let s = '';
  for (const seg of path) {
    const k = String(seg);
    if (/^[A-Za-z0-9_$-]+$/.test(k)) s += (s === '' ? '' : '.') + k;
    else s += `[${JSON.stringify(k)}]`;
  }
  return s;
}

function comparePaths(a: readonly PropertyKey[], b: readonly PropertyKey[]): number {
  for (let i = 0; i < a.length && i < b.length; i++) {
    const x = a[i]!, y = b[i]!;
    if (x === y) continue;
    if (typeof x === 'number' && typeof y === 'number') return x - y;
    const sx = String(x), sy = String(y);
    if (sx !== sy) return sx < sy ? -1 : 1;
  }
  return a.length - b.length;
}

/** The accepted key within edit distance 2 of `k` (case-insensitive), if exactly one is closest. */
function closest(k: string, accepted: readonly string[]): string | undefined {
  let best: string | undefined, bestD = 3, tie = false;
  for (const a of accepted) {
    const d = editDistance(k.toLowerCase(), a.toLowerCase());
    if (d < bestD) { best = a; bestD = d; tie = false; } else if (d === bestD) tie = true;
  }
  return tie ? undefined : best;
}

function editDistance(a: string, b: string): number {
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[b.length]!;
}

// ---------------------------------------------------------------------------------------------
// Schema check and freezing

const checkedSchemas = new WeakSet<object>();

/**
 * Throws (a programming error, not a UserError) if the schema holds a plain `z.object`, whose
 * default is to strip unknown keys: a typo in a config would then be ignored silently.
 */
function assertStrictSchema(schema: z.ZodType): void {
  if (checkedSchemas.has(schema)) return;
  const seen = new Set<object>();
  const walk = (s: unknown, at: string): void => {
    if (s === null || typeof s !== 'object' || seen.has(s)) return;
    seen.add(s);
    const def = (s as { _zod?: { def?: Record<string, unknown> } })._zod?.def;
    if (def === undefined) return;
    if (def.type === 'object') {
      if (def.catchall === undefined) throw new Error(`config schema: the object at '${at || '(top)'}' is a plain z.object, which ignores unknown keys; use z.strictObject`);
      for (const [k, v] of Object.entries(def.shape as Record<string, unknown>)) walk(v, at ? `${at}.${k}` : k);
      return;
    }
    for (const f of ['innerType', 'in', 'out', 'element', 'valueType', 'left', 'right', 'rest']) walk(def[f], at);
    for (const f of ['options', 'items']) if (Array.isArray(def[f])) for (const o of def[f] as unknown[]) walk(o, at);
    if (def.type === 'lazy' && typeof def.getter === 'function') walk((def.getter as () => unknown)(), at);
  };
  walk(schema, '');
  checkedSchemas.add(schema);
}

/**
 * Freezes plain objects and arrays recursively and returns the same value. Other objects (class
 * instances, Maps, typed arrays, which `Object.freeze` would reject) are left as they are.
 */
export function deepFreeze<T>(v: T): T {
  const seen = new Set<object>();
  const go = (x: unknown): void => {
    if (x === null || typeof x !== 'object' || seen.has(x)) return;
    if (!Array.isArray(x) && !isPlainObject(x)) return;
    seen.add(x);
    for (const k of Object.keys(x)) go((x as Record<string, unknown>)[k]);
    Object.freeze(x);
  };
  go(v);
  return v;
}
