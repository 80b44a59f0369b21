/**
 * The REST API's schemas (SPEC §5), in TypeBox. Routes validate their input with them and the
 * OpenAPI document is generated from the same objects, so the two cannot drift. Models with an
 * `$id` are shared (`app.addSchema`) and referenced with `Type.Ref`; they become
 * `#/components/schemas/<$id>` in the document. Responses are described, not enforced: the routes
 * send the engine's views as they are (SPEC §5: more fields may be added).
 */
import { Type, type TSchema } from 'typebox';
import { EVENT_TYPES, STEP_STATUSES, TASK_STATUSES } from '../storage/records.ts';
import { REST_ERROR_CODES } from './errors.ts';

/** The longest `wait_ms` a start request may ask for. */
export const MAX_WAIT_MS = 120_000;
/** The largest page of a list. */
export const MAX_PAGE_SIZE = 500;

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);
const Timestamp = Type.String({ format: 'date-time', description: 'ISO 8601, UTC' });
const NullableTimestamp = Nullable(Timestamp);
const Id = Type.String({ minLength: 1, maxLength: 200 });
/** `enum` rather than a union of literals: one error naming the allowed values, not one per value. */
const OneOf = <const T extends string[]>(values: readonly [...T]) => Type.Enum(values);

// ── shared models ───────────────────────────────────────────────────────────────

export const ErrorDetailSchema = Type.Object(
  {
    path: Type.Optional(Type.String({ description: 'Where the problem is, e.g. `steps[2].depends_on`' })),
    message: Type.String(),
  },
  { $id: 'ErrorDetail' },
);

export const ErrorResponseSchema = Type.Object(
  {
    error: Type.Object({
      code: OneOf(REST_ERROR_CODES),
      message: Type.String(),
      details: Type.Optional(Type.Array(Type.Ref('ErrorDetail'))),
    }),
  },
  { $id: 'ErrorResponse', description: 'Every error: a stable code, a message, and details when useful' },
);

export const StoredErrorSchema = Type.Object(
  {
    name: Type.String(),
    message: Type.String(),
    code: Type.Optional(Type.String()),
    retryable: Type.Optional(Type.Boolean()),
  },
  { $id: 'StoredError' },
);

const NullableError = Nullable(Type.Ref('StoredError'));

export const StepSchema = Type.Object(
  {
    name: Type.String(),
    handler: Type.String({ description: '`namespace/name@version`, or a built-in type (`http`, `asap`)' }),
    status: OneOf([...STEP_STATUSES, 'retrying']),
    depends_on: Type.Array(Type.String()),
    attempts: Type.Integer({ minimum: 0 }),
    max_attempts: Type.Integer({ minimum: 1 }),
    run_at: NullableTimestamp,
    started_at: NullableTimestamp,
    finished_at: NullableTimestamp,
    result: Type.Unknown(),
    error: NullableError,
  },
  { $id: 'Step' },
);

export const HistoryEntrySchema = Type.Object(
  {
    at: Timestamp,
    step: Nullable(Type.String()),
    from: Nullable(Type.String()),
    to: Type.String(),
    reason: Nullable(Type.String()),
    attempt: Nullable(Type.Integer()),
    error: NullableError,
  },
  { $id: 'HistoryEntry' },
);

const taskFields = {
  id: Type.String(),
  template: Type.String({ description: '`namespace.name`' }),
  namespace: Type.String(),
  version: Type.String(),
  status: OneOf(TASK_STATUSES),
  input: Type.Unknown(),
  error: NullableError,
  idempotency_key: Nullable(Type.String()),
  created_at: Timestamp,
  started_at: NullableTimestamp,
  finished_at: NullableTimestamp,
};

export const TaskSummarySchema = Type.Object(taskFields, {
  $id: 'TaskSummary',
  description: 'A task as listed: without steps, result or history',
});

export const ImpactWeightsSchema = Type.Object(
  {
    downstream: Type.Number({ minimum: 0 }),
    duration: Type.Number({ minimum: 0 }),
    failure: Type.Number({ minimum: 0 }),
  },
  { $id: 'ImpactWeights', description: 'The impact weights used, normalised to sum to 1' },
);

