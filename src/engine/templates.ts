/**
 * Workflow templates (SPEC §2.1): the model, parsing from YAML/JSON, validation and step order.
 *
 * Validation is fail-fast and complete: every problem is reported at once, each with a path such
 * as `steps[2].depends_on[0]`, and a template is only returned when nothing is wrong. The result is
 * a deep-frozen copy with defaults filled in and steps in topological order.
 */
import { readFile, readdir, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import semver from 'semver';
import { LineCounter, parseDocument, type YAMLError } from 'yaml';
import { ValidationError, coerceError, isBatonError, type ErrorDetail } from '../util/errors.ts';
import type { BackoffPolicy } from '../storage/records.ts';
import type { RetryPolicyInput } from './retry.ts';
import { joinPath, problemsError, schemaProblems } from './schema.ts';

/** Namespaces, template names and handler names: `a-z`, `0-9`, `_`, `-`; at most 64 characters. */
const IDENTIFIER_PATTERN = /^[a-z0-9][a-z0-9_-]{0,63}$/;
/** Step names: letters, digits, `_`, `-`; at most 128 characters. */
const STEP_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9_-]{0,127}$/;
const DEFAULT_TEMPLATE_VERSION = '0.1.0';
/** The longest `timeout_ms` a step may ask for: 24 hours. */
const MAX_STEP_TIMEOUT_MS = 24 * 60 * 60 * 1000;

export interface StepTemplate {
  name: string;
  /** `ns/name` (latest version), `ns/name@1.2.3`, or a built-in handler's configuration (`{type: 'http', …}`). */
  handler: string | { type: string; [key: string]: unknown };
  /** Names of steps of the same template that must complete (or be resolved) first. */
  depends_on: string[];
  /** Partial policy; the engine fills the rest from its defaults. */
  retry?: RetryPolicyInput;
  timeout_ms?: number;
  retryable: boolean;
  concurrency_key?: string;
  description?: string;
}

export interface Template {
  namespace: string;
  name: string;
  version: string;
  description: string;
  /** JSON Schema the task input must satisfy (compiled and cached by `compileSchema`). */
  input_schema?: Record<string, unknown>;
  /** In a topological order (dependencies first), keeping the declared order where the graph allows. */
  steps: StepTemplate[];
}

/** What validation needs to know about handlers (the handler registry provides it). */
export interface TemplateContext {
  hasHandler(ref: string): boolean;
  hasBuiltin(type: string): boolean;
  /** The built-in handler's own checks of a step's configuration (see `BuiltinHandler.checkConfig`). */
  checkBuiltin(
    config: Readonly<Record<string, unknown>>,
    step: { name: string; upstream: ReadonlySet<string> },
  ): ErrorDetail[];
}

/** A parsed `ns.name[@version]` template reference or `ns/name[@version]` handler reference. */
export interface VersionedRef {
  namespace: string;
  name: string;
  version?: string;
}

/** The outcome of `checkTemplate`: a template, or the problems that prevent one. */
export type TemplateCheck =
  { template: Template; problems: [] } | { template: undefined; problems: ErrorDetail[] };

// ── references and keys ────────────────────────────────────────────────────────────────────

/** The registry key of a template: `ns.name@1.0.0`. */
export function templateKey(template: { namespace: string; name: string; version: string }): string {
  return `${template.namespace}.${template.name}@${template.version}`;
}

/**
 * Parses `ns.name` or `ns.name@1.2.3`. Namespaces and names cannot contain dots, so the reference
 * splits at its only dot; the version must be a canonical semantic version. Throws a
 * `ValidationError` (path `template`) for anything else.
 */
export function parseTemplateRef(ref: string): VersionedRef {
  const parsed = splitRef(ref, '.');
  if (parsed) return parsed;
  const message = `must be 'namespace.name' or 'namespace.name@1.2.3' (got ${describeValue(ref)})`;
  throw new ValidationError(`invalid template reference: ${message}`, [{ path: 'template', message }]);
}

/** Parses `ns/name` or `ns/name@1.2.3`; `undefined` when the reference is malformed. */
export function parseHandlerRef(ref: string): VersionedRef | undefined {
  return splitRef(ref, '/');
}

