/**
 * The payload models of asap-wire §3 with the reference's validation: strict objects (unknown keys
 * rejected) except `TaskMetrics`, lax scalar coercion, enums, bounds, and the two model rules
 * (`TaskUpdate.progress.percent`, `McpToolResult` result/error exclusivity).
 *
 * A payload is typed by its *normalised* `payload_type` (lower-cased, non-alphanumerics dropped:
 * `task.request`, `TaskRequest` and `task_request` are all `taskrequest`); unknown types stay
 * free-form objects. Handler dispatch, by contrast, uses the exact string (§0.2).
 */
import type { ValidationIssue } from './issues.ts';
import {
  afterModel,
  bool,
  bounded,
  dict,
  float,
  int,
  INVALID,
  list,
  modelField,
  nullable,
  oneOf,
  opt,
  refine,
  rejectExtraKeys,
  req,
  settle,
  str,
  type JsonObject,
  type ModelValidator,
} from './lax.ts';

export const TASK_STATUSES = [
  'submitted',
  'working',
  'completed',
  'failed',
  'cancelled',
  'input_required',
] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];
export const TERMINAL_TASK_STATUSES: ReadonlySet<TaskStatus> = new Set(['completed', 'failed', 'cancelled']);

/** The Task entity's state machine (§3); anything else is -32000 `invalidTransitionError`. */
export const TASK_TRANSITIONS: Readonly<Record<TaskStatus, readonly TaskStatus[]>> = {
  submitted: ['working', 'cancelled'],
  working: ['completed', 'failed', 'cancelled', 'input_required'],
  input_required: ['working', 'cancelled'],
  completed: [],
  failed: [],
  cancelled: [],
};

export function canTransition(from: TaskStatus, to: TaskStatus): boolean {
  return TASK_TRANSITIONS[from].includes(to);
}

export const MESSAGE_ROLES = ['user', 'assistant', 'system'] as const;
export type MessageRole = (typeof MESSAGE_ROLES)[number];

export const UPDATE_TYPES = ['progress', 'input_required', 'status_change'] as const;
export type UpdateType = (typeof UPDATE_TYPES)[number];

export const MESSAGE_ACK_STATUSES = ['received', 'processed', 'rejected'] as const;
export type MessageAckStatus = (typeof MESSAGE_ACK_STATUSES)[number];

/** `TaskRequest.config`: every key optional, and (since v2.5.2) no other key allowed. */
export interface TaskRequestConfig {
  timeout_seconds: number | null;
  priority: string | null;
  idempotency_key: string | null;
  streaming: boolean | null;
  persist_state: boolean | null;
  model: string | null;
  temperature: number | null;
}

export interface TaskRequest {
  conversation_id: string;
  parent_task_id: string | null;
  skill_id: string;
  input: JsonObject;
  config: TaskRequestConfig | null;
}

/** `TaskResponse.metrics`, the one model that keeps unknown keys. */
export interface TaskMetrics {
  duration_ms: number | null;
  tokens_in: number | null;
  tokens_out: number | null;
  tokens_used: number | null;
  api_calls: number | null;
  [extra: string]: unknown;
}

export interface TaskResponse {
  task_id: string;
  status: TaskStatus;
  result: JsonObject | null;
  final_state: JsonObject | null;
  metrics: TaskMetrics | null;
}

export interface TaskStream {
  chunk: string;
  progress: number | null;
  final: boolean;
  status: TaskStatus | null;
}

export interface TaskUpdate {
  task_id: string;
  update_type: UpdateType;
  status: TaskStatus;
  progress: JsonObject | null;
  input_request: JsonObject | null;
}

export interface TaskCancel {
  task_id: string;
  reason: string | null;
}

export interface MessageSend {
  task_id: string;
  message_id: string;
  /** Not URN-checked (unlike the envelope's sender). */
  sender: string;
  role: MessageRole;
  parts: string[];
}

export interface StateQuery {
  task_id: string;
  /** `null`: the latest version. */
  version: number | null;
}

export interface StateRestore {
  task_id: string;
  snapshot_id: string;
}

export interface ArtifactNotify {
  artifact_id: string;
  task_id: string;
  name: string | null;
}

export interface McpToolCall {
  request_id: string;
  tool_name: string;
  arguments: JsonObject;
  mcp_context: JsonObject | null;
}

export interface McpToolResult {
  request_id: string;
  success: boolean;
  result: JsonObject | null;
  error: string | null;
}

export interface McpResourceFetch {
  resource_uri: string;
}

