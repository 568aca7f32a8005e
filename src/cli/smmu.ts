import { readFileSync } from 'node:fs';
import { UserError } from '../sim/index.js';
import { parseCommandArgs } from './args.js';
import {
  CD_BYTES, CD_FIELDS, CMD_BYTES, EVENT_FIELDS, EVT_BYTES, STE_BYTES, STE_FIELDS, decodeCd, decodeCommand, decodeEvent, decodeSte,
  hexAddr, wordsFromHex, type EvtName,
} from '../smmu/index.js';

export const SMMU_HELP = `Usage: armsim smmu decode --kind ste|cd|cmd|evt --hex <bytes>
       ... | armsim smmu decode --json-lines      ({"kind","hex"} objects on stdin, one per line)

Decodes an SMMUv3 record from its memory image and prints it as JSON with the architectural field
names. --hex is the record's bytes in ascending address order (each 64-bit dword little-endian);
spaces, '_' and ':' are ignored. Sizes: ste 64 bytes, cd 64, cmd 16, evt 32.
Fields up to 32 bits are numbers; address fields are hex strings of the address in place (the
masked dword bits, not shifted down), e.g. "S2TTB": "0x80004000". Commands print opcode, name
(e.g. CMD_TLBI_NH_VA), legal and their operands; an unknown opcode or reserved operand prints
{"opcode": n, "name": "ILLEGAL", "legal": false, "cerror": "CERROR_ILL"}. Events print type,
name (e.g. F_TRANSLATION) and the fields that event type carries.

Example:
  armsim smmu decode --kind cmd --hex 1200000009000700 01f010325476 0000
`;

const ADDR_FIELDS = new Set(['S1ContextPtr', 'S2TTB', 'TTB0', 'TTB1', 'Address', 'IPA', 'MSIAddress', 'InputAddr', 'FetchAddr']);
const SIZES: Record<string, number> = { ste: STE_BYTES, cd: CD_BYTES, cmd: CMD_BYTES, evt: EVT_BYTES };

/** The decoded record as a JSON-ready object (see SMMU_HELP). */
export function smmuDecode(kind: string, hex: string): Record<string, unknown> {
  const bytes = SIZES[kind];
  if (bytes === undefined) throw new UserError(`smmu decode: --kind must be one of ste, cd, cmd, evt (got '${kind}')`);
  let w: Uint32Array;
  try { w = wordsFromHex(hex, bytes); } catch (e) { throw new UserError(`smmu decode: --hex: ${(e as Error).message} for a ${kind}`); }
  const out: Record<string, unknown> = {};
  const put = (k: string, v: number | bigint): void => { out[k] = ADDR_FIELDS.has(k) ? (typeof v === 'bigint' ? `0x${v.toString(16)}` : hexAddr(v)) : v; };
  if (kind === 'ste') { const s = decodeSte(w); for (const k of STE_FIELDS) put(k, s[k]); }
  else if (kind === 'cd') { const c = decodeCd(w); for (const k of CD_FIELDS) put(k, c[k]); }
  else if (kind === 'cmd') {
    const c = decodeCommand(w);
    out.opcode = c.opcode; out.name = c.name; out.legal = c.legal;
    if (!c.legal) { out.cerror = 'CERROR_ILL'; return out; }
    for (const [k, v] of Object.entries(c)) {
      if (k === 'opcode' || k === 'name' || k === 'legal' || k === 'addressHi' || typeof v !== 'number') continue;
      // Address carries VA[63:12]: print all 64 bits in place.
      if (k === 'Address') out[k] = `0x${((BigInt(w[3]!) << 32n) | BigInt(w[2]! & 0xfffff000)).toString(16)}`;
      else put(k, v);
    }
  } else {
    const e = decodeEvent(w);
    out.type = e.type; out.name = e.name;
    const fields = EVENT_FIELDS[e.name as EvtName] ?? ['StreamID', 'SSV', 'SubstreamID'];
    for (const k of fields) put(k, e[k]);
  }
  return out;
}

/** `armsim smmu decode ...`: returns the exit code; bad input throws `UserError`. */
export function runSmmuCommand(args: readonly string[]): number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === '--help' || sub === '-h') { process.stdout.write(SMMU_HELP); return 0; }
  if (sub !== 'decode') throw new UserError(`smmu: unknown subcommand '${sub}' (accepted: decode)`);
  const { values, positionals } = parseCommandArgs('smmu decode', rest, {
    kind: { type: 'string' }, hex: { type: 'string', multiple: true }, 'json-lines': { type: 'boolean' }, help: { type: 'boolean', short: 'h' },
  });
  if (values.help) { process.stdout.write(SMMU_HELP); return 0; }
  if (values['json-lines']) {
    if (values.kind !== undefined || values.hex !== undefined || positionals.length > 0) throw new UserError('smmu decode: --json-lines reads {"kind","hex"} lines from stdin and takes no other arguments');
    const lines = readFileSync(0, 'utf8').split('\n');
    const results: string[] = [];
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      let o: unknown;
      try { o = JSON.parse(line); } catch { throw new UserError(`smmu decode: stdin line ${i + 1}: not JSON`); }
      if (typeof o !== 'object' || o === null || Array.isArray(o)) throw new UserError(`smmu decode: stdin line ${i + 1}: expected an object {"kind","hex"}`);
      const r = o as Record<string, unknown>;
      for (const k of Object.keys(r)) if (k !== 'kind' && k !== 'hex') throw new UserError(`smmu decode: stdin line ${i + 1}: unknown key '${k}' (accepted: kind, hex)`);
      if (typeof r.kind !== 'string' || typeof r.hex !== 'string') throw new UserError(`smmu decode: stdin line ${i + 1}: "kind" and "hex" must be strings`);
      try { results.push(JSON.stringify(smmuDecode(r.kind, r.hex))); } catch (e) {
        if (e instanceof UserError) throw new UserError(`stdin line ${i + 1}: ${e.message}`);
        throw e;
      }
    });
    process.stdout.write(results.map((s) => `${s}\n`).join(''));
    return 0;
  }
  if (values.kind === undefined) throw new UserError('smmu decode: --kind is required (ste, cd, cmd, evt)');
  // The hex may be split over several words of the command line.
  const hex = [...(values.hex ?? []), ...positionals].join('');
  if (hex === '') throw new UserError('smmu decode: --hex <bytes> is required');
  process.stdout.write(`${JSON.stringify(smmuDecode(values.kind, hex))}\n`);
  return 0;
}
