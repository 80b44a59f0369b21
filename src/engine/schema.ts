/**
 * JSON Schema support for template `input_schema`s (SPEC §2.1), plus the helpers that turn
 * problems into `ErrorDetail`s with readable paths (`input.items[2]`, `steps[1].depends_on[0]`).
 *
 * Dialect: a schema is compiled as **draft-07** (Ajv's default) unless its `$schema` names
 * draft 2020-12, in which case a second, lazily created Ajv 2020 instance is used. One shared
 * instance per dialect; compiled validators are cached per schema object (a registered template's
 * schema is frozen, so the cache lives exactly as long as the template).
 */
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { Ajv2020 } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { ValidationError, coerceError, type ErrorDetail } from '../util/errors.ts';

export type { ValidateFunction } from 'ajv';

const DRAFT_2020_12 = 'https://json-schema.org/draft/2020-12/schema';

/** The subset of Ajv both dialect classes share (they differ only in their meta-schemas). */
type SchemaCompiler = Ajv | Ajv2020;

// `ajv-formats` is CommonJS; under Node's ESM interop its plugin function is `.default`.
const addFormats = addFormatsModule.default;

/**
 * `strict: false` accepts schemas that carry unknown keywords (`example`, `x-…`), as JSON Schema
 * allows. `logger: false` because Ajv would otherwise write warnings (e.g. unknown formats, which
 * JSON Schema says to ignore) straight to the console.
 */
const AJV_OPTIONS = { allErrors: true, strict: false, logger: false } as const;

function lazy<T>(create: () => T): () => T {
  let instance: T | undefined;
  return () => (instance ??= create());
}

const draft07 = lazy(() => addFormats(new Ajv(AJV_OPTIONS)));
const draft2020 = lazy(() => addFormats(new Ajv2020(AJV_OPTIONS)));

const compiled = new WeakMap<object, ValidateFunction>();

function compilerFor(schema: Record<string, unknown>): SchemaCompiler {
  const dialect = typeof schema.$schema === 'string' ? schema.$schema.replace(/#$/, '') : undefined;
  return dialect === DRAFT_2020_12 ? draft2020() : draft07();
}

/**
 * Returns the validator for `schema`, compiling it on first use. Throws Ajv's error when the schema
 * is invalid (use `schemaProblems` to get them as details instead).
 */
export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  const cached = compiled.get(schema);
  if (cached) return cached;
  const ajv = compilerFor(schema);
  const claimsAjvId = isAjvOwnId(ajv, schema.$id);
  try {
    const validate = ajv.compile(schema);
    compiled.set(schema, validate);
    return validate;
  } finally {
    if (!claimsAjvId) ajv.removeSchema(schema);
  }
}

/**
 * Ajv keeps every compiled schema in a strong Map, and registers its `$id` globally. Our WeakMap is
 * the cache that counts, so `compileSchema` drops Ajv's entries once compiled (the compiled function
 * stays valid): memory no longer grows as templates are replaced, and two templates (or two
 * versions of one) may share an `$id`. Removal by object also removes by `$id`, so a schema that
 * claims the `$id` of one of Ajv's own meta-schemas (and then fails to compile) is left alone.
 */
function isAjvOwnId(ajv: SchemaCompiler, id: unknown): boolean {
  if (typeof id !== 'string') return false;
  const normalised = id.replace(/#\/?$/, '');
  return normalised !== '' && (normalised in ajv.schemas || normalised in ajv.refs);
}

/**
 * Checks that `schema` is a valid JSON Schema and compiles (and caches) it. Returns the problems
 * found, with paths under `root` (e.g. `input_schema.type`), or `[]` when it is usable.
 */
export function schemaProblems(schema: Record<string, unknown>, root = 'input_schema'): ErrorDetail[] {
  try {
    const ajv = compilerFor(schema);
    if (ajv.validateSchema(schema) === false) return formatSchemaErrors(ajv.errors, root);
    compileSchema(schema);
    return [];
  } catch (error) {
    // An unknown `$schema`, an unresolvable `$ref`, …: Ajv says what is wrong.
    return [{ path: root, message: `is not a valid JSON Schema: ${coerceError(error).message}` }];
  }
}

/**
 * Turns Ajv errors into details with JavaScript-like paths under `root`. A missing or extra
 * property is reported at the property's own path, so a form can highlight that field.
 */
export function formatSchemaErrors(
  errors: readonly ErrorObject[] | null | undefined,
  root = 'input',
): ErrorDetail[] {
  return (errors ?? []).map((error) => ({
    path: pointerToPath(error.instancePath, root, propertyNamed(error)),
    message: messageOf(error),
  }));
}

function propertyNamed(error: ErrorObject): string | undefined {
  const params = error.params as Record<string, unknown>;
  const property = params.missingProperty ?? params.additionalProperty ?? params.unevaluatedProperty;
  return typeof property === 'string' ? property : undefined;
}

function messageOf(error: ErrorObject): string {
  const message = error.message ?? `must pass the "${error.keyword}" keyword`;
  const allowed = (error.params as { allowedValues?: unknown }).allowedValues;
  if (error.keyword !== 'enum' || !Array.isArray(allowed)) return message;
  return `${message}: ${allowed.map((value) => JSON.stringify(value)).join(', ')}`;
}

function pointerToPath(pointer: string, root: string, property: string | undefined): string {
  const segments = pointer === '' ? [] : pointer.slice(1).split('/').map(unescapePointerSegment);
  if (property !== undefined) segments.push(property);
  return segments.reduce<string>((path, segment) => joinPath(path, segment), root);
}

function unescapePointerSegment(segment: string): string {
  return segment.replaceAll('~1', '/').replaceAll('~0', '~');
}

const IDENTIFIER = /^[A-Za-z_$][A-Za-z0-9_$]*$/;

/**
 * Appends a key or index to a detail path: `steps` + 2 → `steps[2]`, `steps[2]` + `name` →
 * `steps[2].name`, `input` + `a b` → `input["a b"]`. An empty base yields the bare key.
 */
export function joinPath(base: string, key: string | number): string {
  if (typeof key === 'number' || /^\d+$/.test(key)) return `${base}[${key}]`;
  if (!IDENTIFIER.test(key)) return `${base}[${JSON.stringify(key)}]`;
  return base === '' ? key : `${base}.${key}`;
}

/**
 * One `ValidationError` for a list of problems: the message starts with `heading` and lists every
 * problem (`path: message`), the details keep them apart for APIs and CLIs.
 */
export function problemsError(heading: string, problems: ErrorDetail[]): ValidationError {
  const listed = problems.map((problem) =>
    problem.path ? `${problem.path}: ${problem.message}` : problem.message,
  );
  const count = problems.length === 1 ? '' : `${problems.length} problems: `;
  return new ValidationError(`${heading}: ${count}${listed.join('; ')}`, problems);
}