export interface McpResourceData {
  resource_uri: string;
  content: JsonObject;
}

export interface MessageAck {
  original_envelope_id: string;
  status: MessageAckStatus;
  error: string | null;
}

/** Typed payloads by normalised `payload_type`. */
export interface PayloadByKind {
  taskrequest: TaskRequest;
  taskresponse: TaskResponse;
  taskstream: TaskStream;
  taskupdate: TaskUpdate;
  taskcancel: TaskCancel;
  messagesend: MessageSend;
  statequery: StateQuery;
  staterestore: StateRestore;
  artifactnotify: ArtifactNotify;
  mcptoolcall: McpToolCall;
  mcptoolresult: McpToolResult;
  mcpresourcefetch: McpResourceFetch;
  mcpresourcedata: McpResourceData;
  messageack: MessageAck;
}
export type PayloadKind = keyof PayloadByKind;
export type Payload = PayloadByKind[PayloadKind];

const nullableStr = nullable(str);
const nullableDict = nullable(dict);
const status = oneOf(TASK_STATUSES);
const nullableStatus = nullable(status);
const nullableBool = nullable(bool);
const nonNegativeInt = nullable(bounded(int, { ge: 0 }));

function keys<T>(names: readonly (keyof T & string)[]): ReadonlySet<string> {
  return new Set(names);
}

const CONFIG_KEYS = keys<TaskRequestConfig>([
  'timeout_seconds',
  'priority',
  'idempotency_key',
  'streaming',
  'persist_state',
  'model',
  'temperature',
]);
const timeoutSeconds = nullable(bounded(int, { ge: 1 }));
const temperature = nullable(bounded(float, { ge: 0, le: 2 }));

const validateConfig: ModelValidator<TaskRequestConfig> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    timeout_seconds: opt(input.timeout_seconds, 'timeout_seconds', timeoutSeconds, null, prefix, issues),
    priority: opt(input.priority, 'priority', nullableStr, null, prefix, issues),
    idempotency_key: opt(input.idempotency_key, 'idempotency_key', nullableStr, null, prefix, issues),
    streaming: opt(input.streaming, 'streaming', nullableBool, null, prefix, issues),
    persist_state: opt(input.persist_state, 'persist_state', nullableBool, null, prefix, issues),
    model: opt(input.model, 'model', nullableStr, null, prefix, issues),
    temperature: opt(input.temperature, 'temperature', temperature, null, prefix, issues),
  };
  rejectExtraKeys(input, CONFIG_KEYS, prefix, issues);
  return settle(out as TaskRequestConfig, issues, before);
};
const nullableConfig = nullable(modelField('TaskRequestConfig', validateConfig));

const TASK_REQUEST_KEYS = keys<TaskRequest>([
  'conversation_id',
  'parent_task_id',
  'skill_id',
  'input',
  'config',
]);

const validateTaskRequest: ModelValidator<TaskRequest> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    conversation_id: req(input, input.conversation_id, 'conversation_id', str, prefix, issues),
    parent_task_id: opt(input.parent_task_id, 'parent_task_id', nullableStr, null, prefix, issues),
    skill_id: req(input, input.skill_id, 'skill_id', str, prefix, issues),
    input: req(input, input.input, 'input', dict, prefix, issues),
    config: opt(input.config, 'config', nullableConfig, null, prefix, issues),
  };
  rejectExtraKeys(input, TASK_REQUEST_KEYS, prefix, issues);
  return settle(out as TaskRequest, issues, before);
};

const METRICS_KEYS = keys<TaskMetrics>([
  'duration_ms',
  'tokens_in',
  'tokens_out',
  'tokens_used',
  'api_calls',
]);

/** `extra="allow"`: unknown keys are kept, after the declared ones. */
const validateMetrics: ModelValidator<TaskMetrics> = (input, prefix, issues) => {
  const before = issues.length;
  const out: TaskMetrics = {
    duration_ms: opt(input.duration_ms, 'duration_ms', nonNegativeInt, null, prefix, issues) as number | null,
    tokens_in: opt(input.tokens_in, 'tokens_in', nonNegativeInt, null, prefix, issues) as number | null,
    tokens_out: opt(input.tokens_out, 'tokens_out', nonNegativeInt, null, prefix, issues) as number | null,
    tokens_used: opt(input.tokens_used, 'tokens_used', nonNegativeInt, null, prefix, issues) as number | null,
    api_calls: opt(input.api_calls, 'api_calls', nonNegativeInt, null, prefix, issues) as number | null,
  };
  for (const key in input) {
    if (METRICS_KEYS.has(key) || input[key] === undefined) continue;
    Object.defineProperty(out, key, {
      value: input[key],
      enumerable: true,
      writable: true,
      configurable: true,
    });
  }
  return settle(out, issues, before);
};
const nullableMetrics = nullable(modelField('TaskMetrics', validateMetrics));

