/**
 * The ASAP envelope (asap-wire §1) and its validation, step for step as the reference's pydantic
 * model runs it:
 *
 * 1. a *before* validator types the payload when `payload` is an object and `payload_type` is
 *    truthy: a known type is validated as its model, and a failure there is the whole answer
 *    (issues located inside the payload, the other envelope fields unchecked). A truthy
 *    `payload_type` that is not a string makes the reference crash (`AttributeError`), which its
 *    server answers with -32603 and `id: ""`; that case is reported as `kind: 'internal'`.
 * 2. fields in order, lax: `id` (any string; generated when absent or null), `asap_version`,
 *    `timestamp` (generated when absent or null), `sender` and `recipient` (agent URNs),
 *    `payload_type`, `payload`, `correlation_id`, `trace_id`, `requires_ack`, `extensions`; then
 *    unknown keys, each an `extra_forbidden` issue.
 * 3. an *after* validator: the correlated payload types need a non-empty `correlation_id`.
 */
import { AGENT_URN_PATTERN, MAX_URN_LENGTH } from './constants.ts';
import {
  fixedIssue,
  formatLoc,
  modelTypeIssue,
  valueErrorIssue,
  type Loc,
  type ValidationIssue,
} from './issues.ts';
import {
  bool,
  dict,
  INVALID,
  isObject,
  nullable,
  opt,
  refine,
  rejectExtraKeys,
  req,
  str,
  type JsonObject,
  type Parser,
} from './lax.ts';
import {
  CORRELATED_PAYLOAD_KINDS,
  PAYLOAD_UNION_MEMBERS,
  validatePayload,
  type Payload,
  type PayloadByKind,
  type PayloadKind,
} from './payloads.ts';
import { formatTimestamp, timestampField } from './timestamp.ts';
import { ulid } from '../util/ids.ts';

/** A validated envelope, every field present (the reference always emits them all). */
export interface Envelope<P extends object = Payload | JsonObject> {
  id: string;
  asap_version: string;
  /** As the reference serialises it: `2026-07-21T12:00:00.123456Z`, offsets and naive kept. */
  timestamp: string;
  sender: string;
  recipient: string;
  payload_type: string;
  payload: P;
  correlation_id: string | null;
  trace_id: string | null;
  requires_ack: boolean;
  extensions: JsonObject | null;
}

/** An envelope whose payload was typed by its normalised `payload_type`. */
export type TypedEnvelope<K extends PayloadKind> = Envelope<PayloadByKind[K]>;

export type EnvelopeFailure =
  /** `params.envelope` absent or null. */
  | { kind: 'missing' }
  /** `params.envelope` is not an object. */
  | { kind: 'not_object' }
  /**
   * Validation failed. `scope: 'payload'` when the typed payload failed: issue locations are then
   * relative to the payload, as the reference reports them.
   */
  | { kind: 'invalid'; scope: 'envelope' | 'payload'; issues: ValidationIssue[] }
  /** The reference would crash on this input and answer -32603 with `id: ""`. */
  | { kind: 'internal'; reason: string };

export type EnvelopeValidation =
  { ok: true; envelope: Envelope; kind: PayloadKind | null } | ({ ok: false } & EnvelopeFailure);

const URN = new RegExp(AGENT_URN_PATTERN.replace(/\$$/, '\\n?$'));

/**
 * The reference's agent URN check: at most 256 characters (code points), then the pattern. Python's
 * `$` also matches before one final newline, so `urn:asap:agent:x\n` passes there and here.
 */
export function agentUrnProblem(value: string): string | undefined {
  if (value.length > MAX_URN_LENGTH) {
    const codePoints = [...value].length;
    if (codePoints > MAX_URN_LENGTH) {
      return `Agent URN must be at most ${MAX_URN_LENGTH} characters, got ${codePoints}`;
    }
  }
  if (!URN.test(value)) return `Agent ID must follow URN format 'urn:asap:agent:{name}', got: ${value}`;
  return undefined;
}

export function isAgentUrn(value: string): boolean {
  return agentUrnProblem(value) === undefined;
}

const ROOT: Loc = Object.freeze([]);
const agentUrn: Parser<string> = refine(str, agentUrnProblem);
const nullableStr = nullable(str);
const nullableDict = nullable(dict);

const ENVELOPE_KEYS: ReadonlySet<string> = new Set<keyof Envelope>([
  'id',
  'asap_version',
  'timestamp',
  'sender',
  'recipient',
  'payload_type',
  'payload',
  'correlation_id',
  'trace_id',
  'requires_ack',
  'extensions',
]);