export const DependencyAnalysisSchema = Type.Object(
  {
    levels: Type.Array(Type.Array(Type.String()), {
      description: 'Topological levels: level 0 has no dependencies; names sorted within a level',
    }),
    critical_path: Type.Object({
      steps: Type.Array(Type.String()),
      duration_ms: Type.Number({ minimum: 0 }),
      estimated: Type.Boolean({ description: 'A step on the path has no actual duration' }),
    }),
    bottlenecks: Type.Array(
      Type.Object({
        step: Type.String(),
        downstream: Type.Integer({ minimum: 0, description: 'Steps depending on it, directly or not' }),
        impact: Type.Number({ minimum: 0, maximum: 1 }),
      }),
      { description: 'Steps others depend on, by impact (highest first), then name; at most 5' },
    ),
    impact: Type.Record(Type.String(), Type.Number({ minimum: 0, maximum: 1 }), {
      description:
        "Each step's impact: the weighted mean of its downstream share, its share of the critical " +
        'path duration, and a failure signal (1 if it failed or was retried)',
    }),
    durations: Type.Record(
      Type.String(),
      Type.Object({
        duration_ms: Type.Number({ minimum: 0 }),
        source: OneOf(['actual', 'estimate', 'unknown']),
      }),
      { description: 'The duration used per step: actual, else the median of past runs, else 0' },
    ),
    weights: Type.Ref('ImpactWeights'),
  },
  { $id: 'DependencyAnalysis', description: 'Dependency graph analysis of a task (SPEC §2.9)' },
);

export const TaskSchema = Type.Object(
  {
    ...taskFields,
    result: Nullable(
      Type.Record(Type.String(), Type.Unknown(), {
        description: "Each leaf step's result by step name, once the task completed",
      }),
    ),
    steps: Type.Array(Type.Ref('Step')),
    history: Type.Optional(Type.Array(Type.Ref('HistoryEntry'))),
    dependencies: Type.Optional(Type.Ref('DependencyAnalysis')),
  },
  { $id: 'Task' },
);

export const DeadLetterSchema = Type.Object(
  {
    id: Type.String(),
    task_id: Type.String(),
    step: Type.String(),
    error: NullableError,
    attempts: Type.Integer({ minimum: 0 }),
    created_at: Timestamp,
    closed_at: NullableTimestamp,
  },
  { $id: 'DeadLetter' },
);

export const HandlerListingSchema = Type.Object(
  {
    name: Type.String(),
    version: Type.String({ description: "Semantic version; '' for built-in handler types" }),
    kind: OneOf(['code', 'builtin']),
    description: Type.String(),
  },
  { $id: 'Handler' },
);

const RetryPolicySchema = Type.Object({
  max_attempts: Type.Optional(Type.Integer({ minimum: 1 })),
  backoff: Type.Optional(
    Type.Object({
      schedule_ms: Type.Optional(Type.Array(Type.Integer({ minimum: 0 }))),
      base_ms: Type.Optional(Type.Integer({ minimum: 0 })),
      factor: Type.Optional(Type.Number({ minimum: 1 })),
      max_ms: Type.Optional(Type.Integer({ minimum: 0 })),
      jitter: Type.Optional(Type.Number({ minimum: 0, maximum: 1 })),
    }),
  ),
  max_retry_after_ms: Type.Optional(Type.Integer({ minimum: 0 })),
});

/**
 * A template step. The schema checks the shape; the engine then checks the meaning (known
 * handlers, dependencies, cycles) and reports unknown keys with suggestions.
 */
