/**
 * Progress bars for long commands (`armsim run`, `replay`, `bench`), drawn with cli-progress on
 * stderr: a count with its rate, and, when the total is known, a bar, the percentage and an ETA.
 *
 * Only on a terminal: `progressWanted` is false when stdout or stderr is not a TTY, or the output
 * is --json, and then nothing is drawn at all (no escape sequence, no newline). The bar clears its
 * line when stopped, so what the command prints afterwards starts on a clean line.
 *
 * Contract: callers update it as often as they like (cli-progress redraws at most every 100 ms of
 * wall time); nothing here reads the simulation, so results cannot depend on it.
 */
import cliProgress from 'cli-progress';

/** What the bar writes to: process.stderr, or a stand-in with the same three members (tests). */
export interface ProgressStream {
  readonly isTTY?: boolean;
  readonly columns?: number;
  write(chunk: string): unknown;
}

/** Whether to draw progress: both output streams are terminals and the output is not --json. */
export function progressWanted(json: boolean, out: { isTTY?: boolean } = process.stdout, err: { isTTY?: boolean } = process.stderr): boolean {
  return !json && out.isTTY === true && err.isTTY === true;
}

export interface ProgressOptions {
  /** What is running (a scenario, a trace, a suite). */
  readonly label: string;
  /** What is counted: 'cycles', 'ops', 'runs'. */
  readonly unit: string;
  /** The count at the end, when known: then a bar, a percentage and an ETA are drawn. */
  readonly total?: number;
  /** Where to draw (default process.stderr). */
  readonly stream?: ProgressStream;
}

/** A bar on a terminal stream; `update` as work is done, `stop` before printing anything else. */
export class ProgressBar {
  private readonly bar: cliProgress.SingleBar;
  private stopped = false;

  constructor(readonly opts: ProgressOptions) {
    const { label, unit, total } = opts;
    const known = total !== undefined && total > 0;
    this.bar = new cliProgress.SingleBar({
      stream: (opts.stream ?? process.stderr) as NodeJS.WritableStream,
      format: (_o, p, payload: { note?: string }) => {
        const elapsed = (Date.now() - p.startTime) / 1000;
        const rate = elapsed > 0 ? p.value / elapsed : 0;
        const parts = [label];
        if (known) parts.push(`${barText(p.progress, 24)} ${Math.floor(p.progress * 100)}%`);
        parts.push(`${known ? `${count(p.value)}/${count(p.total)}` : count(p.value)} ${unit}`, `${rate < 100 ? rate.toFixed(rate < 10 ? 2 : 1) : count(rate)} ${unit}/s`);
        parts.push(known ? `ETA ${Number.isFinite(p.eta) && p.eta >= 0 && p.value > 0 ? clock(p.eta) : '-'}` : `${clock(elapsed)} elapsed`);
        if (payload.note) parts.push(payload.note);
        return parts.join(' | ');
      },
      fps: 10,
      etaBuffer: 50,
      clearOnComplete: true,
      linewrap: true,               // leave the terminal's wrapping mode alone (the line is cut to its width instead)
      hideCursor: false,
      gracefulExit: false,
    });
    this.bar.start(known ? total : 0, 0, {});
  }

  /** Done so far, and a short note (the last run's verdict). */
  update(value: number, note?: string): void {
    if (this.stopped) return;
    this.bar.update(value, note === undefined ? {} : { note });
  }

  /** Changes the count at the end (a known one: the bar must have been started with a total). */
  setTotal(total: number): void {
    if (!this.stopped) this.bar.setTotal(total);
  }

  /** Draws the last state, then clears the line. Safe to call twice. */
  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.bar.stop();
  }
}

/** A bar when `progressWanted(json)`, else undefined (and nothing is written). */
export function startProgress(json: boolean, opts: ProgressOptions): ProgressBar | undefined {
  return progressWanted(json) ? new ProgressBar(opts) : undefined;
}

function barText(progress: number, width: number): string {
  const full = Math.round(Math.min(1, Math.max(0, progress)) * width);
  return `[${'='.repeat(full)}${'-'.repeat(width - full)}]`;
}

/** 1234 -> 1234, 12345 -> 12.3k, 4.56e6 -> 4.56M, ... */
function count(n: number): string {
  if (!Number.isFinite(n)) return '-';
  if (n < 10_000) return String(Math.round(n));
  for (const [d, s] of [[1e12, 'T'], [1e9, 'G'], [1e6, 'M'], [1e3, 'k']] as const) {
    if (n >= d * 0.9995) { const v = n / d; return `${v >= 99.95 ? v.toFixed(0) : v >= 9.995 ? v.toFixed(1) : v.toFixed(2)}${s}`; }
  }
  return String(Math.round(n));
}

/** Seconds as m:ss or h:mm:ss. */
function clock(seconds: number): string {
  const t = Math.round(seconds), h = Math.floor(t / 3600), m = Math.floor((t % 3600) / 60), s = t % 60;
  return h > 0 ? `${h}:${String(m).padStart(2, '0')}:${String(s).padStart(2, '0')}` : `${m}:${String(s).padStart(2, '0')}`;
}