function splitRef(ref: unknown, separator: '.' | '/'): VersionedRef | undefined {
  if (typeof ref !== 'string') return undefined;
  const [base = '', version, ...extra] = ref.split('@');
  const [namespace, name, ...more] = base.split(separator);
  if (extra.length > 0 || more.length > 0) return undefined;
  if (!isIdentifier(namespace) || !isIdentifier(name)) return undefined;
  if (version === undefined) return { namespace, name };
  return isCanonicalVersion(version) ? { namespace, name, version } : undefined;
}

/** True for a namespace, template or handler name (see `IDENTIFIER_PATTERN`). */
export function isIdentifier(value: unknown): value is string {
  return typeof value === 'string' && IDENTIFIER_PATTERN.test(value);
}

/**
 * True for a semantic version written in its canonical form (`1.2.3`, `1.0.0-rc.1`). `v1.2.3` or
 * `1.2.3+build` are refused rather than normalised, so one version has exactly one spelling (and
 * one registry key).
 */
export function isCanonicalVersion(value: unknown): value is string {
  return typeof value === 'string' && semver.valid(value) === value;
}

// ── validation ─────────────────────────────────────────────────────────────────────────────

/**
 * Validates and normalises a template (from YAML/JSON or code). Throws one `ValidationError`
 * listing every problem (`details[].path`, e.g. `steps[2].depends_on[0]`); otherwise returns a
 * deep-frozen copy with defaults filled in and steps in topological order.
 */
export function validateTemplate(input: unknown, context: TemplateContext): Template {
  const { template, problems } = checkTemplate(input, context);
  if (template) return template;
  const label = describeTemplate(input);
  throw problemsError(label === '' ? 'invalid template' : `invalid template ${label}`, problems);
}

/** `validateTemplate` without the throw: batch registration aggregates the problems of many. */
export function checkTemplate(input: unknown, context: TemplateContext): TemplateCheck {
  const problems: ErrorDetail[] = [];
  const template = readTemplate(input, context, problems);
  if (!template || problems.length > 0) return { template: undefined, problems };
  return { template: deepFreeze(template), problems: [] };
}

function describeTemplate(input: unknown): string {
  if (!isPlainObject(input) || !isIdentifier(input.namespace) || !isIdentifier(input.name)) return '';
  const { namespace, name, version = DEFAULT_TEMPLATE_VERSION } = input;
  return typeof version === 'string'
    ? `'${templateKey({ namespace, name, version })}'`
    : `'${namespace}.${name}'`;
}

// Readers check one value, report what is wrong, and always return a value of the right type (a
// placeholder when invalid) so that checking goes on and every problem is found in one pass.
type Reader<T> = (value: unknown, path: string, problems: ErrorDetail[]) => T;
type FieldReaders<T> = { [K in keyof T]-?: Reader<Exclude<T[K], undefined>> };

const TEMPLATE_KEYS = ['namespace', 'name', 'version', 'description', 'input_schema', 'steps'];

function readTemplate(
  input: unknown,
  context: TemplateContext,
  problems: ErrorDetail[],
): Template | undefined {
  if (!isPlainObject(input)) {
    problems.push({ message: `a template must be an object (got ${describeValue(input)})` });
    return undefined;
  }
  checkKeys(input, TEMPLATE_KEYS, '', problems);
  const namespace = required(readIdentifier)(input.namespace, 'namespace', problems);
  const name = required(readIdentifier)(input.name, 'name', problems);
  const version =
    input.version === undefined ? DEFAULT_TEMPLATE_VERSION : readVersion(input.version, 'version', problems);
  const description =
    input.description === undefined ? '' : readString(input.description, 'description', problems);
  const inputSchema =
    input.input_schema === undefined ? undefined : readInputSchema(input.input_schema, problems);
  const steps = readSteps(input.steps, context, problems);
  return { namespace, name, version, description, ...(inputSchema && { input_schema: inputSchema }), steps };
}