export const TemplateStepSchema = Type.Object(
  {
    name: Type.String({ minLength: 1 }),
    handler: Type.Union([
      Type.String({ minLength: 1, description: '`namespace/name` or `namespace/name@1.2.3`' }),
      Type.Object(
        { type: Type.String({ minLength: 1 }) },
        { description: 'A built-in handler configuration, e.g. `{type: http, method, url}`' },
      ),
    ]),
    depends_on: Type.Optional(Type.Array(Type.String())),
    retry: Type.Optional(RetryPolicySchema),
    timeout_ms: Type.Optional(Type.Integer({ minimum: 1 })),
    retryable: Type.Optional(Type.Boolean()),
    concurrency_key: Type.Optional(Type.String()),
    description: Type.Optional(Type.String()),
  },
  { $id: 'TemplateStep' },
);

export const TemplateSchema = Type.Object(
  {
    namespace: Type.String({ minLength: 1 }),
    name: Type.String({ minLength: 1 }),
    version: Type.Optional(Type.String({ description: 'Semantic version, default 0.1.0' })),
    description: Type.Optional(Type.String()),
    input_schema: Type.Optional(
      Type.Record(Type.String(), Type.Unknown(), { description: 'JSON Schema of the task input' }),
    ),
    steps: Type.Array(Type.Ref('TemplateStep'), { minItems: 1 }),
  },
  { $id: 'Template', description: 'A workflow template (SPEC §2.1), as JSON or YAML' },
);

export const EventSchema = Type.Object(
  {
    seq: Type.Integer({ description: 'Increasing; also the SSE `id`' }),
    type: OneOf(EVENT_TYPES),
    task_id: Nullable(Type.String()),
    step: Nullable(Type.String()),
    from: Nullable(Type.String()),
    to: Nullable(Type.String()),
    reason: Nullable(Type.String()),
    attempt: Nullable(Type.Integer()),
    error: NullableError,
    data: Nullable(Type.Record(Type.String(), Type.Unknown())),
    at: Timestamp,
  },
  { $id: 'Event' },
);

/** Registered with `app.addSchema` (and with the validators), in dependency order. */
export const SHARED_SCHEMAS: readonly TSchema[] = [
  ErrorDetailSchema,
  ErrorResponseSchema,
  StoredErrorSchema,
  StepSchema,
  HistoryEntrySchema,
  TaskSummarySchema,
  ImpactWeightsSchema,
  DependencyAnalysisSchema,
  TaskSchema,
  DeadLetterSchema,
  HandlerListingSchema,
  TemplateStepSchema,
  TemplateSchema,
  EventSchema,
];

// ── responses ───────────────────────────────────────────────────────────────────

export const TaskResponse = Type.Object({ task: Type.Ref('Task') }, { description: 'The task' });
export const TaskListResponse = Type.Object(
  {
    tasks: Type.Array(Type.Ref('TaskSummary')),
    next_cursor: Nullable(
      Type.String({ description: 'Pass as `cursor` for the next page; null on the last' }),
    ),
  },
  { description: 'A page of tasks, newest first' },
);
export const TemplateResponse = Type.Object(
  { template: Type.Ref('Template') },
  { description: 'The template, as registered (defaults filled in, steps in dependency order)' },
);
export const TemplateListResponse = Type.Object(
  { templates: Type.Array(Type.Ref('Template')) },
  { description: 'Every template' },
);
export const DeadLetterListResponse = Type.Object(
  { dead_letters: Type.Array(Type.Ref('DeadLetter')), next_cursor: Nullable(Type.String()) },
  { description: 'A page of dead letters, newest first' },
);
export const HandlerNamespacesResponse = Type.Object(
  {
    namespaces: Type.Record(Type.String(), Type.Array(Type.Ref('Handler')), {
      description: 'Handlers by namespace; built-in types are listed under `builtin`',
    }),
  },
  { description: 'Handlers grouped by namespace' },
);

const ERROR_DESCRIPTIONS: Record<number, string> = {
  400: '`validation_failed`: a bad body, query or parameter (details list each problem)',
  404: '`not_found`: no such resource',
  409: '`conflict`: the action does not fit the current state',
  413: '`payload_too_large`: the body is over the size limit',
  415: '`validation_failed`: unsupported Content-Type',
  500: '`internal`: an unexpected error (logged; nothing internal is shown)',
};

