import { parseArgs, type ParseArgsConfig } from 'node:util';
import { UserError } from '../sim/index.js';

type Options = NonNullable<ParseArgsConfig['options']>;

/**
 * node:util parseArgs in strict mode for command `cmd`, its errors turned into one-line
 * UserErrors that name the option and what was expected (parseArgs's own messages span lines and
 * speak of "ambiguous" arguments where a user simply wrote `--seed -1`).
 */
export function parseCommandArgs<O extends Options>(cmd: string, args: readonly string[], options: O) {
  try {
    return parseArgs({ args: [...args], options, allowPositionals: true, strict: true });
  } catch (e) {
    throw new UserError(argsErrorMessage(cmd, e, options));
  }
}

/** The one-line message for a parseArgs error `e` (exported for tests). */
export function argsErrorMessage(cmd: string, e: unknown, options: Options): string {
  const msg = e instanceof Error ? e.message : String(e);
  const accepted = Object.keys(options).map((k) => `--${k}`).join(', ');
  let m = /^Unknown option '([^']+)'/.exec(msg);
  if (m) return `${cmd}: unknown option '${m[1]}' (accepted: ${accepted})`;
  m = /^Option '(--[^' ]+)(?: <value>)?' argument missing/.exec(msg);
  if (m) return `${cmd}: ${m[1]} expects a value`;
  m = /^Option '(--[^']+)' argument is ambiguous/.exec(msg);
  if (m) return `${cmd}: ${m[1]} expects a value; write a value that starts with '-' as ${m[1]}=-VALUE`;
  m = /^Option '(--[^']+)' does not take an argument/.exec(msg);
  if (m) return `${cmd}: ${m[1]} is a switch and takes no value`;
  return `${cmd}: ${msg.split('\n')[0]} (accepted: ${accepted})`;
}