function readInputSchema(value: unknown, problems: ErrorDetail[]): Record<string, unknown> {
  if (!isPlainObject(value)) {
    problems.push({
      path: 'input_schema',
      message: `must be a JSON Schema object (got ${describeValue(value)})`,
    });
    return {};
  }
  const before = problems.length;
  // Frozen before compiling: the validator is cached under the very object the template keeps.
  const schema = deepFreeze(cloneJsonData(value, 'input_schema', problems) as Record<string, unknown>);
  if (problems.length === before) problems.push(...schemaProblems(schema, 'input_schema'));
  return schema;
}

function readSteps(value: unknown, context: TemplateContext, problems: ErrorDetail[]): StepTemplate[] {
  if (!Array.isArray(value) || value.length === 0) {
    const message =
      value === undefined ? 'is required' : `must be a non-empty list of steps (got ${describeValue(value)})`;
    problems.push({ path: 'steps', message });
    return [];
  }
  const steps = (value as unknown[]).map((raw, index) =>
    readStep(raw, joinPath('steps', index), context, problems),
  );
  const ordered = orderSteps(steps, indexStepNames(steps, problems), problems);
  // A built-in's checks need a sound graph (which steps run before this one) to mean anything.
  if (problems.length === 0) checkBuiltinConfigs(steps, context, problems);
  return ordered;
}

/** Runs each built-in handler's own configuration checks, with the step's upstream steps. */
function checkBuiltinConfigs(
  steps: readonly StepTemplate[],
  context: TemplateContext,
  problems: ErrorDetail[],
): void {
  const byName = new Map(steps.map((step) => [step.name, step]));
  steps.forEach((step, index) => {
    if (typeof step.handler !== 'object') return;
    const handlerPath = joinPath(joinPath('steps', index), 'handler');
    const upstream = upstreamOf(step, byName);
    for (const problem of context.checkBuiltin(step.handler, { name: step.name, upstream })) {
      problems.push({ ...problem, path: problem.path ? `${handlerPath}.${problem.path}` : handlerPath });
    }
  });
}

/** Every step that completes before `step` (its dependencies, transitively); the graph is acyclic. */
function upstreamOf(step: StepTemplate, byName: ReadonlyMap<string, StepTemplate>): Set<string> {
  const upstream = new Set<string>();
  const pending = [...step.depends_on];
  for (let name = pending.pop(); name !== undefined; name = pending.pop()) {
    if (upstream.has(name)) continue;
    upstream.add(name);
    pending.push(...(byName.get(name)?.depends_on ?? []));
  }
  return upstream;
}

const PLACEHOLDER_STEP: StepTemplate = Object.freeze({
  name: '',
  handler: '',
  depends_on: [],
  retryable: true,
});

const RETRY_READERS: FieldReaders<RetryPolicyInput> = {
  max_attempts: numberReader({ min: 1, max: 100, integer: true }),
  backoff: objectReader<BackoffPolicy>({
    schedule_ms: readSchedule,
    base_ms: numberReader({ min: 0 }),
    factor: numberReader({ min: 1 }),
    max_ms: numberReader({ min: 0 }),
    jitter: numberReader({ min: 0, max: 1 }),
  }),
  max_retry_after_ms: numberReader({ min: 0 }),
};

type OptionalStepFields = Pick<StepTemplate, 'retry' | 'timeout_ms' | 'concurrency_key' | 'description'>;

const OPTIONAL_STEP_READERS: FieldReaders<OptionalStepFields> = {
  retry: objectReader(RETRY_READERS),
  timeout_ms: numberReader({ min: 1, max: MAX_STEP_TIMEOUT_MS, integer: true }),
  concurrency_key: readNonEmptyString,
  description: readString,
};

const STEP_KEYS = ['name', 'handler', 'depends_on', 'retryable', ...Object.keys(OPTIONAL_STEP_READERS)];

function readStep(
  raw: unknown,
  path: string,
  context: TemplateContext,
  problems: ErrorDetail[],
): StepTemplate {
  if (!isPlainObject(raw)) {
    problems.push({ path, message: `a step must be an object (got ${describeValue(raw)})` });
    return PLACEHOLDER_STEP;
  }
  checkKeys(raw, STEP_KEYS, path, problems);
  const at = (key: string) => joinPath(path, key);
  return {
    name: required(readStepName)(raw.name, at('name'), problems),
    handler: required(handlerReader(context))(raw.handler, at('handler'), problems),
    depends_on: raw.depends_on === undefined ? [] : readDependsOn(raw.depends_on, at('depends_on'), problems),
    retryable: raw.retryable === undefined ? true : readBoolean(raw.retryable, at('retryable'), problems),
    ...readOptionalFields(raw, OPTIONAL_STEP_READERS, path, problems),
  };
}

