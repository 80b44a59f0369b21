/**
 * The agent manifest (asap-wire §4), served at `/.well-known/asap/manifest.json` and read by
 * clients. Every model is strict. Validation also returns the manifest as the reference serves
 * it: every key present, `null` where unset, defaults filled in, the hardware class as `class`.
 */
import { ASAP_DEFAULT_TRANSPORT_VERSION, ASAP_ENVELOPE_VERSION } from './constants.ts';
import { agentUrnProblem } from './envelope.ts';
import { unsupportedAuthSchemeError, SUPPORTED_AUTH_SCHEMES, type AsapError } from './errors.ts';
import {
  modelTypeIssue,
  stringTooLongIssue,
  tooShortIssue,
  valueErrorIssue,
  type ValidationIssue,
} from './issues.ts';
import {
  at,
  bool,
  bounded,
  dict,
  float,
  int,
  INVALID,
  isObject,
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
  type Parser,
} from './lax.ts';
import { pyRepr, pyStrip } from './python.ts';
import { timestampField } from './timestamp.ts';

export const HARDWARE_CLASSES = ['cloud', 'sbc', 'edge_accelerator', 'microcontroller', 'desktop'] as const;
export const HARDWARE_IO = [
  'gpio',
  'i2c',
  'spi',
  'uart',
  'csi_camera',
  'usb_camera',
  'audio_in',
  'audio_out',
  'bluetooth',
  'lora',
  'ble',
] as const;
export const INFERENCE_MODES = ['cloud', 'local_cpu', 'local_cuda', 'local_metal', 'local_npu'] as const;
export const VERIFICATION_STATUSES = ['verified', 'pending', 'rejected'] as const;

export interface Skill {
  id: string;
  description: string;
  input_schema: JsonObject | null;
  output_schema: JsonObject | null;
}

export interface HardwareCapability {
  class: (typeof HARDWARE_CLASSES)[number] | null;
  model: string | null;
  io: (typeof HARDWARE_IO)[number][];
}

export interface LocalModel {
  id: string | null;
  quantization: string | null;
  throughput_tokens_per_second: number | null;
}

export interface InferenceCapability {
  modes: (typeof INFERENCE_MODES)[number][];
  local_models: LocalModel[];
}

export interface Capability {
  asap_version: string;
  skills: Skill[];
  state_persistence: boolean;
  streaming: boolean;
  mcp_tools: string[];
  hardware: HardwareCapability | null;
  inference: InferenceCapability | null;
}

export interface Endpoint {
  /** The full POST URL, e.g. `https://host/asap`. */
  asap: string;
  /** The WebSocket URL. */
  events: string | null;
}

export interface AuthScheme {
  schemes: string[];
  oauth2: JsonObject | null;
}

export interface SlaDefinition {
  availability: string | null;
  max_latency_p95_ms: number | null;
  max_error_rate: string | null;
  support_hours: string | null;
}

export interface Verification {
  status: (typeof VERIFICATION_STATUSES)[number];
  verified_at: string | null;
}

export interface Manifest {
  id: string;
  name: string;
  version: string;
  description: string;
  capabilities: Capability;
  endpoints: Endpoint;
  supported_versions: string[];
  auth: AuthScheme | null;
  signature: string | null;
  sla: SlaDefinition | null;
  verification: Verification | null;
  ttl_seconds: number;
}

const nullableStr = nullable(str);
const nullableDict = nullable(dict);

function keys<T>(names: readonly (keyof T & string)[]): ReadonlySet<string> {
  return new Set(names);
}

/** packaging's `VERSION_PATTERN` (PEP 440), as `Version()` matches it: case-insensitive, trimmed. */
const PEP440 = new RegExp(
  '^\\s*v?(?:(?:[0-9]+!)?[0-9]+(?:\\.[0-9]+)*' +
    '(?:[-_.]?(?:alpha|a|beta|b|preview|pre|c|rc)[-_.]?[0-9]*)?' +
    '(?:-[0-9]+|[-_.]?(?:post|rev|r)[-_.]?[0-9]*)?' +
    '(?:[-_.]?dev[-_.]?[0-9]*)?)' +
    '(?:\\+[a-z0-9]+(?:[-_.][a-z0-9]+)*)?\\s*$',
  'iu',
);

function versionProblem(version: string): string | undefined {
  return PEP440.test(version)
    ? undefined
    : `Invalid semantic version '${version}': Invalid version: ${pyRepr(version)}`;
}

const PERCENTAGE = /^(-?[\p{Nd}.]+)\s*%?\s*$/iu;

/** SLA percentages (`99.5%`, `1 %`); the reference stores the trimmed text. */
const percentage: Parser<string | null> = (value, prefix, key, issues) => {
  if (value === null) return null;
  const parsed = str(value, prefix, key, issues);
  if (parsed === INVALID) return INVALID;
  const trimmed = pyStrip(parsed);
  if (PERCENTAGE.test(trimmed)) return trimmed;
  issues.push(valueErrorIssue(at(prefix, key), `Invalid percentage string: ${pyRepr(trimmed)}`, value));
  return INVALID;
};

