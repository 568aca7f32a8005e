import { mkdtempSync, writeFileSync, mkdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import * as fc from 'fast-check';
import { z } from 'zod';
import { applySet, deepFreeze, loadConfigFile, parseSize, resolveConfig, zAddress, zInt, zPow2, zSize } from './config.js';
import { UserError } from './errors.js';

const Schema = z.strictObject({
  name: z.string(),
  dram: z.strictObject({
    channels: zInt(1, 16),
    ranks: zInt(1, 4),
    bankGroups: zPow2(1, 8),
    scheduler: z.enum(['fr-fcfs', 'fcfs']),
  }),
  mem: z.strictObject({ base: zAddress, size: zSize }),
  l3: z.union([z.literal(false), z.strictObject({ sizeBytes: zPow2(1024, 1 << 30), ways: zInt(1, 32) })]),
  cores: z.array(z.strictObject({ freqMHz: zInt(100, 5000), smt: z.boolean() })).min(1),
  regions: z.record(z.string().regex(/^[a-z]+$/), z.strictObject({ size: zSize })),
  ratio: z.number().min(0).max(1),
});

const BASE = Object.freeze({
  name: 'n1',
  dram: Object.freeze({ channels: 8, ranks: 2, bankGroups: 4, scheduler: 'fr-fcfs' }),
  mem: { base: '0x8000_0000', size: '64GiB' },
  l3: false,
  cores: [{ freqMHz: 3000, smt: false }, { freqMHz: 3000, smt: false }],
  regions: { ram: { size: 4096 } },
  ratio: 0.5,
});

const dir = mkdtempSync(join(tmpdir(), 'armsim-config-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
function file(name: string, text: string): string { const p = join(dir, name); writeFileSync(p, text); return p; }

/** The UserError message of `fn`, failing the test if it does not throw one. */
function errorOf(fn: () => unknown): string {
  try { fn(); } catch (e) {
    expect(e).toBeInstanceOf(UserError);
    const m = (e as Error).message;
    expect(m).not.toMatch(/\n/);
    expect(m).not.toMatch(/\bat .*\.ts:\d+/);
    if (process.env.SHOW_MESSAGES) console.log(`    message: ${m}`);
    return m;
  }
  throw new Error('expected a UserError');
}

const sets = (...s: string[]) => resolveConfig(Schema, BASE, { sets: s });

describe('parseSize', () => {
  it('parses plain, hex and binary-unit sizes exactly', () => {
    expect(parseSize('4096')).toBe(4096);
    expect(parseSize('4_096')).toBe(4096);
    expect(parseSize('0x8000_0000')).toBe(0x8000_0000);
    expect(parseSize('0X10')).toBe(16);
    expect(parseSize('32KiB')).toBe(32 * 1024);
    expect(parseSize('1MiB')).toBe(1 << 20);
    expect(parseSize('64GiB')).toBe(64 * 2 ** 30);
    expect(parseSize('64 GiB')).toBe(64 * 2 ** 30);
    expect(parseSize('4G')).toBe(4 * 2 ** 30);
    expect(parseSize('2Ti')).toBe(2 * 2 ** 40);
    expect(parseSize('1.5MiB')).toBe(1.5 * 2 ** 20);
    expect(parseSize('0xf_ffff_ffff_ffff')).toBe(2 ** 52 - 1);
    expect(parseSize('0x1f_ffff_ffff_ffff')).toBe(Number.MAX_SAFE_INTEGER);
  });
  it('returns NaN for anything else', () => {
    for (const bad of ['', '-1', '1.5', '0.1KiB', '64GB', '64 kb', '0x', '0xg', '1__0', '_1', '1_', 'abc', '0x20_0000_0000_0000', '9007199254740993', '8PiB', '1e3', '+5', '0x10MiB']) {
      expect(parseSize(bad), bad).toBeNaN();
    }
  });
  it('agrees with the number it spells (property)', () => {
    fc.assert(fc.property(fc.maxSafeNat(), (n) => {
      expect(parseSize(String(n))).toBe(n);
      expect(parseSize('0x' + n.toString(16))).toBe(n);
    }));
    fc.assert(fc.property(fc.integer({ min: 0, max: 2 ** 20 }), fc.constantFrom(['KiB', 2 ** 10], ['MiB', 2 ** 20], ['GiB', 2 ** 30]), (n, [u, m]) => {
      expect(parseSize(`${n}${u as string}`)).toBe(n * (m as number));
    }));
  });
});

describe('resolveConfig: values', () => {
  it('returns the base, validated, transformed and deep-frozen', () => {
    const c = resolveConfig(Schema, BASE, {});
    expect(c.mem).toEqual({ base: 0x8000_0000, size: 64 * 2 ** 30 });
    expect(Object.isFrozen(c)).toBe(true);
    expect(Object.isFrozen(c.dram)).toBe(true);
    expect(Object.isFrozen(c.cores)).toBe(true);
    expect(Object.isFrozen(c.cores[0])).toBe(true);
  });

  it('applies --set values as JSON when they parse, raw strings otherwise, in order', () => {
    const c = sets('dram.channels=4', 'dram.scheduler=fcfs', 'mem.size=1MiB', 'mem.base=0x1_0000_0000', 'cores.1.smt=true',
      'l3={"sizeBytes": "8MiB", "ways": 16}', 'name="123"', 'dram.channels=2', 'cores.2={"freqMHz": 2000, "smt": true}');
    expect(c.dram).toEqual({ channels: 2, ranks: 2, bankGroups: 4, scheduler: 'fcfs' });
    expect(c.mem).toEqual({ base: 2 ** 32, size: 1 << 20 });
    expect(c.cores.map((x) => x.smt)).toEqual([false, true, true]);
    expect(c.l3).toEqual({ sizeBytes: 8 << 20, ways: 16 });
    expect(c.name).toBe('123');
  });

  it('merges an object --set into the existing object', () => {
    const c = sets('dram={"channels": 2}');
    expect(c.dram).toEqual({ channels: 2, ranks: 2, bankGroups: 4, scheduler: 'fr-fcfs' });
  });

  it('does not modify the base', () => {
    const base = JSON.parse(JSON.stringify(BASE)) as Record<string, unknown>;
    resolveConfig(Schema, base, { sets: ['dram.channels=4', 'cores.0.smt=true'] });
    expect(base).toEqual(JSON.parse(JSON.stringify(BASE)));
  });

  it('deep-merges a YAML file, then the --set pairs after it', () => {
    const p = file('a.yaml', 'dram:\n  channels: 4\n  scheduler: fcfs\nmem:\n  size: 2GiB\ncores:\n  - { freqMHz: 2000, smt: true }\n');
    const c = resolveConfig(Schema, BASE, { file: p, sets: ['dram.channels=16'] });
    expect(c.dram).toEqual({ channels: 16, ranks: 2, bankGroups: 4, scheduler: 'fcfs' });
    expect(c.mem).toEqual({ base: 0x8000_0000, size: 2 ** 31 });
    expect(c.cores).toEqual([{ freqMHz: 2000, smt: true }]);   // arrays replace
  });

  it('reads JSON files, and an empty YAML file overrides nothing', () => {
    const p = file('b.json', '{ "dram": { "ranks": 4 }, "l3": { "sizeBytes": 1048576, "ways": 8 } }');
    expect(resolveConfig(Schema, BASE, { file: p }).dram.ranks).toBe(4);
    expect(resolveConfig(Schema, BASE, { file: file('empty.yml', '# nothing\n') }).dram.ranks).toBe(2);
  });

  it('a YAML 1.1 boolean-looking word stays a string (YAML 1.2)', () => {
    const m = errorOf(() => resolveConfig(Schema, BASE, { file: file('y.yaml', 'cores:\n  - { freqMHz: 2000, smt: yes }\n') }));
    expect(m).toMatch(/cores\.0\.smt must be true or false \(got 'yes'\)/);
  });
});

describe('resolveConfig: error messages', () => {
  it('unknown key: names the dotted path and the accepted keys', () => {
    const m = errorOf(() => sets('dram.chanels=3'));
    expect(m).toBe("config: unknown key 'dram.chanels' (accepted: channels, ranks, bankGroups, scheduler); did you mean 'channels'?");
  });

  it('unknown key at the top level and deep inside an array', () => {
    expect(errorOf(() => sets('extra=1'))).toBe("config: unknown key 'extra' (accepted: name, dram, mem, l3, cores, regions, ratio)");
    expect(errorOf(() => sets('cores.1.smtt=true'))).toMatch(/^config: unknown key 'cores\.1\.smtt' \(accepted: freqMHz, smt\); did you mean 'smt'\?$/);
  });

  it('integer out of range and not an integer', () => {
    expect(errorOf(() => sets('dram.channels=0'))).toBe('config: dram.channels must be an integer from 1 to 16 (got 0)');
    expect(errorOf(() => sets('dram.channels=17'))).toBe('config: dram.channels must be an integer from 1 to 16 (got 17)');
    expect(errorOf(() => sets('dram.channels=2.5'))).toBe('config: dram.channels must be an integer from 1 to 16 (got 2.5)');
    expect(errorOf(() => sets('dram.channels=four'))).toBe("config: dram.channels must be an integer from 1 to 16 (got 'four')");
    expect(errorOf(() => sets('dram.channels=1e300'))).toBe('config: dram.channels must be an integer from 1 to 16 (got 1e+300)');
  });

  it('enum', () => {
    expect(errorOf(() => sets('dram.scheduler=lifo'))).toBe("config: dram.scheduler must be one of fr-fcfs, fcfs (got 'lifo')");
  });

  it('missing key', () => {
    const base = { ...BASE, dram: { channels: 8, bankGroups: 4, scheduler: 'fcfs' } };
    expect(errorOf(() => resolveConfig(Schema, base, {}))).toBe('config: dram.ranks is missing; expected an integer from 1 to 4');
  });

  it('power of two, size and address', () => {
    expect(errorOf(() => sets('dram.bankGroups=3'))).toBe('config: dram.bankGroups must be a power of two from 1 to 8 (got 3)');
    expect(errorOf(() => sets('l3={"sizeBytes": "3MiB", "ways": 4}'))).toBe("config: l3.sizeBytes must be a power of two from 1KiB to 1GiB (got '3MiB')");
    expect(errorOf(() => sets('mem.size=64GB'))).toBe("config: mem.size must be a size in bytes (an integer, or a string such as '64GiB' or '0x1000') (got '64GB')");
    expect(errorOf(() => sets('mem.size=-1'))).toMatch(/^config: mem\.size must be a size in bytes .* \(got -1\)$/);
    expect(errorOf(() => sets('mem.size=1.5'))).toMatch(/\(got 1\.5\)$/);
    expect(errorOf(() => sets('mem.base=0x10_0000_0000_0000'))).toBe("config: mem.base must be an address below 2^52 (an integer, or a string such as '0x8000_0000') (got '0x10_0000_0000_0000')");
    expect(errorOf(() => sets('mem.base=true'))).toMatch(/^config: mem\.base must be an address below 2\^52 .*\(got true\)$/);
  });

  it('wrong type for a string, a boolean, an object and an array', () => {
    expect(errorOf(() => sets('name=123'))).toBe('config: name must be a string (got 123)');
    expect(errorOf(() => sets('cores.0.smt=1'))).toBe('config: cores.0.smt must be true or false (got 1)');
    expect(errorOf(() => sets('dram=5'))).toBe('config: dram must be an object (got 5)');
    expect(errorOf(() => sets('cores={"a":1}'))).toBe('config: cores must be a list (got {"a":1})');
    expect(errorOf(() => sets('cores=[]'))).toBe('config: cores must have at least 1 item (got 0)');
  });

  it('plain zod checks get readable messages too', () => {
    expect(errorOf(() => sets('ratio=2'))).toBe('config: ratio must be at most 1 (got 2)');
    expect(errorOf(() => sets('ratio=-0.5'))).toBe('config: ratio must be at least 0 (got -0.5)');
    expect(errorOf(() => sets('regions.Ram={"size": 1}'))).toBe("config: key 'regions.Ram' is not an accepted key: must be a string matching /^[a-z]+$/ (got 'Ram')");
  });

  it('a union reports the branch that fits the value, or what each branch accepts', () => {
    expect(errorOf(() => sets('l3=3'))).toBe('config: l3 must be false or an object (got 3)');
    const { l3: _, ...noL3 } = BASE;
    expect(errorOf(() => resolveConfig(Schema, noL3, {}))).toBe('config: l3 is missing; expected false or an object');
    expect(errorOf(() => sets('l3={"sizeBytes": 1024, "wayz": 4}'))).toMatch(/^config: l3\.ways is missing; expected an integer from 1 to 32 \(and 1 more\)$/);
    expect(errorOf(() => sets('l3={"sizeBytes": 1024, "ways": 64}'))).toBe('config: l3.ways must be an integer from 1 to 32 (got 64)');
  });

  it('discriminated unions name the discriminator', () => {
    const S = z.strictObject({ dev: z.discriminatedUnion('kind', [z.strictObject({ kind: z.literal('uart'), baud: zInt(1, 1e7) }), z.strictObject({ kind: z.literal('rtc') })]) });
    expect(errorOf(() => resolveConfig(S, { dev: { kind: 'rtc' } }, { sets: ['dev.kind=gpio'] }))).toBe("config: dev.kind must be one of uart, rtc (got 'gpio')");
  });

  it('custom refinements keep their message, after the path', () => {
    const S = z.strictObject({ c: z.strictObject({ size: zSize, ways: zInt(1, 64) }).refine((c) => c.size % c.ways === 0, { message: 'must be a multiple of c.ways', path: ['size'] }) });
    expect(errorOf(() => resolveConfig(S, { c: { size: 100, ways: 3 } }, {}))).toBe('config: c.size must be a multiple of c.ways');
  });

  it('reports only the first problem by path, and counts the rest', () => {
    expect(errorOf(() => sets('ratio=5', 'dram.scheduler=x', 'dram.channels=0'))).toBe('config: dram.channels must be an integer from 1 to 16 (got 0) (and 2 more)');
  });

  it('uses the root name given', () => {
    const P = z.strictObject({ bytes: zSize.default(4096) });
    expect(resolveConfig(P, {}, { sets: ['bytes=1MiB'], root: 'scenario' })).toEqual({ bytes: 1 << 20 });
    expect(errorOf(() => resolveConfig(P, {}, { sets: ['byts=1'], root: 'scenario' }))).toBe("scenario: unknown key 'byts' (accepted: bytes); did you mean 'bytes'?");
  });

  it('names the file and line when the bad value came from a file', () => {
    const y = file('bad.yaml', 'name: ok\ndram:\n  ranks: 2\n  chanels: 3\n');
    expect(errorOf(() => resolveConfig(Schema, BASE, { file: y }))).toBe(`${y}:4: config: unknown key 'dram.chanels' (accepted: channels, ranks, bankGroups, scheduler); did you mean 'channels'?`);
    const j = file('bad.json', '{\n  "dram": {\n    "scheduler": "lifo"\n  }\n}\n');
    expect(errorOf(() => resolveConfig(Schema, BASE, { file: j }))).toBe(`${j}:3: config: dram.scheduler must be one of fr-fcfs, fcfs (got 'lifo')`);
    // A later --set of the same key: the value no longer comes from the file.
    expect(errorOf(() => resolveConfig(Schema, BASE, { file: j, sets: ['dram.scheduler=fifo'] }))).toBe("config: dram.scheduler must be one of fr-fcfs, fcfs (got 'fifo')");
    // A value from the preset is not blamed on the file.
    expect(errorOf(() => resolveConfig(Schema, { ...BASE, ratio: 7 }, { file: j, sets: ['dram.scheduler=fcfs'] }))).toBe('config: ratio must be at most 1 (got 7)');
  });

  it('a file whose top level is not a mapping', () => {
    const p = file('list.yaml', '- 1\n- 2\n');
    expect(errorOf(() => resolveConfig(Schema, BASE, { file: p }))).toBe(`${p}: config: the file must hold a mapping of keys at the top level (got [1,2])`);
  });

  it('cannot pollute prototypes through keys', () => {
    expect(errorOf(() => sets('__proto__.polluted=1'))).toMatch(/^config: unknown key '__proto__'/);
    expect(errorOf(() => sets('constructor.x=1'))).toMatch(/^config: unknown key 'constructor'/);
    const p = file('proto.json', '{ "__proto__": { "polluted": 1 } }');
    expect(errorOf(() => resolveConfig(Schema, BASE, { file: p }))).toMatch(/unknown key '__proto__'/);
    expect(({} as Record<string, unknown>).polluted).toBeUndefined();
  });

  it('refuses a schema with a plain z.object (it would ignore typos)', () => {
    expect(() => resolveConfig(z.strictObject({ a: z.object({ b: z.number() }) }), { a: { b: 1 } }, {})).toThrow(/'a' is a plain z\.object/);
    expect(() => resolveConfig(z.strictObject({ a: z.looseObject({ b: z.number() }) }), { a: { b: 1 } }, {})).not.toThrow();
  });
});

describe('applySet', () => {
  it('sets nested keys, creating objects, and indexes arrays', () => {
    const t: Record<string, unknown> = { a: { list: [1, 2] } };
    applySet(t, 'a.b.c=5');
    applySet(t, 'a.list.1=7');
    applySet(t, 'a.list.2="x"');
    applySet(t, 'a.s = hello world ');
    applySet(t, 'a.eq=x=y');
    expect(t).toEqual({ a: { list: [1, 7, 'x'], b: { c: 5 }, s: 'hello world', eq: 'x=y' } });
  });

  it('malformed assignments', () => {
    expect(errorOf(() => applySet({}, 'dram.channels'))).toBe("--set: expected key=value (got 'dram.channels')");
    expect(errorOf(() => applySet({}, '=3'))).toBe("--set: expected key=value (got '=3')");
    expect(errorOf(() => applySet({}, 'a..b=3'))).toBe("--set: expected key=value (got 'a..b=3')");
  });

  it('a parent that is not an object', () => {
    expect(errorOf(() => applySet({ dram: { channels: 4 } }, 'dram.channels.x=1'))).toBe("config: cannot set 'dram.channels.x': 'dram.channels' is not an object (it is 4)");
    expect(errorOf(() => applySet({ a: [1] }, 'a.x=1', 'scenario'))).toBe("scenario: cannot set 'a.x': 'a' is a list, so 'x' must be an index");
    expect(errorOf(() => applySet({ a: [1] }, 'a.5=1'))).toBe("config: cannot set 'a.5': 'a.5' is past the end of a list of 1");
  });
});

describe('loadConfigFile', () => {
  it('parses YAML and JSON', () => {
    expect(loadConfigFile(file('ok.yml', 'a: 1\nb: [x, 0x10]\n'))).toEqual({ a: 1, b: ['x', 16] });
    expect(loadConfigFile(file('ok.json', '{"a": [1, {"b": null}]}'))).toEqual({ a: [1, { b: null }] });
  });

  it('names the file, and the line when the parser gives one', () => {
    const missing = join(dir, 'nope.yaml');
    expect(errorOf(() => loadConfigFile(missing))).toBe(`${missing}: cannot read config file (no such file)`);
    const d = join(dir, 'adir.json'); mkdirSync(d);
    expect(errorOf(() => loadConfigFile(d))).toBe(`${d}: cannot read config file (it is a directory)`);
    expect(errorOf(() => loadConfigFile(file('x.toml', 'a = 1')))).toMatch(/x\.toml: config files must end in \.json, \.yaml or \.yml$/);
    const y = file('broken.yaml', 'a: 1\nb: c: d\n');
    expect(errorOf(() => loadConfigFile(y))).toBe(`${y}:2:4: invalid YAML: Nested mappings are not allowed in compact mappings`);
    const dup = file('dup.yaml', 'a: 1\na: 2\n');
    expect(errorOf(() => loadConfigFile(dup))).toBe(`${dup}:2:1: invalid YAML: Map keys must be unique`);
    const alias = file('alias.yaml', 'a: *nope\n');
    expect(errorOf(() => loadConfigFile(alias))).toMatch(new RegExp(`^${alias.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}(:\\d+:\\d+)?: invalid YAML: .*nope`));
    const j1 = file('broken1.json', '{\n  "a": 1,\n  "b": }\n');
    expect(errorOf(() => loadConfigFile(j1))).toBe(`${j1}:3:8: invalid JSON: Unexpected token '}'`);
    const j2 = file('broken2.json', '{\n  "a": 1,\n}\n');
    expect(errorOf(() => loadConfigFile(j2))).toBe(`${j2}:3:1: invalid JSON: Expected double-quoted property name`);
    const j3 = file('broken3.json', '');
    expect(errorOf(() => loadConfigFile(j3))).toBe(`${j3}: invalid JSON: Unexpected end of JSON input`);
  });
});

describe('zod helpers on their own', () => {
  it('zSize and zAddress accept integers and size strings only', () => {
    expect(zSize.parse('64GiB')).toBe(64 * 2 ** 30);
    expect(zSize.parse(0)).toBe(0);
    expect(zSize.safeParse(1.5).success).toBe(false);
    expect(zSize.safeParse(-4096).success).toBe(false);
    expect(zSize.safeParse(2 ** 53).success).toBe(false);
    expect(zAddress.parse('0xf_ffff_ffff_f000')).toBe(2 ** 52 - 4096);
    expect(zAddress.safeParse(2 ** 52).success).toBe(false);
  });
  it('zInt and zPow2 enforce their ranges', () => {
    expect(zInt(1, 16).safeParse(16).success).toBe(true);
    expect(zInt(1, 16).safeParse(16.5).success).toBe(false);
    expect(zPow2(1, 8).parse(8)).toBe(8);
    expect(zPow2(1, 8).safeParse(16).success).toBe(false);
    expect(zPow2(1, 8).safeParse(6).success).toBe(false);
    expect(zPow2(1024, 2 ** 40).parse('1TiB')).toBe(2 ** 40);
    expect(zPow2(1, 2 ** 52).safeParse(2 ** 52 + 2).success).toBe(false);
    expect(() => zInt(5, 1)).toThrow(RangeError);
  });
});

describe('deepFreeze', () => {
  it('freezes nested plain data and leaves typed arrays alone', () => {
    const o = deepFreeze({ a: { b: [1, { c: 2 }] }, t: new Uint8Array(4) });
    expect(Object.isFrozen(o.a.b[1])).toBe(true);
    expect(Object.isFrozen(o.t)).toBe(false);
    expect(() => { (o.a as { b: unknown }).b = 1; }).toThrow(TypeError);
  });
});
