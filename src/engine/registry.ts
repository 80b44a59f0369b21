/**
 * The handler and template registries (SPEC §2.1, §2.2). Handlers are keyed
 * `namespace/name@version`, templates `namespace.name@version`; a reference without a version
 * means the highest version by semver precedence (so 10.0.0 beats 9.0.0, unlike a string sort).
 */
import semver from 'semver';
import { ConflictError, type ErrorDetail } from '../util/errors.ts';
import type { BuiltinHandler, StepHandler } from './handler.ts';
import { problemsError } from './schema.ts';
import {
  checkTemplate,
  describeValue,
  isCanonicalVersion,
  isIdentifier,
  parseHandlerRef,
  parseTemplateRef,
  templateKey,
  validateTemplate,
  type Template,
  type TemplateContext,
} from './templates.ts';

/** Built-in handler types are listed under this namespace, which code handlers therefore cannot use. */
const BUILTIN_NAMESPACE = 'builtin';
const DEFAULT_HANDLER_VERSION = '0.1.0';

export interface HandlerEntry {
  namespace: string;
  name: string;
  version: string;
  /** `namespace/name@version`: what a step row stores and a worker claims. */
  key: string;
  handler: StepHandler;
  description: string;
  kind: 'code';
}

export interface HandlerDefinition {
  namespace: string;
  name: string;
  /** Semantic version, default `0.1.0`. */
  version?: string;
  handler: StepHandler;
  description?: string;
}

/** One line of a handler listing (the REST `GET /handlers` shape). Built-ins have version `''`. */
export interface HandlerListing {
  name: string;
  version: string;
  kind: 'code' | 'builtin';
  description: string;
}

export interface RegisterOptions {
  /** Replace an entry with the same key instead of failing with a `ConflictError`. */
  replace?: boolean;
}

export interface TemplateBatchOptions extends RegisterOptions {
  /**
   * A label per input, used in error paths instead of `[index]` (e.g. the `source` of
   * `loadTemplateDir` entries: `orders.yaml.steps[1].name`).
   */
  sources?: readonly string[];
}

/** The key a step row stores for a built-in handler type. */
export function builtinKey(type: string): string {
  return `builtin:${type}`;
}

/** Code handlers by `(namespace, name, version)` and built-in handler types by name. */
export class HandlerRegistry {
  readonly #byKey = new Map<string, HandlerEntry>();
  /** `namespace/name` → its versions, highest first. */
  readonly #versions = new Map<string, HandlerEntry[]>();
  readonly #builtins = new Map<string, { handler: BuiltinHandler; description: string }>();
  #keys: string[] | undefined;

  /**
   * Registers a code handler. Throws a `ValidationError` for a bad namespace, name, version or
   * handler, and a `ConflictError` when the key exists (unless `replace`).
   */
  register(definition: HandlerDefinition, options: RegisterOptions = {}): HandlerEntry {
    const entry = makeHandlerEntry(definition);
    if (this.#byKey.has(entry.key) && options.replace !== true) {
      throw new ConflictError(
        `handler ${entry.key} is already registered (pass { replace: true } to replace it)`,
      );
    }
    const id = `${entry.namespace}/${entry.name}`;
    this.#byKey.set(entry.key, entry);
    this.#keys = undefined;
    this.#versions.set(id, withVersion(this.#versions.get(id) ?? [], entry));
    return entry;
  }

  /** Registers a built-in handler type (`http`, `asap`), keyed `builtin:<type>`. */
  registerBuiltin(
    type: string,
    handler: BuiltinHandler,
    description = '',
    options: RegisterOptions = {},
  ): void {
    const problems: ErrorDetail[] = [];
    if (!isIdentifier(type)) problems.push({ path: 'type', message: identifierMessage(type) });
    if (!isBuiltinHandler(handler)) {
      const message = `must be an object with a run(context, config) function (got ${describeValue(handler)})`;
      problems.push({ path: 'handler', message });
    }
    if (problems.length > 0) throw problemsError('invalid built-in handler', problems);
    if (this.#builtins.has(type) && options.replace !== true) {
      throw new ConflictError(
        `built-in handler type '${type}' is already registered (pass { replace: true })`,
      );
    }
    this.#builtins.set(type, { handler, description });
    this.#keys = undefined;
  }

  /** `ns/name` → its highest version; `ns/name@1.2.3` → that exact version; else `undefined`. */
  resolve(ref: string): HandlerEntry | undefined {
    const parsed = parseHandlerRef(ref);
    if (!parsed) return undefined;
    // A well-formed reference with a version is exactly a key; without one, exactly an id.
    return parsed.version === undefined ? this.#versions.get(ref)?.[0] : this.#byKey.get(ref);
  }