const TASK_RESPONSE_KEYS = keys<TaskResponse>(['task_id', 'status', 'result', 'final_state', 'metrics']);

const validateTaskResponse: ModelValidator<TaskResponse> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    task_id: req(input, input.task_id, 'task_id', str, prefix, issues),
    status: req(input, input.status, 'status', status, prefix, issues),
    result: opt(input.result, 'result', nullableDict, null, prefix, issues),
    final_state: opt(input.final_state, 'final_state', nullableDict, null, prefix, issues),
    metrics: opt(input.metrics, 'metrics', nullableMetrics, null, prefix, issues),
  };
  rejectExtraKeys(input, TASK_RESPONSE_KEYS, prefix, issues);
  return settle(out as TaskResponse, issues, before);
};

const TASK_STREAM_KEYS = keys<TaskStream>(['chunk', 'progress', 'final', 'status']);
/** The reference's bounds are printed `0.0` and `1.0` (float literals). */
const streamProgress = nullable(bounded(float, { ge: 0, le: 1, shownGe: '0.0', shownLe: '1.0' }));

const validateTaskStream: ModelValidator<TaskStream> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    chunk: opt(input.chunk, 'chunk', str, '', prefix, issues),
    progress: opt(input.progress, 'progress', streamProgress, null, prefix, issues),
    final: opt(input.final, 'final', bool, false, prefix, issues),
    status: opt(input.status, 'status', nullableStatus, null, prefix, issues),
  };
  rejectExtraKeys(input, TASK_STREAM_KEYS, prefix, issues);
  return settle(out as TaskStream, issues, before);
};

function checkProgressPercent(progress: JsonObject): string | undefined {
  if (!('percent' in progress)) return undefined;
  const percent = progress.percent;
  // Python's isinstance(x, (int, float)) accepts booleans, which are ints there.
  if (typeof percent !== 'number' && typeof percent !== 'boolean') return 'progress.percent must be a number';
  const value = Number(percent);
  return value >= 0 && value <= 100 ? undefined : 'progress.percent must be between 0 and 100';
}

const TASK_UPDATE_KEYS = keys<TaskUpdate>(['task_id', 'update_type', 'status', 'progress', 'input_request']);
const updateType = oneOf(UPDATE_TYPES);
const updateProgress = nullable(refine(dict, checkProgressPercent));

const validateTaskUpdate: ModelValidator<TaskUpdate> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    task_id: req(input, input.task_id, 'task_id', str, prefix, issues),
    update_type: req(input, input.update_type, 'update_type', updateType, prefix, issues),
    status: req(input, input.status, 'status', status, prefix, issues),
    progress: opt(input.progress, 'progress', updateProgress, null, prefix, issues),
    input_request: opt(input.input_request, 'input_request', nullableDict, null, prefix, issues),
  };
  rejectExtraKeys(input, TASK_UPDATE_KEYS, prefix, issues);
  return settle(out as TaskUpdate, issues, before);
};

const TASK_CANCEL_KEYS = keys<TaskCancel>(['task_id', 'reason']);

const validateTaskCancel: ModelValidator<TaskCancel> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    task_id: req(input, input.task_id, 'task_id', str, prefix, issues),
    reason: opt(input.reason, 'reason', nullableStr, null, prefix, issues),
  };
  rejectExtraKeys(input, TASK_CANCEL_KEYS, prefix, issues);
  return settle(out as TaskCancel, issues, before);
};

const MESSAGE_SEND_KEYS = keys<MessageSend>(['task_id', 'message_id', 'sender', 'role', 'parts']);
const role = oneOf(MESSAGE_ROLES);
const partIds = list(str);

const validateMessageSend: ModelValidator<MessageSend> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    task_id: req(input, input.task_id, 'task_id', str, prefix, issues),
    message_id: req(input, input.message_id, 'message_id', str, prefix, issues),
    sender: req(input, input.sender, 'sender', str, prefix, issues),
    role: req(input, input.role, 'role', role, prefix, issues),
    parts: req(input, input.parts, 'parts', partIds, prefix, issues),
  };
  rejectExtraKeys(input, MESSAGE_SEND_KEYS, prefix, issues);
  return settle(out as MessageSend, issues, before);
};