function handlerReader(context: TemplateContext): Reader<StepTemplate['handler']> {
  return (value, path, problems) => {
    if (typeof value === 'string') return readHandlerRef(value, path, context, problems);
    if (isPlainObject(value)) return readBuiltinConfig(value, path, context, problems);
    const expected = `a handler reference like 'namespace/name' or a built-in handler like { type: http, … }`;
    problems.push({ path, message: `must be ${expected} (got ${describeValue(value)})` });
    return '';
  };
}

function readHandlerRef(
  ref: string,
  path: string,
  context: TemplateContext,
  problems: ErrorDetail[],
): string {
  if (!parseHandlerRef(ref)) {
    problems.push({
      path,
      message: `must be 'namespace/name' or 'namespace/name@1.2.3' (got ${describeValue(ref)})`,
    });
  } else if (!context.hasHandler(ref)) {
    problems.push({
      path,
      message: `unknown handler '${ref}': no handler is registered under that reference`,
    });
  }
  return ref;
}

function readBuiltinConfig(
  config: Record<string, unknown>,
  path: string,
  context: TemplateContext,
  problems: ErrorDetail[],
): StepTemplate['handler'] {
  const type = required(readString)(config.type, joinPath(path, 'type'), problems);
  if (type !== '' && !context.hasBuiltin(type)) {
    problems.push({ path: joinPath(path, 'type'), message: `unknown built-in handler type '${type}'` });
  }
  // The rest is the built-in's own configuration, frozen into every step row: it must be JSON.
  return { ...(cloneJsonData(config, path, problems) as Record<string, unknown>), type };
}

/** Keeps every entry in place (`''` when invalid) so later checks report the right index. */
function readDependsOn(value: unknown, path: string, problems: ErrorDetail[]): string[] {
  if (!Array.isArray(value)) {
    problems.push({ path, message: `must be a list of step names (got ${describeValue(value)})` });
    return [];
  }
  const seen = new Set<string>();
  return (value as unknown[]).map((entry, index) => {
    const name = readNonEmptyString(entry, joinPath(path, index), problems);
    if (name !== '' && seen.has(name)) {
      problems.push({ path: joinPath(path, index), message: `duplicate dependency '${name}'` });
    }
    seen.add(name);
    return name;
  });
}

function readSchedule(value: unknown, path: string, problems: ErrorDetail[]): number[] {
  if (!Array.isArray(value)) {
    problems.push({
      path,
      message: `must be a list of delays in milliseconds (got ${describeValue(value)})`,
    });
    return [];
  }
  const readDelay = numberReader({ min: 0, integer: true });
  return (value as unknown[]).map((delay, index) => readDelay(delay, joinPath(path, index), problems));
}

// ── the step graph ─────────────────────────────────────────────────────────────────────────

/** Maps each step name to its first step; reports later steps that reuse a name. */
function indexStepNames(steps: readonly StepTemplate[], problems: ErrorDetail[]): Map<string, number> {
  const firstIndex = new Map<string, number>();
  steps.forEach((step, index) => {
    if (step.name === '') return;
    const first = firstIndex.get(step.name);
    if (first === undefined) {
      firstIndex.set(step.name, index);
    } else {
      problems.push({
        path: `steps[${index}].name`,
        message: `duplicate step '${step.name}' (also steps[${first}])`,
      });
    }
  });
  return firstIndex;
}

/**
 * Orders steps with Kahn's algorithm, always taking the earliest declared step among those whose
 * dependencies are placed: a template already written in dependency order keeps its order.
 * Steps left over sit on or behind a cycle, which is reported.
 */
