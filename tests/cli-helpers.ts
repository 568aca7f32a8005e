import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { vi } from 'vitest';
import { main } from '../src/cli/main.js';

export const ROOT = fileURLToPath(new URL('..', import.meta.url));
const BIN = fileURLToPath(new URL('../bin/armsim.js', import.meta.url));

export interface CliResult { code: number; stdout: string; stderr: string }

/** Runs the built command (npm test builds dist/ first). */
export function armsim(args: readonly string[], opts: { cwd?: string; env?: Record<string, string> } = {}): CliResult {
  const env = opts.env === undefined ? undefined : { ...process.env, ...opts.env };
  const r = spawnSync(process.execPath, [BIN, ...args], { cwd: opts.cwd ?? ROOT, env, encoding: 'utf8', maxBuffer: 256 * 1024 * 1024 });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The JSON result without its `host` part (the only part allowed to differ between runs). */
export function deterministicPart(stdout: string): string {
  const o = JSON.parse(stdout) as Record<string, unknown>;
  delete o.host;
  return JSON.stringify(o);
}

/** Runs `armsim ...args` in this process (the CLI's own main, stdout and stderr captured): no child process per run. */
export async function armsimInProcess(args: readonly string[]): Promise<CliResult> {
  let stdout = '', stderr = '';
  const sink = (f: (s: string) => void) => ((chunk: string | Uint8Array): boolean => { f(typeof chunk === 'string' ? chunk : Buffer.from(chunk).toString('utf8')); return true; }) as typeof process.stdout.write;
  const o = vi.spyOn(process.stdout, 'write').mockImplementation(sink((s) => { stdout += s; }));
  const e = vi.spyOn(process.stderr, 'write').mockImplementation(sink((s) => { stderr += s; }));
  try {
    return { code: await main([...args]), stdout, stderr };
  } finally {
    o.mockRestore(); e.mockRestore();
  }
}