const STATE_QUERY_KEYS = keys<StateQuery>(['task_id', 'version']);
const nullableInt = nullable(int);

const validateStateQuery: ModelValidator<StateQuery> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    task_id: req(input, input.task_id, 'task_id', str, prefix, issues),
    version: opt(input.version, 'version', nullableInt, null, prefix, issues),
  };
  rejectExtraKeys(input, STATE_QUERY_KEYS, prefix, issues);
  return settle(out as StateQuery, issues, before);
};

const STATE_RESTORE_KEYS = keys<StateRestore>(['task_id', 'snapshot_id']);

const validateStateRestore: ModelValidator<StateRestore> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    task_id: req(input, input.task_id, 'task_id', str, prefix, issues),
    snapshot_id: req(input, input.snapshot_id, 'snapshot_id', str, prefix, issues),
  };
  rejectExtraKeys(input, STATE_RESTORE_KEYS, prefix, issues);
  return settle(out as StateRestore, issues, before);
};

const ARTIFACT_NOTIFY_KEYS = keys<ArtifactNotify>(['artifact_id', 'task_id', 'name']);

const validateArtifactNotify: ModelValidator<ArtifactNotify> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    artifact_id: req(input, input.artifact_id, 'artifact_id', str, prefix, issues),
    task_id: req(input, input.task_id, 'task_id', str, prefix, issues),
    name: opt(input.name, 'name', nullableStr, null, prefix, issues),
  };
  rejectExtraKeys(input, ARTIFACT_NOTIFY_KEYS, prefix, issues);
  return settle(out as ArtifactNotify, issues, before);
};

const MCP_TOOL_CALL_KEYS = keys<McpToolCall>(['request_id', 'tool_name', 'arguments', 'mcp_context']);

const validateMcpToolCall: ModelValidator<McpToolCall> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    request_id: req(input, input.request_id, 'request_id', str, prefix, issues),
    tool_name: req(input, input.tool_name, 'tool_name', str, prefix, issues),
    arguments: req(input, input.arguments, 'arguments', dict, prefix, issues),
    mcp_context: opt(input.mcp_context, 'mcp_context', nullableDict, null, prefix, issues),
  };
  rejectExtraKeys(input, MCP_TOOL_CALL_KEYS, prefix, issues);
  return settle(out as McpToolCall, issues, before);
};

function checkToolResult(result: McpToolResult): string | undefined {
  if (result.success) {
    if (result.result === null) return 'result must be provided when success=True';
    if (result.error !== null) return 'error must be None when success=True';
  } else {
    if (result.error === null) return 'error must be provided when success=False';
    if (result.result !== null) return 'result must be None when success=False';
  }
  return undefined;
}

const MCP_TOOL_RESULT_KEYS = keys<McpToolResult>(['request_id', 'success', 'result', 'error']);

const validateMcpToolResult: ModelValidator<McpToolResult> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    request_id: req(input, input.request_id, 'request_id', str, prefix, issues),
    success: req(input, input.success, 'success', bool, prefix, issues),
    result: opt(input.result, 'result', nullableDict, null, prefix, issues),
    error: opt(input.error, 'error', nullableStr, null, prefix, issues),
  };
  rejectExtraKeys(input, MCP_TOOL_RESULT_KEYS, prefix, issues);
  return afterModel(settle(out as McpToolResult, issues, before), checkToolResult, input, prefix, issues);
};

const MCP_RESOURCE_FETCH_KEYS = keys<McpResourceFetch>(['resource_uri']);

const validateMcpResourceFetch: ModelValidator<McpResourceFetch> = (input, prefix, issues) => {
  const before = issues.length;
  const out = { resource_uri: req(input, input.resource_uri, 'resource_uri', str, prefix, issues) };
  rejectExtraKeys(input, MCP_RESOURCE_FETCH_KEYS, prefix, issues);
  return settle(out as McpResourceFetch, issues, before);
};

const MCP_RESOURCE_DATA_KEYS = keys<McpResourceData>(['resource_uri', 'content']);

const validateMcpResourceData: ModelValidator<McpResourceData> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    resource_uri: req(input, input.resource_uri, 'resource_uri', str, prefix, issues),
    content: req(input, input.content, 'content', dict, prefix, issues),
  };
  rejectExtraKeys(input, MCP_RESOURCE_DATA_KEYS, prefix, issues);
  return settle(out as McpResourceData, issues, before);
};