function orderSteps(
  steps: readonly StepTemplate[],
  indexByName: ReadonlyMap<string, number>,
  problems: ErrorDetail[],
): StepTemplate[] {
  const dependencies = resolveDependencies(steps, indexByName, problems);
  const dependents = invertEdges(dependencies);
  const order = topologicalOrder(dependencies, dependents);
  if (order.length < steps.length) reportCycles(steps, dependents, order, problems);
  return order.map((index) => steps[index]).filter((step) => step !== undefined);
}

/** For each step, the indices of the steps it depends on; unknown names are reported and left out. */
function resolveDependencies(
  steps: readonly StepTemplate[],
  indexByName: ReadonlyMap<string, number>,
  problems: ErrorDetail[],
): number[][] {
  const names = [...indexByName.keys()];
  return steps.map((step, index) =>
    step.depends_on.flatMap((dependency, position) => {
      const target = indexByName.get(dependency);
      if (target !== undefined) return [target];
      if (dependency !== '') {
        const hint = closest(dependency, names);
        const message = `unknown step '${dependency}'${hint ? ` (did you mean '${hint}'?)` : ''}`;
        problems.push({ path: `steps[${index}].depends_on[${position}]`, message });
      }
      return [];
    }),
  );
}

/** For each step, the steps that depend on it, in declared order. */
function invertEdges(dependencies: readonly number[][]): number[][] {
  const dependents = dependencies.map((): number[] => []);
  dependencies.forEach((targets, index) => targets.forEach((target) => dependents[target]?.push(index)));
  return dependents;
}

function topologicalOrder(dependencies: readonly number[][], dependents: readonly number[][]): number[] {
  const waiting = dependencies.map((targets) => targets.length);
  const ready = waiting.flatMap((count, index) => (count === 0 ? [index] : []));
  const order: number[] = [];
  for (let next = ready.shift(); next !== undefined; next = ready.shift()) {
    order.push(next);
    for (const dependent of dependents[next] ?? []) {
      const left = (waiting[dependent] ?? 0) - 1;
      waiting[dependent] = left;
      if (left === 0) insertSorted(ready, dependent);
    }
  }
  return order;
}

function insertSorted(sorted: number[], value: number): void {
  let low = 0;
  let high = sorted.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if ((sorted[middle] ?? 0) < value) low = middle + 1;
    else high = middle;
  }
  sorted.splice(low, 0, value);
}

/**
 * Reports each cycle once, as `cycle: a -> b -> c -> a` where each step depends on the one before
 * it, starting from the earliest declared step of the cycle. The path points at the `depends_on`
 * entry that closes the cycle.
 */
function reportCycles(
  steps: readonly StepTemplate[],
  dependents: readonly number[][],
  placed: readonly number[],
  problems: ErrorDetail[],
): void {
  const isPlaced = new Set(placed);
  const stuck = steps.map((_, index) => index).filter((index) => !isPlaced.has(index));
  for (const cycle of findCycles(dependents, stuck)) {
    const names = cycle.map((index) => steps[index]?.name ?? '');
    const [first = 0] = cycle;
    const position = steps[first]?.depends_on.indexOf(names.at(-1) ?? '') ?? 0;
    problems.push({
      path: `steps[${first}].depends_on[${position}]`,
      message: `cycle: ${[...names, names[0]].join(' -> ')}`,
    });
  }
}

interface SearchFrame {
  node: number;
  next: number;
}

/**
 * Depth-first search over the stuck steps, in declared order, following edges from a dependency to
 * its dependents. Each edge back into the current path closes a cycle; cycles are rotated to start
 * at their lowest index and deduplicated. Iterative, so a long chain cannot overflow the stack.
 */
function findCycles(dependents: readonly number[][], stuck: readonly number[]): number[][] {
  const isStuck = new Set(stuck);
  const state = new Map<number, 'open' | 'done'>();
  const cycles = new Map<string, number[]>();
  for (const start of stuck) {
    if (state.has(start)) continue;
    const path: SearchFrame[] = [{ node: start, next: 0 }];
    state.set(start, 'open');
    for (let frame = path.at(-1); frame !== undefined; frame = path.at(-1)) {
      const target = dependents[frame.node]?.[frame.next++];
      if (target === undefined) {
        state.set(frame.node, 'done');
        path.pop();
      } else if (state.get(target) === 'open') {
        const onCycle = path.slice(path.findIndex((entry) => entry.node === target));
        const cycle = rotateToLowest(onCycle.map((entry) => entry.node));
        cycles.set(cycle.join(','), cycle);
      } else if (!state.has(target) && isStuck.has(target)) {
        state.set(target, 'open');
        path.push({ node: target, next: 0 });
      }
    }
  }
  return [...cycles.values()];
}