function maxLength(limit: number): Parser<string> {
  return (value, prefix, key, issues) => {
    const parsed = str(value, prefix, key, issues);
    if (parsed === INVALID) return INVALID;
    if ([...parsed].length <= limit) return parsed;
    issues.push(stringTooLongIssue(at(prefix, key), limit, value));
    return INVALID;
  };
}

function nonEmptyList<T>(item: Parser<T>): Parser<T[]> {
  const parse = list(item);
  return (value, prefix, key, issues) => {
    const parsed = parse(value, prefix, key, issues);
    if (parsed === INVALID || parsed.length > 0) return parsed;
    issues.push(tooShortIssue(at(prefix, key), 1, 0, value));
    return INVALID;
  };
}

const SKILL_KEYS = keys<Skill>(['id', 'description', 'input_schema', 'output_schema']);

const validateSkill: ModelValidator<Skill> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    id: req(input, input.id, 'id', str, prefix, issues),
    description: req(input, input.description, 'description', str, prefix, issues),
    input_schema: opt(input.input_schema, 'input_schema', nullableDict, null, prefix, issues),
    output_schema: opt(input.output_schema, 'output_schema', nullableDict, null, prefix, issues),
  };
  rejectExtraKeys(input, SKILL_KEYS, prefix, issues);
  return settle(out as Skill, issues, before);
};

const HARDWARE_KEYS = keys<HardwareCapability>(['class', 'model', 'io']);
const hardwareClass = nullable(oneOf(HARDWARE_CLASSES));
const hardwareModel = nullable(maxLength(100));
const hardwareIo = list(oneOf(HARDWARE_IO));

/** The Python field is `class_`; its JSON name (alias) is `class`. */
const validateHardware: ModelValidator<HardwareCapability> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    class: opt(input.class, 'class', hardwareClass, null, prefix, issues),
    model: opt(input.model, 'model', hardwareModel, null, prefix, issues),
    io: opt(input.io, 'io', hardwareIo, [], prefix, issues),
  };
  rejectExtraKeys(input, HARDWARE_KEYS, prefix, issues);
  return settle(out as HardwareCapability, issues, before);
};

const LOCAL_MODEL_KEYS = keys<LocalModel>(['id', 'quantization', 'throughput_tokens_per_second']);
const throughput = nullable(bounded(float, { ge: 0 }));

const validateLocalModel: ModelValidator<LocalModel> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    id: opt(input.id, 'id', nullableStr, null, prefix, issues),
    quantization: opt(input.quantization, 'quantization', nullableStr, null, prefix, issues),
    throughput_tokens_per_second: opt(
      input.throughput_tokens_per_second,
      'throughput_tokens_per_second',
      throughput,
      null,
      prefix,
      issues,
    ),
  };
  rejectExtraKeys(input, LOCAL_MODEL_KEYS, prefix, issues);
  return settle(out as LocalModel, issues, before);
};

const INFERENCE_KEYS = keys<InferenceCapability>(['modes', 'local_models']);
const inferenceModes = list(oneOf(INFERENCE_MODES));
const localModels = list(modelField('LocalModel', validateLocalModel));

const validateInference: ModelValidator<InferenceCapability> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    modes: opt(input.modes, 'modes', inferenceModes, [], prefix, issues),
    local_models: opt(input.local_models, 'local_models', localModels, [], prefix, issues),
  };
  rejectExtraKeys(input, INFERENCE_KEYS, prefix, issues);
  return settle(out as InferenceCapability, issues, before);
};

const CAPABILITY_KEYS = keys<Capability>([
  'asap_version',
  'skills',
  'state_persistence',
  'streaming',
  'mcp_tools',
  'hardware',
  'inference',
]);
const skills = list(modelField('Skill', validateSkill));
const toolNames = list(str);
const hardware = nullable(modelField('HardwareCapability', validateHardware));
const inference = nullable(modelField('InferenceCapability', validateInference));

const validateCapability: ModelValidator<Capability> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    asap_version: opt(input.asap_version, 'asap_version', str, ASAP_ENVELOPE_VERSION, prefix, issues),
    skills: opt(input.skills, 'skills', skills, [], prefix, issues),
    state_persistence: opt(input.state_persistence, 'state_persistence', bool, false, prefix, issues),
    streaming: opt(input.streaming, 'streaming', bool, false, prefix, issues),
    mcp_tools: opt(input.mcp_tools, 'mcp_tools', toolNames, [], prefix, issues),
    hardware: opt(input.hardware, 'hardware', hardware, null, prefix, issues),
    inference: opt(input.inference, 'inference', inference, null, prefix, issues),
  };
  rejectExtraKeys(input, CAPABILITY_KEYS, prefix, issues);
  return settle(out as Capability, issues, before);
};

const ENDPOINT_KEYS = keys<Endpoint>(['asap', 'events']);

const validateEndpoint: ModelValidator<Endpoint> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    asap: req(input, input.asap, 'asap', str, prefix, issues),
    events: opt(input.events, 'events', nullableStr, null, prefix, issues),
  };
  rejectExtraKeys(input, ENDPOINT_KEYS, prefix, issues);
  return settle(out as Endpoint, issues, before);
};

