import { hostname } from 'node:os';
import { pino, type Logger } from 'pino';
import { Registry } from 'prom-client';
import { SpanKind, type Span, type Tracer, type TracerProvider } from '@opentelemetry/api';
import { createHttpClient, HttpClient, type HttpClientOptions } from '../client/index.ts';
import {
  failSpan,
  resolveTracer,
  resolveTracerProvider,
  startSpan,
  traceparentOf,
} from '../observability/tracing.ts';
import { openStore } from '../storage/index.ts';
import type { EventRecord, EventType, RetryPolicy, StepRow, TaskRow } from '../storage/records.ts';
import { EVENT_TYPES, TASK_STATUSES, TERMINAL_TASK_STATUSES } from '../storage/records.ts';
import type { Store, TaskDraft, TaskPlanner } from '../storage/store.ts';
import { BatonError, NotFoundError, ValidationError, type ErrorDetail } from '../util/errors.ts';
import { newTaskId, ulid } from '../util/ids.ts';
import {
  CircuitBreakers,
  DEFAULT_CIRCUIT_OPTIONS,
  type CircuitOptions,
  type CircuitState,
} from './circuit.ts';
import { asapHandler } from './builtins/asap.ts';
import { httpHandler } from './builtins/http.ts';
import {
  analyzeDependencies,
  dependencyStepsOf,
  estimateDurations,
  stepDuration,
  type DependencyAnalysis,
  type DependencyOptions,
} from './dependencies.ts';
import { httpClientLogHooks } from '../observability/http-client-logs.ts';
import { logEngineEvents } from './event-logs.ts';
import { EventBus, type EventListener } from './events.ts';
import type { BuiltinHandler, StepHandler } from './handler.ts';
import { builtinKey, HandlerRegistry, TemplateRegistry, type HandlerEntry } from './registry.ts';
import { DEFAULT_RETRY_POLICY, resolveRetryPolicy, type RetryPolicyInput } from './retry.ts';
import { compileSchema, formatSchemaErrors, problemsError } from './schema.ts';
import { loadTemplateDir, parseTemplateSource, type StepTemplate, type Template } from './templates.ts';
import { planCancel, planNewTask, planReplay, planResolve, type PlanContext } from './transitions.ts';
import {
  toDeadLetterView,
  toEventView,
  toTaskSummary,
  toTaskView,
  type BatonEvent,
  type DeadLetterView,
  type TaskSummary,
  type TaskView,
} from './views.ts';
import { WorkerPool } from './worker.ts';

export interface EngineOptions {
  /** A store, or a store URL (`sqlite:./data/baton.db`, `sqlite::memory:`); a URL's store is owned and closed by the engine. */
  store: Store | string;
  /** Apply pending migrations when the engine is created (default true). */
  migrate?: boolean;
  /** Identifies this process's leases (default `hostname:pid:random`). */
  workerId?: string;
  /** Steps run at once by this process's workers (default 16). */
  concurrency?: number;
  /** Lease length; a crashed worker's steps run again this long after its last heartbeat (default 30 s). */
  leaseMs?: number;
  /** Lease renewal interval (default a third of the lease). */
  heartbeatMs?: number;
  /** Safety-net polling when no wake-up arrives (default 1 s). */
  pollIntervalMs?: number;
  /** Engine-wide retry defaults; templates override per step. */
  retry?: RetryPolicyInput;
  circuit?: Partial<CircuitOptions>;
  logger?: Logger;
  /**
   * The HTTP client of `http` steps and `ctx.http`: a client (yours to close) or options for one
   * the engine makes on first use and closes with itself.
   */
  http?: HttpClient | HttpClientOptions;
  /**
   * Where the HTTP client the engine makes records its metrics (default: a registry of the
   * engine's own, `engine.metrics`, which a server on this engine serves at `/metrics`).
   */
  metrics?: Registry;
  /**
   * Where the engine's spans go (`baton.task`, `baton.step`, and the HTTP client's when the
   * engine makes it). Default: the global provider when one is registered, else no tracing.
   */
  tracerProvider?: TracerProvider;
  /** Injectable clock (epoch ms) and randomness, for tests. */
  now?: () => number;
  random?: () => number;
}