function rotateToLowest(cycle: number[]): number[] {
  const start = cycle.reduce((lowest, node, index) => (node < (cycle[lowest] ?? node) ? index : lowest), 0);
  return [...cycle.slice(start), ...cycle.slice(0, start)];
}

// ── readers ────────────────────────────────────────────────────────────────────────────────

/** Wraps a reader so that a missing value is reported as `is required` (and nothing else). */
function required<T>(reader: Reader<T>): Reader<T> {
  return (value, path, problems) => {
    if (value !== undefined) return reader(value, path, problems);
    problems.push({ path, message: 'is required' });
    // The reader's placeholder: what it returns for an empty string, its complaints discarded.
    return reader('', path, []);
  };
}

function readString(value: unknown, path: string, problems: ErrorDetail[]): string {
  if (typeof value === 'string') return value;
  problems.push({ path, message: `must be a string (got ${describeValue(value)})` });
  return '';
}

function readNonEmptyString(value: unknown, path: string, problems: ErrorDetail[]): string {
  const text = readString(value, path, problems);
  if (typeof value === 'string' && text === '') problems.push({ path, message: 'must not be empty' });
  return text;
}

function readBoolean(value: unknown, path: string, problems: ErrorDetail[]): boolean {
  if (typeof value === 'boolean') return value;
  problems.push({ path, message: `must be true or false (got ${describeValue(value)})` });
  return false;
}

function readIdentifier(value: unknown, path: string, problems: ErrorDetail[]): string {
  return readMatching(value, path, problems, IDENTIFIER_PATTERN, 'lowercase letters, digits, _ or -', 64);
}

function readStepName(value: unknown, path: string, problems: ErrorDetail[]): string {
  return readMatching(value, path, problems, STEP_NAME_PATTERN, 'letters, digits, _ or -', 128);
}

function readMatching(
  value: unknown,
  path: string,
  problems: ErrorDetail[],
  pattern: RegExp,
  characters: string,
  maxLength: number,
): string {
  const text = readString(value, path, problems);
  if (typeof value === 'string' && !pattern.test(text)) {
    const rule = `1 to ${maxLength} ${characters}, starting with a letter or digit`;
    problems.push({ path, message: `must be ${rule} (got ${describeValue(text)})` });
  }
  return text;
}

function readVersion(value: unknown, path: string, problems: ErrorDetail[]): string {
  if (isCanonicalVersion(value)) return value;
  const canonical = typeof value === 'string' ? semver.valid(value) : null;
  const hint = canonical ? `; write '${canonical}'` : '';
  problems.push({
    path,
    message: `must be a semantic version such as '1.0.0' (got ${describeValue(value)}${hint})`,
  });
  return DEFAULT_TEMPLATE_VERSION;
}

interface NumberRange {
  min: number;
  max?: number;
  integer?: boolean;
}

function numberReader(range: NumberRange): Reader<number> {
  const { min, max = Number.POSITIVE_INFINITY, integer = false } = range;
  const kind = integer ? 'an integer' : 'a number';
  const expected = range.max === undefined ? `${kind} >= ${min}` : `${kind} from ${min} to ${max}`;
  return (value, path, problems) => {
    const fits = typeof value === 'number' && Number.isFinite(value) && value >= min && value <= max;
    if (fits && (!integer || Number.isInteger(value))) return value;
    problems.push({ path, message: `must be ${expected} (got ${describeValue(value)})` });
    return min;
  };
}

/** Reads an object whose keys are all optional, each with its reader; unknown keys are reported. */
function objectReader<T>(readers: FieldReaders<T>): Reader<Partial<T>> {
  return (value, path, problems) => {
    if (!isPlainObject(value)) {
      problems.push({ path, message: `must be an object (got ${describeValue(value)})` });
      return {};
    }
    checkKeys(value, Object.keys(readers), path, problems);
    return readOptionalFields(value, readers, path, problems);
  };
}

