/**
 * The engine's Prometheus metrics (SPEC §7) on a prom-client registry. The counters and the step
 * duration histogram follow the engine's committed events, so the engine knows nothing of them;
 * queue depth, dead letters, tasks by status and circuit states are read when the registry is
 * scraped, the store's counts from one `store.stats()` that every gauge shares and that is reused
 * for `statsTtlMs`, so scrapes cannot load the store.
 *
 * Label values are bounded: `handler` is a handler registered in this process, shown as task views
 * show it (`shop/charge@1.0.0`, `http`), and `template` a registered template (`shop.order`);
 * anything else (rows another process wrote, with definitions unknown here) is `other`.
 *
 * @example
 * const metrics = new EngineMetrics(engine, registry);
 * // … serve registry.metrics() …
 * metrics.close();
 */
import { Gauge, type Registry } from 'prom-client';
import type { Engine } from '../engine/engine.ts';
import type { BatonEvent } from '../engine/views.ts';
import { TASK_STATUSES, type EventType } from '../storage/records.ts';
import type { StoreStats } from '../storage/store.ts';
import { cached, withDeadline } from '../util/cached.ts';
import { TallyCounter, TallyHistogram } from './tally-metrics.ts';

export interface EngineMetricsOptions {
  /** How long one `store.stats()` serves scrapes (default 1000 ms). */
  statsTtlMs?: number;
  /** How long a scrape waits for the store's counts (default 1000 ms). */
  statsDeadlineMs?: number;
  /** Tasks whose labels are remembered at once (default 10,000; the oldest are forgotten first). */
  maxTrackedTasks?: number;
  /** Clock in epoch ms, for tests. */
  now?: () => number;
}

/** The label of anything not registered in this process. */
export const OTHER_LABEL = 'other';

/** Step duration buckets, in seconds: steps run from milliseconds to many minutes. */
export const STEP_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900,
];

const CIRCUIT_VALUES = { closed: 0, half_open: 1, open: 2 } as const;

/** How each event moves the metrics: a task's end, or a step attempt's outcome. */
const TASK_ENDS = {
  'task.completed': 'completed',
  'task.failed': 'failed',
  'task.cancelled': 'cancelled',
} as const;
const STEP_OUTCOMES = {
  'step.completed': 'completed',
  'step.failed': 'failed',
  'step.retry_scheduled': 'retry_scheduled',
  // Released without using up the attempt (shutdown, lost lease, open circuit).
  'step.deferred': 'deferred',
  // Counted only when a running attempt was cut short (see #onEvent).
  'step.cancelled': 'cancelled',
} as const;
/** Outcomes of an attempt that ran to its end, whose duration the histogram records. */
const TIMED_OUTCOMES: ReadonlySet<string> = new Set(['completed', 'failed', 'retry_scheduled']);

/** The labels of one task, found once per task (the events carry only its id and step names). */
interface TaskLabels {
  template: string;
  /** Handler label by step name. */
  handlers: Map<string, string>;
}

const UNKNOWN_TASK: TaskLabels = { template: OTHER_LABEL, handlers: new Map() };

export class EngineMetrics {
  readonly registry: Registry;
  readonly #engine: Engine;
  readonly #tasks: TallyCounter<'template' | 'status'>;
  readonly #steps: TallyCounter<'handler' | 'status'>;
  readonly #duration: TallyHistogram<'handler'>;
  readonly #retries: TallyCounter<'handler'>;
  /** Labels by task id: resolved, or still being read from the store. */
  readonly #labels = new Map<string, TaskLabels | Promise<TaskLabels>>();
  /** When the running attempt of each `task\0step` started, in epoch ms (claims in this process). */
  readonly #started = new Map<string, number>();
  readonly #maxTracked: number;
  readonly #unsubscribe: (() => void)[];