/** The documented error answers of a route, by status (the body is always an `ErrorResponse`). */
export function errorResponses(...statuses: number[]): Record<number, TSchema> {
  const responses: Record<number, TSchema> = {};
  for (const status of [...statuses, 500]) {
    responses[status] = Type.Ref('ErrorResponse', { description: ERROR_DESCRIPTIONS[status] ?? 'An error' });
  }
  return responses;
}

// ── requests ────────────────────────────────────────────────────────────────────

const TemplateRef = Type.String({
  minLength: 1,
  maxLength: 200,
  description: '`namespace.name` (latest version) or `namespace.name@1.2.3`',
});

export const StartTaskBody = Type.Object(
  {
    template: TemplateRef,
    input: Type.Optional(Type.Unknown({ description: 'The task input (default `{}`)' })),
    idempotency_key: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 255,
        description: 'Starting again with the same key returns the existing task (200 instead of 201)',
      }),
    ),
    wait_ms: Type.Optional(
      Type.Integer({
        minimum: 0,
        maximum: MAX_WAIT_MS,
        description: 'Answer when the task ends or after this many ms, whichever comes first',
      }),
    ),
  },
  { additionalProperties: false },
);

export const ListTasksQuery = Type.Object(
  {
    status: Type.Optional(OneOf(TASK_STATUSES)),
    template: Type.Optional(
      Type.String({ minLength: 1, maxLength: 200, description: 'Template name, or `namespace.name`' }),
    ),
    namespace: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'From `next_cursor`' })),
  },
  { additionalProperties: false },
);

export const TaskParams = Type.Object({ id: Id });

const Weight = (component: string) =>
  Type.Optional(
    Type.Number({ minimum: 0, description: `Impact weight of ${component} (with \`include_dependencies\`)` }),
  );

export const GetTaskQuery = Type.Object(
  {
    include_dependencies: Type.Optional(
      Type.Boolean({
        default: false,
        description: 'Add `dependencies`: levels, critical path, bottlenecks and impact scores',
      }),
    ),
    weight_downstream: Weight('the downstream share (default 0.5)'),
    weight_duration: Weight('the share of the critical path duration (default 0.3)'),
    weight_failure: Weight('the failure signal (default 0.2)'),
  },
  { additionalProperties: false },
);

export const StepParams = Type.Object({ id: Id, step: Type.String({ minLength: 1, maxLength: 128 }) });

export const ResolveBody = Type.Object(
  { result: Type.Optional(Type.Unknown({ description: 'The result the step is resolved with' })) },
  { additionalProperties: false },
);

export const ListDeadLettersQuery = Type.Object(
  {
    limit: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PAGE_SIZE, default: 50 })),
    cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
    include_closed: Type.Optional(
      Type.Boolean({ description: 'Also list entries already replayed or resolved', default: false }),
    ),
  },
  { additionalProperties: false },
);

export const DeadLetterParams = Type.Object({ id: Id });

export const TemplateParams = Type.Object({ ref: TemplateRef });

export const RegisterTemplateQuery = Type.Object(
  {
    replace: Type.Optional(
      Type.Boolean({
        description: 'Replace a template with the same namespace, name and version',
        default: false,
      }),
    ),
  },
  { additionalProperties: false },
);

const Identifier = Type.String({ pattern: '^[a-z0-9][a-z0-9_-]{0,63}$' });
export const NamespaceParams = Type.Object({ namespace: Identifier });
export const HandlerParams = Type.Object({ namespace: Identifier, name: Identifier });

export const EventsQuery = Type.Object(
  {
    task_id: Type.Optional(
      Type.String({
        minLength: 1,
        maxLength: 200,
        description: "Only this task's events; the stream then starts with the task's first event",
      }),
    ),
  },
  { additionalProperties: false },
);

export const EventsHeaders = Type.Object({
  'last-event-id': Type.Optional(
    Type.String({
      pattern: '^[0-9]{1,15}$',
      description: 'Resume after this event (the `id` of the last event received)',
    }),
  ),
});