/** Reads the fields of `source` that `readers` knows and that are present (not `undefined`). */
function readOptionalFields<T>(
  source: Record<string, unknown>,
  readers: FieldReaders<T>,
  path: string,
  problems: ErrorDetail[],
): Partial<T> {
  const result: Partial<T> = {};
  for (const key of Object.keys(readers) as (keyof T & string)[]) {
    const value = source[key];
    if (value !== undefined) result[key] = readers[key](value, joinPath(path, key), problems);
  }
  return result;
}

/** Strict keys: an unknown key is usually a typo, so it is reported (with a suggestion). */
function checkKeys(
  object: Record<string, unknown>,
  allowed: readonly string[],
  path: string,
  problems: ErrorDetail[],
): void {
  for (const key of Object.keys(object)) {
    if (allowed.includes(key)) continue;
    const hint = closest(key, allowed);
    const message = hint
      ? `unknown key (did you mean '${hint}'?)`
      : `unknown key (allowed: ${allowed.join(', ')})`;
    problems.push({ path: joinPath(path, key), message });
  }
}

/** The candidate within two edits of `word`, if any: enough to catch `depnds_on` or `stpes`. */
function closest(word: string, candidates: readonly string[]): string | undefined {
  let best: { candidate: string; distance: number } | undefined;
  for (const candidate of candidates) {
    const distance = editDistance(word, candidate);
    if (distance <= 2 && distance < word.length && (!best || distance < best.distance)) {
      best = { candidate, distance };
    }
  }
  return best?.candidate;
}

/** Levenshtein distance, one row at a time. */
function editDistance(a: string, b: string): number {
  let previous = Array.from({ length: b.length + 1 }, (_, index) => index);
  for (let i = 1; i <= a.length; i++) {
    const current = [i];
    for (let j = 1; j <= b.length; j++) {
      const substitution = (previous[j - 1] ?? 0) + (a[i - 1] === b[j - 1] ? 0 : 1);
      current[j] = Math.min((previous[j] ?? 0) + 1, (current[j - 1] ?? 0) + 1, substitution);
    }
    previous = current;
  }
  return previous[b.length] ?? 0;
}

// ── data helpers ───────────────────────────────────────────────────────────────────────────

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return false;
  const prototype: unknown = Object.getPrototypeOf(value);
  return prototype === Object.prototype || prototype === null;
}

/**
 * Copies JSON data (what YAML and JSON produce; code may pass anything), reporting values JSON
 * cannot hold. Object properties set to `undefined` are dropped, as `JSON.stringify` does; keys
 * are copied as own data properties, so a `__proto__` key cannot change a prototype.
 */
function cloneJsonData(
  value: unknown,
  path: string,
  problems: ErrorDetail[],
  ancestors = new Set<object>(),
): unknown {
  if (value === null || typeof value === 'string' || typeof value === 'boolean') return value;
  if (typeof value === 'number' && Number.isFinite(value)) return value;
  if (!Array.isArray(value) && !isPlainObject(value)) {
    problems.push({ path, message: `must be JSON data (got ${describeValue(value)})` });
    return null;
  }
  if (ancestors.has(value)) {
    problems.push({ path, message: 'must be JSON data (got a circular reference)' });
    return null;
  }
  ancestors.add(value);
  const copy = Array.isArray(value)
    ? (value as unknown[]).map((item, index) =>
        cloneJsonData(item, joinPath(path, index), problems, ancestors),
      )
    : Object.fromEntries(
        Object.entries(value)
          .filter(([, item]) => item !== undefined)
          .map(([key, item]) => [key, cloneJsonData(item, joinPath(path, key), problems, ancestors)]),
      );
  ancestors.delete(value);
  return copy;
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const child of Object.values(value)) deepFreeze(child);
    Object.freeze(value);
  }
  return value;
}

/** A short description of a value for messages: `'abc'`, `42`, `an array`, `a function`. */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  switch (typeof value) {
    case 'string':
      return value.length > 60 ? `'${value.slice(0, 57)}...'` : `'${value}'`;
    case 'number':
    case 'boolean':
    case 'bigint':
      return String(value);
    case 'undefined':
      return 'nothing';
    case 'object':
      return isPlainObject(value) ? 'an object' : `a ${className(value)} instance`;
    default:
      return `a ${typeof value}`;
  }
}

