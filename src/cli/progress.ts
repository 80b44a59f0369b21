/**
 * The live progress of one task, per step: on a terminal a block redrawn in place (spinners,
 * elapsed times, attempts, retry countdowns); elsewhere (a pipe, a CI log) one plain line per
 * change, so logs stay readable and greppable.
 */
import type { StepView, TaskView } from '../engine/index.ts';
import { isFinished } from '../server/handlers/tasks.ts';
import type { OutputStream } from './context.ts';
import { elapsedMs, formatDuration, truncate, type Paint } from './format.ts';

export interface ProgressDisplay {
  /** Shows the task as it is now. */
  update(task: TaskView): void;
  /** Stops redrawing; what was shown last stays. */
  close(): void;
}

export interface ProgressOptions {
  out: OutputStream;
  paint: Paint;
  /** Redraw in place; plain lines otherwise. */
  live: boolean;
  now?: () => number;
}

export function createProgress(options: ProgressOptions): ProgressDisplay {
  return options.live ? new LiveProgress(options) : new LineProgress(options);
}

const ERROR_CHARS = 120;

/** One line per step change and one when the task ends, each stamped with the task's age. */
class LineProgress implements ProgressDisplay {
  readonly #out: OutputStream;
  readonly #now: () => number;
  readonly #seen = new Map<string, string>();
  #taskStatus: string | undefined;

  constructor(options: ProgressOptions) {
    this.#out = options.out;
    this.#now = options.now ?? Date.now;
  }

  update(task: TaskView): void {
    const now = this.#now();
    const stamp = `+${((now - Date.parse(task.created_at)) / 1000).toFixed(2)}s`.padStart(9);
    if (this.#taskStatus === undefined) {
      this.#out.write(`${stamp}  task ${task.id} (${task.template}@${task.version}): ${stepCount(task)}\n`);
    }
    const width = nameWidth(task);
    for (const step of task.steps) {
      const state = `${step.status}/${step.attempts}`;
      if (this.#seen.get(step.name) === state) continue;
      this.#seen.set(step.name, state);
      const text = describeStep(step, now);
      if (text !== undefined) this.#out.write(`${stamp}  ${step.name.padEnd(width)}  ${text}\n`);
    }
    if (task.status !== this.#taskStatus && isFinished(task)) {
      this.#out.write(`${stamp}  task ${describeTaskEnd(task, now)}\n`);
    }
    this.#taskStatus = task.status;
  }

  close(): void {}
}

/** What changed in a step, in words; undefined for states not worth a line (waiting). */
function describeStep(step: StepView, now: number): string | undefined {
  const attempt = `attempt ${step.attempts}/${step.max_attempts}`;
  switch (step.status) {
    case 'running':
      return `running (${attempt})`;
    case 'retrying':
      return `${attempt} failed: ${errorText(step)}; next attempt in ${formatDuration(retryInMs(step, now))}`;
    case 'completed':
      return `completed in ${formatDuration(stepMs(step, now))}${step.attempts > 1 ? ` after ${step.attempts} attempts` : ''}`;
    case 'failed':
      return `failed after ${step.attempts}/${step.max_attempts} attempts: ${errorText(step)}`;
    case 'skipped':
      return 'skipped (a step it depends on did not complete)';
    case 'cancelled':
      return 'cancelled';
    case 'resolved':
      return 'resolved by hand';
    default:
      return undefined;
  }
}

function describeTaskEnd(task: TaskView, now: number): string {
  const took = elapsedMs(task.created_at, task.finished_at, now) ?? 0;
  const why = task.status === 'failed' && task.error ? `: ${truncate(task.error.message, ERROR_CHARS)}` : '';
  return `${task.status} in ${formatDuration(took)}${why}`;
}

const SPINNER = ['⠋', '⠙', '⠹', '⠸', '⠼', '⠴', '⠦', '⠧', '⠇', '⠏'];
const FRAME_MS = 100;

/**
 * A header and one line per step, redrawn in place every frame while something runs. Lines are
 * cut to the terminal's width: a wrapped line would break the cursor arithmetic of the redraw.
 */
class LiveProgress implements ProgressDisplay {
  readonly #out: OutputStream;
  readonly #paint: Paint;
  readonly #now: () => number;
  #task: TaskView | undefined;
  #drawn = 0;
  #frame = 0;
  #timer: NodeJS.Timeout | undefined;