const MESSAGE_ACK_KEYS = keys<MessageAck>(['original_envelope_id', 'status', 'error']);
const ackStatus = oneOf(MESSAGE_ACK_STATUSES, 'literal_error');

const validateMessageAck: ModelValidator<MessageAck> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    original_envelope_id: req(input, input.original_envelope_id, 'original_envelope_id', str, prefix, issues),
    status: req(input, input.status, 'status', ackStatus, prefix, issues),
    error: opt(input.error, 'error', nullableStr, null, prefix, issues),
  };
  rejectExtraKeys(input, MESSAGE_ACK_KEYS, prefix, issues);
  return settle(out as MessageAck, issues, before);
};

/** The validator of each typed payload, by normalised `payload_type`. */
export const PAYLOAD_VALIDATORS: { readonly [K in PayloadKind]: ModelValidator<PayloadByKind[K]> } = {
  taskrequest: validateTaskRequest,
  taskresponse: validateTaskResponse,
  taskstream: validateTaskStream,
  taskupdate: validateTaskUpdate,
  taskcancel: validateTaskCancel,
  messagesend: validateMessageSend,
  statequery: validateStateQuery,
  staterestore: validateStateRestore,
  artifactnotify: validateArtifactNotify,
  mcptoolcall: validateMcpToolCall,
  mcptoolresult: validateMcpToolResult,
  mcpresourcefetch: validateMcpResourceFetch,
  mcpresourcedata: validateMcpResourceData,
  messageack: validateMessageAck,
};

/**
 * The members of the reference's `PayloadType | dict` union, in order: a payload that is not an
 * object fails every one of them, and each failure is reported (about 15 issues).
 */
export const PAYLOAD_UNION_MEMBERS: readonly string[] = [
  'TaskRequest',
  'TaskResponse',
  'TaskUpdate',
  'TaskCancel',
  'MessageSend',
  'StateQuery',
  'StateRestore',
  'ArtifactNotify',
  'McpToolCall',
  'McpToolResult',
  'McpResourceFetch',
  'McpResourceData',
  'MessageAck',
  'TaskStream',
];

/** Normalised payload types whose envelopes must carry a non-empty `correlation_id` (§0.3). */
export const CORRELATED_PAYLOAD_KINDS: ReadonlySet<PayloadKind> = new Set([
  'taskresponse',
  'taskstream',
  'mcptoolresult',
  'mcpresourcedata',
]);

const NOT_ALPHANUMERIC = /[^\p{L}\p{N}]/gu;
const normalised = new Map<string, string>();

/** `"".join(c for c in payload_type.lower() if c.isalnum())`, memoised for repeated names. */
export function normalizePayloadType(payloadType: string): string {
  let key = normalised.get(payloadType);
  if (key === undefined) {
    key = payloadType.toLowerCase().replace(NOT_ALPHANUMERIC, '');
    if (normalised.size >= 256) normalised.clear();
    normalised.set(payloadType, key);
  }
  return key;
}

/** The typed model a `payload_type` selects, if any. */
export function payloadKindOf(payloadType: string): PayloadKind | undefined {
  const key = normalizePayloadType(payloadType);
  return Object.hasOwn(PAYLOAD_VALIDATORS, key) ? (key as PayloadKind) : undefined;
}

/** Whether an envelope of this `payload_type` needs a `correlation_id`. */
export function requiresCorrelation(payloadType: string): boolean {
  const kind = payloadKindOf(payloadType);
  return kind !== undefined && CORRELATED_PAYLOAD_KINDS.has(kind);
}

export type PayloadValidation =
  | { ok: true; kind: PayloadKind; payload: Payload }
  | { ok: true; kind: null; payload: JsonObject }
  | { ok: false; issues: ValidationIssue[] };

/**
 * Validates a payload object against the model its `payload_type` selects. Issue locations are
 * relative to the payload (the reference reports them without a `payload.` prefix).
 */
export function validatePayload(payloadType: string, payload: JsonObject): PayloadValidation {
  const kind = payloadKindOf(payloadType);
  if (kind === undefined) return { ok: true, kind: null, payload };
  const issues: ValidationIssue[] = [];
  const parsed = (PAYLOAD_VALIDATORS[kind] as ModelValidator<Payload>)(payload, [], issues);
  return parsed === INVALID ? { ok: false, issues } : { ok: true, kind, payload: parsed };
}