function className(value: object): string {
  const name = (value as { constructor?: { name?: unknown } }).constructor?.name;
  return typeof name === 'string' && name !== '' ? name : 'non-plain object';
}

// ── sources: text and folders ──────────────────────────────────────────────────────────────

/**
 * Parses template text. YAML is a superset of JSON, so the default (`yaml`) reads both and
 * reports errors with line and column; `json` parses strictly as JSON. Duplicate keys and
 * unknown tags are errors. Throws a `ValidationError` naming the position of each problem.
 */
export function parseTemplateSource(text: string, format: 'yaml' | 'json' = 'yaml'): unknown {
  return format === 'json' ? parseJson(text) : parseYaml(text);
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch (error) {
    // V8's message names the position and, since Node 22, the line and column.
    const message = coerceError(error).message;
    throw new ValidationError(`invalid JSON: ${message}`, [{ message }]);
  }
}

function parseYaml(text: string): unknown {
  const lineCounter = new LineCounter();
  const document = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const problems = [...document.errors, ...document.warnings].map((error) => yamlProblem(error, lineCounter));
  if (problems.length > 0) throw problemsError('invalid YAML', problems);
  try {
    return document.toJS() as unknown;
  } catch (error) {
    // E.g. too many aliases: yaml refuses "billion laughs" documents.
    throw new ValidationError(`invalid YAML: ${coerceError(error).message}`);
  }
}

function yamlProblem(error: YAMLError, lineCounter: LineCounter): ErrorDetail {
  const { line, col } = lineCounter.linePos(error.pos[0]);
  return { path: `line ${line}, column ${col}`, message: error.message };
}

/** One template read from a folder. */
export interface TemplateFileEntry {
  /** The file's path (`dir` joined with its name). */
  file: string;
  /** A label for messages: the file name, with `[index]` when the file holds a list. */
  source: string;
  template: unknown;
}

const FORMAT_BY_EXTENSION: ReadonlyMap<string, 'yaml' | 'json'> = new Map([
  ['.yaml', 'yaml'],
  ['.yml', 'yaml'],
  ['.json', 'json'],
]);

/**
 * Reads every `*.yaml`, `*.yml` and `*.json` file of `dir` (not recursive; hidden files skipped),
 * sorted by name; a file holds one template or a list of them. Unparsable files are reported
 * together in one `ValidationError` (a detail per file). Templates are returned unvalidated: pass
 * them to `TemplateRegistry.registerMany` with `sources` for messages that name the file.
 */
export async function loadTemplateDir(dir: string): Promise<TemplateFileEntry[]> {
  const entries: TemplateFileEntry[] = [];
  const problems: ErrorDetail[] = [];
  for (const name of await listTemplateFiles(dir)) {
    const format = FORMAT_BY_EXTENSION.get(extname(name).toLowerCase());
    const file = join(dir, name);
    try {
      entries.push(...entriesOf(file, name, parseTemplateSource(await readFile(file, 'utf8'), format)));
    } catch (error) {
      if (!isBatonError(error) || error.code !== 'validation_failed') throw error;
      problems.push({ path: name, message: error.message });
    }
  }
  if (problems.length > 0) throw problemsError(`invalid template files in ${dir}`, problems);
  return entries;
}

async function listTemplateFiles(dir: string): Promise<string[]> {
  const candidates = (await readdir(dir))
    .filter((name) => !name.startsWith('.') && FORMAT_BY_EXTENSION.has(extname(name).toLowerCase()))
    .sort();
  const files: string[] = [];
  // stat (not the directory entry type) so that symlinked files count, as in mounted config maps.
  for (const name of candidates) if ((await stat(join(dir, name))).isFile()) files.push(name);
  return files;
}

function entriesOf(file: string, name: string, parsed: unknown): TemplateFileEntry[] {
  if (!Array.isArray(parsed)) return [{ file, source: name, template: parsed }];
  return (parsed as unknown[]).map((template, index) => ({ file, source: `${name}[${index}]`, template }));
}