export interface StartTaskInput {
  /** `namespace.name` (latest version) or `namespace.name@1.2.3`. */
  template: string;
  input?: unknown;
  /** Starting again with the same key returns the existing task (SPEC §2.7). */
  idempotencyKey?: string;
}

export interface ListTasksInput {
  status?: TaskRow['status'];
  namespace?: string;
  /** Template name (without namespace), or `namespace.name`. */
  template?: string;
  limit?: number;
  cursor?: string;
}

/** See `Engine.workerState()`. */
export interface WorkerState {
  /** Whether this process claims steps (`startWorkers()` called, not stopped since). */
  running: boolean;
  /** The most steps run at once. */
  concurrency: number;
  /** Steps running now. */
  active: number;
}

const MAX_PAGE = 500;

/**
 * The workflow engine: templates and handlers, tasks and their steps, workers, events. Create one
 * with `createEngine`, register handlers and templates, start workers, start tasks; `close()` when
 * done (or `await using engine = …`).
 */
export class Engine {
  readonly store: Store;
  readonly handlers = new HandlerRegistry();
  readonly templates = new TemplateRegistry(this.handlers);
  readonly logger: Logger;
  readonly workerId: string;
  /** The provider of the engine's spans, `undefined` when tracing is off (see `EngineOptions`). */
  readonly tracerProvider: TracerProvider | undefined;
  /** The engine's tracer, `undefined` when tracing is off. */
  readonly tracer: Tracer | undefined;
  /** See `EngineOptions.metrics`. */
  readonly metrics: Registry;
  readonly #ownsStore: boolean;
  readonly #now: () => number;
  readonly #random: () => number;
  readonly #retryDefaults: RetryPolicy;
  readonly #bus: EventBus;
  readonly #circuits: CircuitBreakers;
  readonly #workers: WorkerPool;
  #stopWaking: (() => void) | undefined;
  #closed = false;
  readonly #httpOption: HttpClient | HttpClientOptions | undefined;
  #ownedHttp: HttpClient | undefined;