  has(ref: string): boolean {
    return this.resolve(ref) !== undefined;
  }

  hasBuiltin(type: string): boolean {
    return this.#builtins.has(type);
  }

  byKey(key: string): HandlerEntry | undefined {
    return this.#byKey.get(key);
  }

  builtin(type: string): BuiltinHandler | undefined {
    return this.#builtins.get(type)?.handler;
  }

  /** Every runnable key, `builtin:<type>` included, sorted: a worker claims steps of these only. */
  keys(): string[] {
    // Asked on every claim: computed once per registration, not per call.
    this.#keys ??= [...this.#byKey.keys(), ...[...this.#builtins.keys()].map(builtinKey)].sort();
    return this.#keys;
  }

  /** Handlers grouped by namespace (sorted), each group by name then highest version first. */
  listByNamespace(): Record<string, HandlerListing[]> {
    const code = [...this.#byKey.values()].map(
      ({ namespace, name, version, description }) =>
        [namespace, { name, version, kind: 'code' as const, description }] as const,
    );
    const builtins = [...this.#builtins].map(
      ([type, { description }]) =>
        [BUILTIN_NAMESPACE, { name: type, version: '', kind: 'builtin' as const, description }] as const,
    );
    return groupByNamespace<HandlerListing>([...code, ...builtins], compareNameThenVersion);
  }
}

/** Validated templates by `namespace.name@version`, checked against a handler registry. */
export class TemplateRegistry {
  readonly #context: TemplateContext;
  readonly #byKey = new Map<string, Template>();
  /** `namespace.name` → its versions, highest first. */
  readonly #versions = new Map<string, Template[]>();

  constructor(handlers: HandlerRegistry) {
    this.#context = {
      hasHandler: (ref) => handlers.has(ref),
      hasBuiltin: (type) => handlers.hasBuiltin(type),
      checkBuiltin: (config, step) =>
        handlers.builtin(String(config.type))?.checkConfig?.(config, step) ?? [],
    };
  }

  /**
   * Validates and registers one template. Throws a `ValidationError` listing every problem, or a
   * `ConflictError` when the same `ns.name@version` exists (unless `replace`).
   */
  register(input: unknown, options: RegisterOptions = {}): Template {
    const template = validateTemplate(input, this.#context);
    this.#assertNew([template], options);
    this.#add(template);
    return template;
  }

  /**
   * Registers all of `inputs` or none: every input is validated first (the same key twice in the
   * batch is a problem too), and one `ValidationError` lists the problems of all of them, each
   * path prefixed by the input's label (`sources[i]`, else `[i]`).
   */
  registerMany(inputs: readonly unknown[], options: TemplateBatchOptions = {}): Template[] {
    const templates = this.#validateBatch(inputs, options.sources);
    this.#assertNew(templates, options);
    for (const template of templates) this.#add(template);
    return templates;
  }

  /** `ns.name` → its highest version; `ns.name@1.2.3` → that version. Throws on a malformed reference. */
  resolve(ref: string): Template | undefined {
    const { namespace, name, version } = parseTemplateRef(ref);
    if (version === undefined) return this.#versions.get(`${namespace}.${name}`)?.[0];
    return this.#byKey.get(templateKey({ namespace, name, version }));
  }

  /** Every template, by namespace, then name, then highest version first. */
  list(): Template[] {
    return [...this.#byKey.values()].sort(
      (a, b) => compareText(a.namespace, b.namespace) || compareNameThenVersion(a, b),
    );
  }

  listByNamespace(): Record<string, Template[]> {
    return groupByNamespace(
      this.list().map((template) => [template.namespace, template] as const),
      compareNameThenVersion,
    );
  }

  #validateBatch(inputs: readonly unknown[], sources: readonly string[] | undefined): Template[] {
    const problems: ErrorDetail[] = [];
    const templates: Template[] = [];
    const labelByKey = new Map<string, string>();
    inputs.forEach((input, index) => {
      const label = sources?.[index] ?? `[${index}]`;
      const { template, problems: found } = checkTemplate(input, this.#context);
      problems.push(...found.map((problem) => ({ ...problem, path: prefixPath(label, problem.path) })));
      if (!template) return;
      const key = templateKey(template);
      const first = labelByKey.get(key);
      if (first === undefined) labelByKey.set(key, label);
      else problems.push({ path: label, message: `duplicate template ${key} (also defined by ${first})` });
      templates.push(template);
    });
    if (problems.length > 0) throw problemsError('invalid templates, none registered', problems);
    return templates;
  }

  #assertNew(templates: readonly Template[], options: RegisterOptions): void {
    if (options.replace === true) return;
    const taken = templates.map(templateKey).filter((key) => this.#byKey.has(key));
    if (taken.length === 0) return;
    const subject =
      taken.length === 1 ? `template ${taken.join('')} is` : `templates ${taken.join(', ')} are`;
    throw new ConflictError(
      `${subject} already registered (to replace: { replace: true } in code, ?replace=true over REST, --replace in the CLI)`,
    );
  }

  #add(template: Template): void {
    const id = `${template.namespace}.${template.name}`;
    this.#byKey.set(templateKey(template), template);
    this.#versions.set(id, withVersion(this.#versions.get(id) ?? [], template));
  }
}