  constructor(engine: Engine, registry: Registry, options: EngineMetricsOptions = {}) {
    this.registry = registry;
    this.#engine = engine;
    this.#maxTracked = options.maxTrackedTasks ?? 10_000;
    const registers = [registry];
    this.#tasks = new TallyCounter({
      name: 'baton_tasks_total',
      help: 'Tasks that ended, by template and final status (completed, failed, cancelled)',
      labelNames: ['template', 'status'],
      registers,
    });
    this.#steps = new TallyCounter({
      name: 'baton_steps_total',
      help: 'Step attempt outcomes by handler (completed, failed, retry_scheduled, deferred, cancelled)',
      labelNames: ['handler', 'status'],
      registers,
    });
    this.#duration = new TallyHistogram({
      name: 'baton_step_duration_seconds',
      help: 'Step attempt duration by handler, in seconds (completed, failed and retried attempts)',
      labelNames: ['handler'],
      buckets: STEP_DURATION_BUCKETS,
      registers,
    });
    this.#retries = new TallyCounter({
      name: 'baton_step_retries_total',
      help: 'Failed step attempts that were scheduled to run again, by handler',
      labelNames: ['handler'],
      registers,
    });
    this.#registerGauges(options);
    // One subscription per type, not `*`: events nobody listens to are not turned into views.
    const types = [...Object.keys(TASK_ENDS), ...Object.keys(STEP_OUTCOMES), 'step.started'] as EventType[];
    const listener = (event: BatonEvent) => this.#onEvent(event);
    this.#unsubscribe = types.map((type) => engine.on(type, listener));
  }

  /** Stops following the engine's events (the metrics stay registered). */
  close(): void {
    for (const stop of this.#unsubscribe) stop();
    this.#unsubscribe.length = 0;
    this.#labels.clear();
    this.#started.clear();
  }

  #registerGauges(options: EngineMetricsOptions): void {
    const engine = this.#engine;
    const registers = [this.registry];
    const deadlineMs = options.statsDeadlineMs ?? 1000;
    const readStats = cached(options.statsTtlMs ?? 1000, options.now ?? Date.now, async () => {
      try {
        return await withDeadline(() => engine.store.stats(), deadlineMs);
      } catch (error) {
        engine.logger.warn({ err: error }, 'baton.metrics.store_stats_failed');
        return null;
      }
    });
    // When the store does not answer in time, a scrape shows the last counts read (and a warning
    // is logged): prom-client cannot leave out an unlabeled gauge, and 0 would read as "empty".
    const fromStats = (read: (stats: StoreStats) => void) =>
      readStats().then((stats) => {
        if (stats) read(stats);
      });
    new Gauge({
      name: 'baton_queue_depth',
      help: 'Ready steps waiting to be claimed (backing-off retries included), in the store',
      registers,
      collect() {
        return fromStats((stats) => this.set(stats.readySteps));
      },
    });
    new Gauge({
      name: 'baton_steps_running',
      help: 'Steps claimed by a worker and running, in the store',
      registers,
      collect() {
        return fromStats((stats) => this.set(stats.runningSteps));
      },
    });
    new Gauge({
      name: 'baton_tasks_by_status',
      help: 'Tasks in the store by current status',
      labelNames: ['status'],
      registers,
      collect() {
        return fromStats((stats) => {
          for (const status of TASK_STATUSES) this.set({ status }, stats.tasks[status] ?? 0);
        });
      },
    });
    new Gauge({
      name: 'baton_dlq_size',
      help: 'Open dead-letter entries (neither replayed nor resolved), in the store',
      registers,
      collect() {
        return fromStats((stats) => this.set(stats.openDeadLetters));
      },
    });
    new Gauge({
      name: 'baton_circuit_state',
      help: 'Circuit breaker state of each registered handler in this process: 0 closed, 1 half-open, 2 open',
      labelNames: ['handler'],
      registers,
      collect() {
        this.reset();
        for (const key of engine.handlers.keys()) {
          this.set({ handler: handlerLabel(key) }, CIRCUIT_VALUES[engine.circuitState(key)]);
        }
      },
    });
  }

  #onEvent(event: BatonEvent): void {
    const taskId = event.task_id;
    if (taskId === null) return;
    const type = event.type;
    if (type === 'step.started') {
      this.#trackStart(`${taskId}\u0000${event.step}`, Date.parse(event.at));
      return;
    }
    if (type === 'task.completed' || type === 'task.failed' || type === 'task.cancelled') {
      const status = TASK_ENDS[type];
      this.#withLabels(taskId, (labels) => {
        this.#tasks.add([labels.template, status]);
        this.#labels.delete(taskId);
      });
      return;
    }
    if (!(type in STEP_OUTCOMES) || event.step === null) return;
    if (type === 'step.cancelled' && event.from !== 'running') return;
    const status = STEP_OUTCOMES[type as keyof typeof STEP_OUTCOMES];
    const key = `${taskId}\u0000${event.step}`;
    const started = this.#started.get(key);
    this.#started.delete(key);
    const seconds = TIMED_OUTCOMES.has(status) ? attemptSeconds(event, started) : undefined;
    const step = event.step;
    this.#withLabels(taskId, (labels) => {
      const handler = labels.handlers.get(step) ?? OTHER_LABEL;
      this.#steps.add([handler, status]);
      if (status === 'retry_scheduled') this.#retries.add([handler]);
      if (seconds !== undefined) this.#duration.record([handler], seconds);
    });
  }

  #trackStart(key: string, at: number): void {
    // Attempts claimed here but finished by another process never report back: forget the oldest.
    if (this.#started.size >= this.#maxTracked) {
      this.#started.delete(this.#started.keys().next().value!);
    }
    this.#started.set(key, at);
  }

  /** Calls `use` with the task's labels: at once when known, else once the store has answered. */
  #withLabels(taskId: string, use: (labels: TaskLabels) => void): void {
    let labels = this.#labels.get(taskId);
    if (labels === undefined) {
      if (this.#labels.size >= this.#maxTracked) this.#labels.delete(this.#labels.keys().next().value!);
      const loading = this.#readLabels(taskId).then((found) => {
        // A terminal event may have forgotten the task meanwhile; keep only what is still wanted.
        if (this.#labels.get(taskId) === loading) this.#labels.set(taskId, found);
        return found;
      });
      this.#labels.set(taskId, loading);
      labels = loading;
    }
    if (labels instanceof Promise) void labels.then(use);
    else use(labels);
  }

  async #readLabels(taskId: string): Promise<TaskLabels> {
    const engine = this.#engine;
    try {
      const state = await engine.store.getTask(taskId);
      if (!state) return UNKNOWN_TASK;
      const { namespace, name } = state.task;
      const template = `${namespace}.${name}`;
      const registered = new Set(engine.handlers.keys());
      return {
        template: engine.templates.resolve(template) ? template : OTHER_LABEL,
        handlers: new Map(
          state.steps.map((step) => [
            step.name,
            registered.has(step.handler) ? handlerLabel(step.handler) : OTHER_LABEL,
          ]),
        ),
      };
    } catch {
      // The store is closing or failing: count the event, under `other`.
      return UNKNOWN_TASK;
    }
  }
}

/** The duration of the attempt an outcome event ends, in seconds, if known. */
function attemptSeconds(event: BatonEvent, startedAt: number | undefined): number | undefined {
  const durationMs = event.data?.['duration_ms'];
  if (typeof durationMs === 'number') return durationMs / 1000;
  if (startedAt === undefined) return undefined;
  return Math.max(0, Date.parse(event.at) - startedAt) / 1000;
}

/** A handler key as task views show it: `builtin:http` is `http`. */
function handlerLabel(key: string): string {
  return key.startsWith('builtin:') ? key.slice('builtin:'.length) : key;
}
