import { readFileSync } from 'node:fs';
import { UserError } from '../sim/index.js';
import { parseCommandArgs } from './args.js';
import { attrsQuery, ATTRS_QUERY_RULES, type AttrsQueryResult } from '../mmu/index.js';

export const ATTRS_HELP = `Usage: armsim attrs [--json '<object>']
       ... | armsim attrs            (JSON Lines on stdin, one input per line)

The final memory attributes of one EL1&0 access (stage 1 + stage 2 as the Arm ASL combines them),
one JSON result per input, one line each. Every input field is optional (defaults in brackets):
  {"acc": "data"|"ifetch"|"ttw" ["data"], "el2": bool [true],
   "hcr": {"vm","dc","dct","fwb","cd","id","ptw": 0|1 [vm=1, others 0]},
   "sctlr": {"m","c","i": 0|1 [1]},
   "s1": {"mair": 0..255 [255], "sh": 0..3 [3]},
   "tcr": {"irgn","orgn","sh": 0..3 [1,1,3]}             (used by "ttw", a stage-1 table walk)
   "s2": {"memattr": 0..15 [15], "sh": 0..3 [3], "fnxs": 0|1 [0]},
   "feat": {"xs","mte2": bool [true], "mte_perm": bool [false]},
   "impdef": {"s1_effective_sh": bool [false]}}
Result:
  {"status": "ok"|"fault"|"unpredictable",
   "attrs": {"type","device","inner","outer","sh","tagged","xs","notagaccess","attr8"} | null,
   "fault": {"fault": "permission", "stage": 1|2} | null,
   "reasons": [...], "stages": {"s1","s2": "enabled"|"disabled"}}
  inner/outer: {"cache": "NC"|"WT"|"WB", "ra", "wa", "transient"}, null for Device.

${ATTRS_QUERY_RULES}

Blank input lines are skipped. A bad input (unknown key, value out of range, a line that is not
JSON) stops the command before any output: one line on stderr naming the line and the field,
exit code 2.

Example:
  armsim attrs --json '{"sctlr":{"m":0},"hcr":{"fwb":1},"s2":{"memattr":6}}'
`;

/** `armsim attrs [--json '<object>'] [--help]`: returns the exit code; bad input throws `UserError`. */
export function runAttrsCommand(args: readonly string[]): number {
  const { values, positionals } = parseCommandArgs('attrs', args, { json: { type: 'string' }, help: { type: 'boolean', short: 'h' } });
  if (values.help) { process.stdout.write(ATTRS_HELP); return 0; }
  if (positionals.length > 0) throw new UserError(`attrs: unexpected argument '${positionals[0]}' (the input goes in --json '<object>' or on stdin)`);
  const json = values.json;
  const inputs: { where: string; value: unknown }[] = [];
  if (json !== undefined) {
    inputs.push({ where: '--json', value: parseJson(json, '--json') });
  } else {
    if (process.stdin.isTTY) throw new UserError(`attrs: give --json '<object>' or JSON Lines on stdin ('armsim attrs --help')`);
    const lines = readFileSync(0, 'utf8').split('\n');
    lines.forEach((line, i) => {
      if (line.trim() === '') return;
      const where = `line ${i + 1}`;
      inputs.push({ where, value: parseJson(line, where) });
    });
  }
  // Everything is checked before anything is printed, so a bad line leaves stdout empty.
  const results: AttrsQueryResult[] = inputs.map(({ where, value }) => attrsQuery(value as object, `attrs: ${where}`));
  process.stdout.write(results.map((r) => JSON.stringify(r) + '\n').join(''));
  return 0;
}

function parseJson(text: string, where: string): unknown {
  try {
    return JSON.parse(text);
  } catch (e) {
    const why = e instanceof Error ? e.message.split('\n')[0] : String(e);
    throw new UserError(`attrs: ${where}: not valid JSON (${why})`);
  }
}
