/**
 * `{{input.some.path}}` and `{{results.step_name.some.path}}` in built-in step configurations
 * (SPEC §5). References are checked before anything runs: their shape and step names when the
 * template is registered, input paths when a task starts; only a result's inner path can be
 * missing at run time, and that is a validation error (retrying would not help).
 */
import { ValidationError, type ErrorDetail } from '../../util/errors.ts';

const PLACEHOLDER = /\{\{\s*([^{}]*?)\s*\}\}/g;
const SEGMENT = /^(?:[A-Za-z_][\w-]*|\d+)$/;

/** A parsed reference: where it reads from, and the path inside that value. */
export type Reference =
  | { root: 'input'; path: string[]; text: string }
  | { root: 'results'; step: string; path: string[]; text: string };

/** What references resolve against. */
export interface Scope {
  input: unknown;
  results: Readonly<Record<string, unknown>>;
}

/** Parses `input.a.b` or `results.step.a`; a problem message when it is neither. */
export function parseReference(text: string): Reference | string {
  const [root, ...path] = text.split('.');
  if (!path.every((segment) => SEGMENT.test(segment))) {
    return `{{${text}}}: a path is dot-separated names or indexes, like input.order.id or results.fetch.body.items.0`;
  }
  if (root === 'input') return { root, path, text };
  if (root === 'results' && path.length > 0) {
    const [step = '', ...rest] = path;
    return { root, step, path: rest, text };
  }
  return `{{${text}}}: a reference starts with input. or results.<step>. (got '${root ?? ''}')`;
}

/** Every `{{…}}` in the strings of `value`, with the configuration path of the string holding it. */
export function collectReferences(value: unknown, path: string): { path: string; text: string }[] {
  const found: { path: string; text: string }[] = [];
  visitStrings(value, path, (text, at) => {
    for (const match of text.matchAll(PLACEHOLDER)) found.push({ path: at, text: match[1] ?? '' });
  });
  return found;
}

/** Checks reference shapes and that each `results.<step>` names a step that runs before this one. */
export function checkReferences(value: unknown, path: string, upstream: ReadonlySet<string>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  for (const found of collectReferences(value, path)) {
    const reference = parseReference(found.text);
    if (typeof reference === 'string') problems.push({ path: found.path, message: reference });
    else if (reference.root === 'results' && !upstream.has(reference.step)) {
      const message = `{{${found.text}}}: step '${reference.step}' is not among this step's dependencies (add it to depends_on)`;
      problems.push({ path: found.path, message });
    }
  }
  return problems;
}

/** Checks that every `{{input.…}}` path exists in a task's input. */
export function checkInputReferences(value: unknown, path: string, input: unknown): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  for (const found of collectReferences(value, path)) {
    const reference = parseReference(found.text);
    if (typeof reference === 'object' && reference.root === 'input' && !lookup(input, reference.path).found) {
      problems.push({ path: found.path, message: `{{${found.text}}}: the task input has no such value` });
    }
  }
  return problems;
}

/**
 * Substitutes references in every string of `value`. A string that is exactly one reference takes
 * the referenced value as is (a number stays a number) unless `asText`; otherwise values are
 * written as text (objects as JSON), passed through `encode` when given.
 */
export function render(
  value: unknown,
  scope: Scope,
  options: { asText?: boolean; encode?: (text: string, offset: number) => string } = {},
): unknown {
  if (typeof value === 'string') return renderString(value, scope, options);
  if (Array.isArray(value)) return value.map((item) => render(item, scope, options));
  if (typeof value === 'object' && value !== null) {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => [key, render(item, scope, options)]),
    );
  }
  return value;
}

function renderString(
  text: string,
  scope: Scope,
  options: { asText?: boolean; encode?: (text: string, offset: number) => string },
): unknown {
  const whole = /^\{\{\s*([^{}]*?)\s*\}\}$/.exec(text);
  if (whole && options.asText !== true) return resolve(whole[1] ?? '', scope);
  return text.replace(PLACEHOLDER, (_match, reference: string, offset: number) => {
    const resolved = resolve(reference, scope);
    const asText = typeof resolved === 'string' ? resolved : JSON.stringify(resolved);
    return options.encode ? options.encode(asText, offset) : asText;
  });
}

function resolve(text: string, scope: Scope): unknown {
  const reference = parseReference(text);
  if (typeof reference === 'string') throw new ValidationError(reference);
  const base = reference.root === 'input' ? scope.input : scope.results[reference.step];
  const { found, value } = lookup(base, reference.path);
  if (!found) throw new ValidationError(`{{${text}}}: no such value`);
  return value;
}

function lookup(base: unknown, path: readonly string[]): { found: boolean; value: unknown } {
  let value = base;
  for (const segment of path) {
    if (typeof value !== 'object' || value === null || !Object.hasOwn(value, segment)) {
      return { found: false, value: undefined };
    }
    value = (value as Record<string, unknown>)[segment];
  }
  return { found: value !== undefined, value };
}

function visitStrings(value: unknown, path: string, visit: (text: string, path: string) => void): void {
  if (typeof value === 'string') visit(value, path);
  else if (Array.isArray(value))
    value.forEach((item, index) => visitStrings(item, `${path}[${index}]`, visit));
  else if (typeof value === 'object' && value !== null) {
    for (const [key, item] of Object.entries(value))
      visitStrings(item, path === '' ? key : `${path}.${key}`, visit);
  }
}