function isTruthy(value: unknown): boolean {
  if (Array.isArray(value)) return value.length > 0;
  if (isObject(value)) return Object.keys(value).length > 0;
  return Boolean(value);
}

/**
 * Validates `params.envelope` as the reference does. On success the envelope is normalised: every
 * field present, the id and timestamp generated when missing, lax values coerced
 * (`"requires_ack": "yes"` becomes `true`), a known payload typed with its defaults filled in.
 */
export function validateEnvelope(raw: unknown, options: { now?: number } = {}): EnvelopeValidation {
  if (raw === null || raw === undefined) return { ok: false, kind: 'missing' };
  if (!isObject(raw)) return { ok: false, kind: 'not_object' };

  const rawPayload = raw.payload;
  const rawType = raw.payload_type;
  let typed: Payload | undefined;
  let kind: PayloadKind | null = null;
  if (isObject(rawPayload) && isTruthy(rawType)) {
    if (typeof rawType !== 'string') {
      return { ok: false, kind: 'internal', reason: 'payload_type is not a string' };
    }
    const result = validatePayload(rawType, rawPayload);
    if (!result.ok) return { ok: false, kind: 'invalid', scope: 'payload', issues: result.issues };
    if (result.kind !== null) {
      typed = result.payload;
      kind = result.kind;
    }
  }

  const issues: ValidationIssue[] = [];
  const envelope = {
    id: raw.id === undefined || raw.id === null ? ulid() : str(raw.id, ROOT, 'id', issues),
    asap_version: req(raw, raw.asap_version, 'asap_version', str, ROOT, issues),
    timestamp:
      raw.timestamp === undefined || raw.timestamp === null
        ? formatTimestamp(options.now)
        : timestampField(raw.timestamp, ROOT, 'timestamp', issues),
    sender: req(raw, raw.sender, 'sender', agentUrn, ROOT, issues),
    recipient: req(raw, raw.recipient, 'recipient', agentUrn, ROOT, issues),
    payload_type: req(raw, raw.payload_type, 'payload_type', str, ROOT, issues),
    payload: typed ?? payloadMember(raw, issues),
    correlation_id: opt(raw.correlation_id, 'correlation_id', nullableStr, null, ROOT, issues),
    trace_id: opt(raw.trace_id, 'trace_id', nullableStr, null, ROOT, issues),
    requires_ack: opt(raw.requires_ack, 'requires_ack', bool, false, ROOT, issues),
    extensions: opt(raw.extensions, 'extensions', nullableDict, null, ROOT, issues),
  };
  rejectExtraKeys(raw, ENVELOPE_KEYS, ROOT, issues);
  if (issues.length > 0) return { ok: false, kind: 'invalid', scope: 'envelope', issues };

  // Only a typed payload can need correlation: the correlated types are all known models.
  if (!envelope.correlation_id && kind !== null && CORRELATED_PAYLOAD_KINDS.has(kind)) {
    const message = `${String(envelope.payload_type)} must have correlation_id for request tracking`;
    return {
      ok: false,
      kind: 'invalid',
      scope: 'envelope',
      issues: [valueErrorIssue(ROOT, message, { ...raw, payload: typed })],
    };
  }
  return { ok: true, envelope: envelope as Envelope, kind };
}

/** `payload: PayloadType | dict`: an object stays free-form; anything else fails every member. */
function payloadMember(raw: JsonObject, issues: ValidationIssue[]): JsonObject | typeof INVALID {
  const value = raw.payload;
  if (isObject(value)) return value;
  if (value === undefined) {
    issues.push(fixedIssue('missing', ['payload'], raw));
    return INVALID;
  }
  for (const member of PAYLOAD_UNION_MEMBERS) issues.push(modelTypeIssue(['payload', member], member, value));
  issues.push(fixedIssue('dict_type', ['payload', 'dict[str,any]'], value));
  return INVALID;
}

/** `payload.skill_id: Field required` lines, for logs and error messages. */
export function describeEnvelopeFailure(failure: EnvelopeFailure): string[] {
  switch (failure.kind) {
    case 'missing':
      return ["Missing 'envelope' in params"];
    case 'not_object':
      return ["'envelope' must be a JSON object"];
    case 'internal':
      return [failure.reason];
    case 'invalid': {
      const prefix = failure.scope === 'payload' ? 'payload' : '';
      return failure.issues.map((issue) => `${formatLoc(issue.loc, prefix) || '(envelope)'}: ${issue.msg}`);
    }
  }
}