  constructor(options: EngineOptions, store: Store, ownsStore: boolean) {
    this.store = store;
    this.#ownsStore = ownsStore;
    this.logger = options.logger ?? pino({ level: 'warn' });
    this.workerId = options.workerId ?? `${hostname()}:${process.pid}:${ulid().slice(-6)}`;
    this.#now = options.now ?? Date.now;
    this.#random = options.random ?? Math.random;
    this.#retryDefaults = resolveRetryPolicy(options.retry, DEFAULT_RETRY_POLICY);
    this.#bus = new EventBus(this.logger);
    this.#httpOption = options.http;
    this.tracerProvider = resolveTracerProvider(options.tracerProvider);
    this.tracer = resolveTracer(this.tracerProvider);
    this.metrics = options.metrics ?? new Registry();
    this.handlers.registerBuiltin('http', httpHandler, 'one HTTP request per attempt (SPEC §5)');
    this.handlers.registerBuiltin('asap', asapHandler, 'one ASAP task.request per attempt (SPEC §3)');
    this.#circuits = new CircuitBreakers(
      { ...DEFAULT_CIRCUIT_OPTIONS, ...options.circuit },
      this.#now,
      (handler, from, to) => this.#onCircuitChange(handler, from, to),
    );
    const leaseMs = options.leaseMs ?? 30_000;
    this.#workers = new WorkerPool(
      {
        workerId: this.workerId,
        concurrency: options.concurrency ?? 16,
        leaseMs,
        heartbeatMs: options.heartbeatMs ?? Math.max(Math.floor(leaseMs / 3), 10),
        pollIntervalMs: options.pollIntervalMs ?? 1000,
      },
      {
        store,
        handlers: this.handlers,
        circuits: this.#circuits,
        logger: this.logger,
        now: this.#now,
        planContext: () => this.#planContext(),
        publish: (events) => this.#publish(events),
        http: () => this.http,
        tracer: this.tracer,
      },
    );
  }

  // ── definitions ────────────────────────────────────────────────────────────

  /** Registers a step handler under `(namespace, name, version)`; `replace: true` to overwrite. */
  registerHandler(
    definition: {
      namespace: string;
      name: string;
      version?: string;
      handler: StepHandler;
      description?: string;
    },
    options?: { replace?: boolean },
  ): HandlerEntry {
    return this.handlers.register(definition, options);
  }

  /** Registers a built-in handler type (`http`, `asap`) that templates configure per step. */
  registerBuiltin(type: string, handler: BuiltinHandler, description?: string): void {
    this.handlers.registerBuiltin(type, handler, description);
  }

  /** Registers a template given as an object, or as YAML/JSON text. Validation is up front and atomic. */
  registerTemplate(template: unknown, options?: { replace?: boolean; format?: 'yaml' | 'json' }): Template {
    const input = typeof template === 'string' ? parseTemplateSource(template, options?.format) : template;
    return this.templates.register(input, options);
  }

  /** Registers every template of a folder of YAML/JSON files: all of them, or none if any is invalid. */
  async loadTemplates(dir: string, options?: { replace?: boolean }): Promise<Template[]> {
    const files = await loadTemplateDir(dir);
    return this.templates.registerMany(
      files.map((file) => file.template),
      { ...options, sources: files.map((file) => file.source) },
    );
  }

  // ── tasks ──────────────────────────────────────────────────────────────────

  /** Starts a task; `created` is false when an idempotency key matched an existing task. */
  async startTask(request: StartTaskInput): Promise<{ task: TaskView; created: boolean }> {
    const [started] = await this.startTasks([request]);
    return started!;
  }

  /**
   * Starts many tasks in one transaction: all of them or, if any request is invalid, none. Much
   * faster than one `startTask` per task for bulk loads.
   */
  async startTasks(requests: readonly StartTaskInput[]): Promise<{ task: TaskView; created: boolean }[]> {
    const given: unknown = requests;
    if (!Array.isArray(given)) throw new ValidationError('startTasks needs an array of { template, input }');
    const now = this.#now();
    const drafts = requests.map((request, index) =>
      this.#draftTask(request, now, requests.length > 1 ? index : undefined),
    );
    const spans = this.tracer === undefined ? undefined : drafts.map((draft) => this.#taskSpan(draft));
    let results: Awaited<ReturnType<Store['createTasks']>>;
    try {
      results = await this.store.createTasks(drafts);
    } catch (error) {
      for (const span of spans ?? []) failSpan(span, error);
      throw error;
    }
    if (spans !== undefined) endTaskSpans(spans, results);
    for (const result of results) this.#publish(result.events);
    if (results.some((result) => result.created)) this.#workers.notify();
    return results.map((result) => ({ task: toTaskView(result.state), created: result.created }));
  }

  /** A task with its steps and, unless `history: false`, its full history. */
  async getTask(id: string, options?: { history?: boolean }): Promise<TaskView> {
    requireId(id, 'task id');
    const state = await this.store.getTask(id);
    if (!state) throw new NotFoundError(`no task with id ${id}`);
    if (options?.history === false) return toTaskView(state);
    return toTaskView(state, await this.#taskEvents(id));
  }

  /**
   * A task with its dependency analysis (SPEC §2.9). Steps without an actual duration are estimated
   * by the median of the same step in the last `sample` (default 20) other tasks of the template.
   */
  async analyzeTask(
    id: string,
    options: DependencyOptions & { sample?: number } = {},
  ): Promise<{ task: TaskView; dependencies: DependencyAnalysis }> {
    const task = await this.getTask(id);
    const missing = task.steps.filter((step) => stepDuration(step) === null).map((step) => step.name);
    let estimates = new Map<string, number>();
    const sample = options.sample ?? 20;
    if (!Number.isInteger(sample) || sample < 0 || sample > 100) {
      throw new ValidationError(`sample must be an integer from 0 to 100; got ${sample}`);
    }
    if (missing.length > 0 && sample > 0) {
      const { tasks } = await this.listTasks({ template: task.template, limit: sample + 1 });
      const past = tasks.filter((other) => other.id !== id).slice(0, sample);
      const views = await Promise.all(past.map((other) => this.getTask(other.id, { history: false })));
      estimates = estimateDurations(views, missing);
    }
    return { task, dependencies: analyzeDependencies(dependencyStepsOf(task, estimates), options) };
  }

  async listTasks(query: ListTasksInput = {}): Promise<{ tasks: TaskSummary[]; next_cursor: string | null }> {
    const { status, namespace, template, cursor } = query;
    if (status !== undefined && !TASK_STATUSES.includes(status)) {
      throw new ValidationError(
        `status must be one of ${TASK_STATUSES.join(', ')}; got ${JSON.stringify(status)}`,
      );
    }
    const [templateNamespace, templateName] = template?.includes('.')
      ? template.split('.', 2)
      : [undefined, template];
    const page = await this.store.listTasks({
      limit: pageLimit(query.limit),
      ...(status !== undefined ? { status } : {}),
      ...((namespace ?? templateNamespace) !== undefined
        ? { namespace: (namespace ?? templateNamespace)! }
        : {}),
      ...(templateName !== undefined ? { name: templateName } : {}),
      ...(cursor !== undefined ? { cursor: requireId(cursor, 'cursor') } : {}),
    });
    return { tasks: page.items.map(toTaskSummary), next_cursor: page.nextCursor };
  }

  /** Cancels a pending or running task; running steps see `ctx.signal` aborted and their results are discarded. */
  async cancelTask(id: string): Promise<TaskView> {
    const view = await this.#operate(id, (state) => planCancel(state, this.#planContext()));
    this.#workers.abortTask(id);
    return view;
  }

  /** Re-runs a failed task's failed and skipped steps with fresh attempts, keeping completed results. */
  async replayTask(id: string): Promise<TaskView> {
    return this.#operate(id, (state) => planReplay(state, this.#planContext()));
  }

  /** Marks a failed step as resolved, optionally with a result, so its dependents proceed. */
  async resolveStep(id: string, step: string, options?: { result?: unknown }): Promise<TaskView> {
    requireId(step, 'step name');
    return this.#operate(id, (state) =>
      planResolve(state, step, options?.result ?? null, this.#planContext()),
    );
  }

  /** Resolves when the task is completed, failed or cancelled; rejects with code `timeout` after `timeoutMs`. */
  async waitForTask(id: string, options?: { timeoutMs?: number }): Promise<TaskView> {
    requireId(id, 'task id');
    const timeoutMs = options?.timeoutMs ?? 60_000;
    const deadline = Date.now() + timeoutMs;
    let wake: (() => void) | undefined;
    const unsubscribe = this.#bus.on('*', (event) => {
      if (event.task_id === id && event.step === null) wake?.();
    });
    try {
      for (;;) {
        const view = await this.getTask(id, { history: false });
        if (TERMINAL_TASK_STATUSES.has(view.status)) return this.getTask(id);
        const remaining = deadline - Date.now();
        if (remaining <= 0)
          throw new BatonError(
            'timeout',
            `task ${id} did not finish within ${timeoutMs} ms (it is ${view.status})`,
          );
        // Woken by this process's events; polling covers tasks finished by other processes.
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, Math.min(this.#workers.options.pollIntervalMs, remaining));
          wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
      }
    } finally {
      unsubscribe();
    }
  }

  // ── dead letters and events ────────────────────────────────────────────────

  async listDeadLetters(query: { limit?: number; cursor?: string; includeClosed?: boolean } = {}): Promise<{
    dead_letters: DeadLetterView[];
    next_cursor: string | null;
  }> {
    const page = await this.store.listDeadLetters({
      limit: pageLimit(query.limit),
      ...(query.cursor !== undefined ? { cursor: requireId(query.cursor, 'cursor') } : {}),
      ...(query.includeClosed ? { includeClosed: true } : {}),
    });
    return { dead_letters: page.items.map(toDeadLetterView), next_cursor: page.nextCursor };
  }

  /** Replays the task behind a dead-letter entry. */
  async replayDeadLetter(id: string): Promise<TaskView> {
    requireId(id, 'dead-letter id');
    const entry = await this.store.getDeadLetter(id);
    if (!entry) throw new NotFoundError(`no dead-letter entry with id ${id}`);
    return this.replayTask(entry.taskId);
  }

  /** Durable events after a sequence number (for streams that resume with `Last-Event-ID`). */
  async listEvents(
    query: { afterSeq?: number; taskId?: string; limit?: number } = {},
  ): Promise<BatonEvent[]> {
    const events = await this.store.listEvents({
      limit: pageLimit(query.limit),
      ...(query.afterSeq !== undefined ? { afterSeq: query.afterSeq } : {}),
      ...(query.taskId !== undefined ? { taskId: requireId(query.taskId, 'task id') } : {}),
    });
    return events.map(toEventView);
  }

  /** Subscribes to committed events of one type, or `*`; returns the unsubscribe function. */
  on(type: EventType | '*', listener: EventListener): () => void {
    if (type !== '*' && !EVENT_TYPES.includes(type)) {
      throw new ValidationError(
        `unknown event type ${JSON.stringify(type)}; expected one of ${EVENT_TYPES.join(', ')} or *`,
      );
    }
    if (typeof listener !== 'function') throw new ValidationError('listener must be a function');
    return this.#bus.on(type, listener);
  }

  circuitState(handlerKey: string): CircuitState {
    return this.#circuits.state(handlerKey);
  }

  /** Handlers whose circuit is not closed, with its state (`open` or `half_open`), for health reports. */
  openCircuits(): Map<string, CircuitState> {
    const circuits = new Map<string, CircuitState>();
    for (const handler of this.#circuits.blocked()) circuits.set(handler, this.#circuits.state(handler));
    return circuits;
  }

  // ── workers and lifecycle ──────────────────────────────────────────────────

  /** Starts claiming and running steps in this process. */
  startWorkers(): void {
    if (this.#closed) throw new ValidationError('the engine is closed');
    this.#workers.start();
    this.#stopWaking ??= this.store.onWake?.(() => this.#workers.notify());
  }

  /** Stops claiming; running steps get until `timeoutMs` to finish, then are released to other workers. */
  stopWorkers(options?: { timeoutMs?: number }): Promise<void> {
    this.#stopWaking?.();
    this.#stopWaking = undefined;
    return this.#workers.stop(options?.timeoutMs ?? 10_000);
  }

  get workersRunning(): boolean {
    return this.#workers.isRunning;
  }

  /** This process's workers, read-only, for health reports. */
  workerState(): WorkerState {
    return {
      running: this.#workers.isRunning,
      concurrency: this.#workers.options.concurrency,
      active: this.#workers.activeCount,
    };
  }

  /** The client of `http` steps and `ctx.http` (see `EngineOptions.http`). */
  get http(): HttpClient {
    const given = this.#httpOption;
    if (given instanceof HttpClient) return given;
    if (this.#closed) throw new BatonError('shutting_down', 'the engine is closed');
    return (this.#ownedHttp ??= createHttpClient({
      tracerProvider: this.tracerProvider,
      ...given,
      metrics: given?.metrics ?? this.metrics,
      hooks: httpClientLogHooks(this.logger, given?.hooks),
    }));
  }

  /**
   * Stops workers (graceful, with the same deadline), then closes what the engine opened: its
   * HTTP client and, when it was given a URL, its store.
   */
  async close(options?: { timeoutMs?: number }): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.stopWorkers(options);
    await this.#ownedHttp?.close();
    if (this.#ownsStore) await this.store.close();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.close();
  }

  // ── internals ──────────────────────────────────────────────────────────────

  async #operate(id: string, planner: TaskPlanner): Promise<TaskView> {
    requireId(id, 'task id');
    let found = false;
    const events = await this.store.updateTasks([id], (state) => {
      found = true;
      return planner(state);
    });
    if (!found) throw new NotFoundError(`no task with id ${id}`);
    this.#publish(events);
    this.#workers.notify();
    return this.getTask(id);
  }

  /** Validates a start request and builds the task's rows (`index` names the request in errors). */
  #draftTask(request: StartTaskInput, now: number, index: number | undefined): TaskDraft {
    const { template, input, idempotencyKey } = validateStartRequest(request, index);
    const found = this.templates.resolve(template);
    if (!found) throw new NotFoundError(`${where(index)}no template ${template} is registered`);
    this.#validateInput(found, input);
    const task: TaskRow = {
      id: newTaskId(now),
      namespace: found.namespace,
      name: found.name,
      version: found.version,
      status: 'pending',
      input,
      error: null,
      idempotencyKey,
      traceparent: null,
      createdAt: now,
      startedAt: null,
      finishedAt: null,
      updatedAt: now,
    };
    const steps = this.#newSteps(found, task);
    return { task, steps, events: planNewTask(task, steps, this.#planContext()) };
  }

  /**
   * The `baton.task` span of a new task: it covers the task's creation, and its traceparent is
   * stored with the task so that every step attempt, in any process and after restarts, is a
   * child span of it (a task outlives the request that started it).
   */
  #taskSpan(draft: TaskDraft): Span {
    const { task } = draft;
    const span = startSpan(this.tracer!, `baton.task ${task.namespace}.${task.name}`, {
      kind: SpanKind.INTERNAL,
      attributes: {
        'baton.task.id': task.id,
        'baton.task.template': `${task.namespace}.${task.name}`,
        'baton.task.template_version': task.version,
        'baton.task.steps': draft.steps.length,
      },
    });
    task.traceparent = traceparentOf(span);
    return span;
  }

  #validateInput(template: Template, input: unknown): void {
    const label = `${template.namespace}.${template.name}`;
    if (template.input_schema) {
      const validate = compileSchema(template.input_schema);
      if (!validate(input)) {
        throw problemsError(
          `input does not match the input_schema of ${label}`,
          formatSchemaErrors(validate.errors),
        );
      }
    }
    const problems = this.#builtinInputProblems(template, input);
    if (problems.length > 0) throw problemsError(`input does not fit the steps of ${label}`, problems);
  }

  /** Built-in steps that read the input (`{{input.order.id}}`) check it before the task exists. */
  #builtinInputProblems(template: Template, input: unknown): ErrorDetail[] {
    const problems: ErrorDetail[] = [];
    for (const step of template.steps) {
      if (typeof step.handler !== 'object') continue;
      const builtin = this.handlers.builtin(step.handler.type);
      for (const problem of builtin?.checkInput?.(step.handler, input) ?? []) {
        problems.push({ ...problem, path: `steps.${step.name}${problem.path ? `.${problem.path}` : ''}` });
      }
    }
    return problems;
  }

  #handlerKey(step: StepTemplate): string {
    if (typeof step.handler === 'object') return builtinKey(step.handler.type);
    const entry = this.handlers.resolve(step.handler);
    if (!entry) throw new NotFoundError(`handler ${step.handler} of step ${step.name} is not registered`);
    return entry.key;
  }

  #newSteps(template: Template, task: TaskRow): Omit<StepRow, 'id'>[] {
    return template.steps.map((step, position) => ({
      taskId: task.id,
      position,
      name: step.name,
      handler: this.#handlerKey(step),
      spec: {
        depends_on: [...step.depends_on],
        retry: resolveRetryPolicy(step.retry, this.#retryDefaults),
        retryable: step.retryable,
        timeout_ms: step.timeout_ms ?? null,
        handler_config: typeof step.handler === 'object' ? { ...step.handler } : null,
        ...(step.description ? { description: step.description } : {}),
      },
      status: 'pending',
      attempts: 0,
      replays: 0,
      runAt: null,
      leaseOwner: null,
      leaseUntil: null,
      startedAt: null,
      finishedAt: null,
      result: null,
      error: null,
    }));
  }

  async #taskEvents(taskId: string): Promise<EventRecord[]> {
    const all: EventRecord[] = [];
    for (;;) {
      const batch = await this.store.listEvents({ taskId, afterSeq: all.at(-1)?.seq ?? 0, limit: 1000 });
      all.push(...batch);
      if (batch.length < 1000) return all;
    }
  }

  #planContext(): PlanContext {
    return { now: this.#now(), newId: ulid, random: this.#random };
  }

  #publish(events: readonly EventRecord[]): void {
    if (events.length === 0) return;
    logEngineEvents(this.logger, events);
    if (!this.#bus.hasListeners) return;
    for (const event of events) if (this.#bus.wants(event.type)) this.#bus.emit(toEventView(event));
  }

  #onCircuitChange(handler: string, from: CircuitState, to: CircuitState): void {
    const type =
      to === 'open' ? 'circuit.opened' : to === 'closed' ? 'circuit.closed' : 'circuit.half_opened';
    this.logger.warn({ handler, from, to }, `engine.${type}`);
    const event = {
      type,
      taskId: null,
      step: null,
      from,
      to: null,
      reason: null,
      attempt: null,
      error: null,
      data: { handler, state: to },
      at: this.#now(),
    } as const;
    this.store.appendEvents([event]).then(
      (records) => this.#publish(records),
      (error: unknown) => this.logger.error({ err: error }, 'engine.circuit.event_failed'),
    );
    if (to === 'closed' || to === 'half_open') this.#workers.notify();
  }
}