function makeHandlerEntry(definition: HandlerDefinition): HandlerEntry {
  const problems = definitionProblems(definition);
  if (problems.length > 0) throw problemsError('invalid handler definition', problems);
  const { namespace, name, version = DEFAULT_HANDLER_VERSION, handler, description = '' } = definition;
  const key = `${namespace}/${name}@${version}`;
  return Object.freeze({ namespace, name, version, key, handler, description, kind: 'code' as const });
}

/** Plain JavaScript callers may pass anything: every field is checked, all problems reported at once. */
function definitionProblems(definition: HandlerDefinition): ErrorDetail[] {
  if (typeof definition !== 'object' || definition === null) {
    return [{ message: `a handler definition must be an object (got ${describeValue(definition)})` }];
  }
  const { namespace, name, version, handler, description } = definition as Record<
    keyof HandlerDefinition,
    unknown
  >;
  const problems: ErrorDetail[] = [];
  if (!isIdentifier(namespace)) problems.push({ path: 'namespace', message: identifierMessage(namespace) });
  else if (namespace === BUILTIN_NAMESPACE) {
    problems.push({
      path: 'namespace',
      message: `'${BUILTIN_NAMESPACE}' is reserved for built-in handler types`,
    });
  }
  if (!isIdentifier(name)) problems.push({ path: 'name', message: identifierMessage(name) });
  if (version !== undefined && !isCanonicalVersion(version)) {
    const message = `must be a semantic version such as '1.0.0' (got ${describeValue(version)})`;
    problems.push({ path: 'version', message });
  }
  if (typeof handler !== 'function') problems.push({ path: 'handler', message: functionMessage(handler) });
  if (description !== undefined && typeof description !== 'string') {
    problems.push({ path: 'description', message: `must be a string (got ${describeValue(description)})` });
  }
  return problems;
}

function identifierMessage(value: unknown): string {
  return `must be 1 to 64 lowercase letters, digits, _ or -, starting with a letter or digit (got ${describeValue(value)})`;
}

function isBuiltinHandler(value: unknown): value is BuiltinHandler {
  return typeof value === 'object' && value !== null && typeof (value as BuiltinHandler).run === 'function';
}

function functionMessage(value: unknown): string {
  return `must be a function (got ${describeValue(value)})`;
}

/** Adds or replaces `item` among the versions of one name, keeping them highest first. */
function withVersion<T extends { version: string }>(versions: readonly T[], item: T): T[] {
  const others = versions.filter((existing) => existing.version !== item.version);
  return [...others, item].sort((a, b) => semver.rcompare(a.version, b.version));
}

function compareText(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** By name, then highest version first. Built-ins (version `''`) have unique names, so never reach semver. */
function compareNameThenVersion(
  a: { name: string; version: string },
  b: { name: string; version: string },
): number {
  return compareText(a.name, b.name) || semver.rcompare(a.version, b.version);
}

function groupByNamespace<T>(
  items: readonly (readonly [namespace: string, item: T])[],
  compare: (a: T, b: T) => number,
): Record<string, T[]> {
  const groups: Record<string, T[]> = {};
  const sorted = [...items].sort(([a], [b]) => compareText(a, b));
  for (const [namespace, item] of sorted) (groups[namespace] ??= []).push(item);
  for (const group of Object.values(groups)) group.sort(compare);
  return groups;
}

/** `[2]` + `steps[0].name` → `[2].steps[0].name`; `orders.yaml` + nothing → `orders.yaml`. */
function prefixPath(label: string, path: string | undefined): string {
  if (path === undefined || path === '') return label;
  return path.startsWith('[') ? `${label}${path}` : `${label}.${path}`;
}