  constructor(options: ProgressOptions) {
    this.#out = options.out;
    this.#paint = options.paint;
    this.#now = options.now ?? Date.now;
  }

  update(task: TaskView): void {
    this.#task = task;
    this.#draw();
    if (isFinished(task)) this.#stopTimer();
    else this.#timer ??= setInterval(() => this.#tick(), FRAME_MS);
  }

  close(): void {
    this.#stopTimer();
  }

  #tick(): void {
    this.#frame = (this.#frame + 1) % SPINNER.length;
    this.#draw();
  }

  #stopTimer(): void {
    clearInterval(this.#timer);
    this.#timer = undefined;
  }

  #draw(): void {
    const task = this.#task;
    if (!task) return;
    const now = this.#now();
    const width = Math.max(20, (this.#out.columns || 100) - 1);
    const names = nameWidth(task);
    const lines = [
      this.#header(task, now, width),
      ...task.steps.map((step) => this.#line(step, names, now, width)),
    ];
    // Back to the first line drawn, then rewrite each line whole.
    const up = this.#drawn > 0 ? `\u001b[${this.#drawn}F` : '';
    this.#out.write(up + lines.map((line) => `\u001b[2K${line}\n`).join(''));
    this.#drawn = lines.length;
  }

  #header(task: TaskView, now: number, width: number): string {
    const took = formatDuration(elapsedMs(task.created_at, task.finished_at, now) ?? 0);
    const text = truncate(`${task.template}@${task.version} · ${task.id} · ${task.status} ${took}`, width);
    return this.#paint('bold', text);
  }

  #line(step: StepView, names: number, now: number, width: number): string {
    const { mark, style } = markOf(step.status, SPINNER[this.#frame]!);
    const head = `  ${mark} ${step.name.padEnd(names)}  ${step.status.padEnd(9)}`;
    const detail = truncate(liveDetail(step, now), Math.max(0, width - head.length - 2));
    return `${this.#paint(style, head)}  ${this.#paint('dim', detail)}`.trimEnd();
  }
}

function markOf(status: StepView['status'], spinner: string): { mark: string; style: Parameters<Paint>[0] } {
  switch (status) {
    case 'running':
      return { mark: spinner, style: 'blue' };
    case 'retrying':
      return { mark: '↻', style: 'yellow' };
    case 'completed':
      return { mark: '✓', style: 'green' };
    case 'resolved':
      return { mark: '✓', style: 'magenta' };
    case 'failed':
      return { mark: '✗', style: 'red' };
    default:
      return { mark: '·', style: 'dim' };
  }
}

function liveDetail(step: StepView, now: number): string {
  const attempt = `attempt ${step.attempts}/${step.max_attempts}`;
  switch (step.status) {
    case 'running':
      return `${formatDuration(stepMs(step, now))}  ${attempt}`;
    case 'retrying':
      return `retry in ${formatDuration(retryInMs(step, now))}  ${attempt} failed: ${errorText(step)}`;
    case 'completed':
      return `${formatDuration(stepMs(step, now))}${step.attempts > 1 ? `  ${step.attempts} attempts` : ''}`;
    case 'failed':
      return `${attempt}: ${errorText(step)}`;
    default:
      return '';
  }
}

function stepMs(step: StepView, now: number): number {
  return elapsedMs(step.started_at, step.finished_at, now) ?? 0;
}

function retryInMs(step: StepView, now: number): number {
  return step.run_at === null ? 0 : Math.max(0, Date.parse(step.run_at) - now);
}

function errorText(step: StepView): string {
  return truncate(step.error?.message ?? 'unknown error', ERROR_CHARS);
}

function nameWidth(task: TaskView): number {
  return Math.max(4, ...task.steps.map((step) => step.name.length));
}

function stepCount(task: TaskView): string {
  return `${task.steps.length} step${task.steps.length === 1 ? '' : 's'} (${task.steps.map((step) => step.name).join(', ')})`;
}