/** Ends the `baton.task` spans of a batch; an idempotent start names the task it found. */
function endTaskSpans(spans: readonly Span[], results: Awaited<ReturnType<Store['createTasks']>>): void {
  for (const [index, span] of spans.entries()) {
    const result = results[index];
    span.setAttribute('baton.task.created', result?.created ?? false);
    if (result !== undefined && !result.created) span.setAttribute('baton.task.id', result.state.task.id);
    span.end();
  }
}

/** Opens (and by default migrates) the store and returns an engine ready for registrations. */
export async function createEngine(options: EngineOptions): Promise<Engine> {
  validateEngineOptions(options);
  const ownsStore = typeof options.store === 'string';
  const store = typeof options.store === 'string' ? openStore(options.store) : options.store;
  try {
    if (options.migrate !== false) await store.migrate();
  } catch (error) {
    if (ownsStore) await store.close();
    throw error;
  }
  return new Engine(options, store, ownsStore);
}

// ── argument validation ──────────────────────────────────────────────────────

function validateEngineOptions(options: EngineOptions): void {
  if (typeof options !== 'object' || options === null)
    throw new ValidationError('createEngine needs an options object with a store');
  if (typeof options.store !== 'string' && (typeof options.store !== 'object' || options.store === null)) {
    throw new ValidationError('options.store must be a Store or a store URL such as sqlite:./data/baton.db');
  }
  const positive: [keyof EngineOptions, number | undefined, number][] = [
    ['concurrency', options.concurrency, 0],
    ['leaseMs', options.leaseMs, 1],
    ['heartbeatMs', options.heartbeatMs, 1],
    ['pollIntervalMs', options.pollIntervalMs, 1],
  ];
  for (const [name, value, min] of positive) {
    if (value !== undefined && (!Number.isInteger(value) || value < min)) {
      throw new ValidationError(`options.${name} must be an integer ≥ ${min}; got ${JSON.stringify(value)}`);
    }
  }
}