const AUTH_KEYS = keys<AuthScheme>(['schemes', 'oauth2']);
const schemes = list(str);

const validateAuth: ModelValidator<AuthScheme> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    schemes: req(input, input.schemes, 'schemes', schemes, prefix, issues),
    oauth2: opt(input.oauth2, 'oauth2', nullableDict, null, prefix, issues),
  };
  rejectExtraKeys(input, AUTH_KEYS, prefix, issues);
  return settle(out as AuthScheme, issues, before);
};

const SLA_KEYS = keys<SlaDefinition>([
  'availability',
  'max_latency_p95_ms',
  'max_error_rate',
  'support_hours',
]);
const latency = nullable(bounded(int, { ge: 0 }));

const validateSla: ModelValidator<SlaDefinition> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    availability: opt(input.availability, 'availability', percentage, null, prefix, issues),
    max_latency_p95_ms: opt(input.max_latency_p95_ms, 'max_latency_p95_ms', latency, null, prefix, issues),
    max_error_rate: opt(input.max_error_rate, 'max_error_rate', percentage, null, prefix, issues),
    support_hours: opt(input.support_hours, 'support_hours', nullableStr, null, prefix, issues),
  };
  rejectExtraKeys(input, SLA_KEYS, prefix, issues);
  return settle(out as SlaDefinition, issues, before);
};

const VERIFICATION_KEYS = keys<Verification>(['status', 'verified_at']);
const verificationStatus = oneOf(VERIFICATION_STATUSES);
const verifiedAt = nullable(timestampField);

const validateVerification: ModelValidator<Verification> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    status: req(input, input.status, 'status', verificationStatus, prefix, issues),
    verified_at: opt(input.verified_at, 'verified_at', verifiedAt, null, prefix, issues),
  };
  rejectExtraKeys(input, VERIFICATION_KEYS, prefix, issues);
  return settle(out as Verification, issues, before);
};

const MANIFEST_KEYS = keys<Manifest>([
  'id',
  'name',
  'version',
  'description',
  'capabilities',
  'endpoints',
  'supported_versions',
  'auth',
  'signature',
  'sla',
  'verification',
  'ttl_seconds',
]);
const manifestId = refine(str, agentUrnProblem);
const manifestVersion = refine(str, versionProblem);
const capabilities = modelField('Capability', validateCapability);
const endpoints = modelField('Endpoint', validateEndpoint);
const supportedVersions = nonEmptyList(str);
const auth = nullable(modelField('AuthScheme', validateAuth));
const sla = nullable(modelField('SLADefinition', validateSla));
const verification = nullable(modelField('VerificationStatus', validateVerification));
const ttlSeconds = bounded(int, { ge: 1 });

const validateManifestModel: ModelValidator<Manifest> = (input, prefix, issues) => {
  const before = issues.length;
  const out = {
    id: req(input, input.id, 'id', manifestId, prefix, issues),
    name: req(input, input.name, 'name', str, prefix, issues),
    version: req(input, input.version, 'version', manifestVersion, prefix, issues),
    description: req(input, input.description, 'description', str, prefix, issues),
    capabilities: req(input, input.capabilities, 'capabilities', capabilities, prefix, issues),
    endpoints: req(input, input.endpoints, 'endpoints', endpoints, prefix, issues),
    supported_versions: opt(
      input.supported_versions,
      'supported_versions',
      supportedVersions,
      undefined,
      prefix,
      issues,
    ) ?? [ASAP_DEFAULT_TRANSPORT_VERSION],
    auth: opt(input.auth, 'auth', auth, null, prefix, issues),
    signature: opt(input.signature, 'signature', nullableStr, null, prefix, issues),
    sla: opt(input.sla, 'sla', sla, null, prefix, issues),
    verification: opt(input.verification, 'verification', verification, null, prefix, issues),
    ttl_seconds: opt(input.ttl_seconds, 'ttl_seconds', ttlSeconds, 300, prefix, issues),
  };
  rejectExtraKeys(input, MANIFEST_KEYS, prefix, issues);
  return settle(out as Manifest, issues, before);
};

export type ManifestValidation =
  | { ok: true; manifest: Manifest }
  | { ok: false; issues: ValidationIssue[] }
  /** An auth scheme other than bearer/basic: the reference raises -32020 instead of a field error. */
  | { ok: false; error: AsapError };

/** Validates a manifest (a remote one, or the one this agent is about to serve). */
export function validateManifest(raw: unknown): ManifestValidation {
  if (!isObject(raw)) return { ok: false, issues: [modelTypeIssue([], 'Manifest', raw)] };
  const issues: ValidationIssue[] = [];
  const manifest = validateManifestModel(raw, [], issues);
  if (manifest === INVALID) return { ok: false, issues };
  const supported: ReadonlySet<string> = new Set(SUPPORTED_AUTH_SCHEMES);
  for (const scheme of manifest.auth?.schemes ?? []) {
    if (!supported.has(scheme.toLowerCase())) return { ok: false, error: unsupportedAuthSchemeError(scheme) };
  }
  return { ok: true, manifest };
}