function where(index: number | undefined): string {
  return index === undefined ? '' : `requests[${index}]: `;
}

function validateStartRequest(
  request: StartTaskInput,
  index: number | undefined,
): { template: string; input: unknown; idempotencyKey: string | null } {
  const at = where(index);
  if (typeof request !== 'object' || request === null) {
    throw new ValidationError(`${at}startTask needs { template, input }`);
  }
  if (typeof request.template !== 'string' || request.template.length === 0) {
    throw new ValidationError(
      `${at}template must be a string such as "billing.invoice" or "billing.invoice@1.2.0"`,
    );
  }
  const key = request.idempotencyKey;
  if (key !== undefined && (typeof key !== 'string' || key.length === 0 || key.length > 255)) {
    throw new ValidationError(`${at}idempotencyKey must be a non-empty string of at most 255 characters`);
  }
  const input = request.input === undefined ? {} : request.input;
  try {
    JSON.stringify(input);
  } catch {
    throw new ValidationError(`${at}input must be JSON-serialisable`);
  }
  return { template: request.template, input, idempotencyKey: key ?? null };
}

function requireId(value: unknown, what: string): string {
  if (typeof value !== 'string' || value.length === 0 || value.length > 200) {
    throw new ValidationError(`${what} must be a non-empty string; got ${JSON.stringify(value)}`);
  }
  return value;
}

function pageLimit(limit: number | undefined): number {
  if (limit === undefined) return 50;
  if (!Number.isInteger(limit) || limit < 1 || limit > MAX_PAGE) {
    throw new ValidationError(`limit must be an integer from 1 to ${MAX_PAGE}; got ${JSON.stringify(limit)}`);
  }
  return limit;
}
