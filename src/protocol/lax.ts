/**
 * Hand-written validators with pydantic v2's lax-mode semantics (the reference validates every
 * model in lax mode): `"30"` is a valid `int`, `"yes"` a valid `bool`, numbers are never valid
 * strings. Each parser returns the coerced value, or `INVALID` after pushing its issues.
 *
 * Locations are built only when something fails, so the success path allocates little.
 */
import {
  boundIssue,
  choicesIssue,
  fixedIssue,
  modelTypeIssue,
  valueErrorIssue,
  type Loc,
  type ValidationIssue,
} from './issues.ts';
import { rustTrim } from './python.ts';

export const INVALID: unique symbol = Symbol('invalid');
export type Parsed<T> = T | typeof INVALID;

/**
 * A field parser. `prefix` is the location of the object holding the field, `key` the field name
 * (or list index); the issue location is `[...prefix, key]`.
 */
export type Parser<T> = (
  value: unknown,
  prefix: Loc,
  key: string | number,
  issues: ValidationIssue[],
) => Parsed<T>;

export type JsonObject = Record<string, unknown>;

export function isObject(value: unknown): value is JsonObject {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

export function at(prefix: Loc, key: string | number): Loc {
  return [...prefix, key];
}

export const str: Parser<string> = (value, prefix, key, issues) => {
  if (typeof value === 'string') return value;
  issues.push(fixedIssue('string_type', at(prefix, key), value));
  return INVALID;
};

const FALSE_WORDS = new Set(['f', 'n', 'no', 'off', 'false']);
const TRUE_WORDS = new Set(['t', 'y', 'on', 'yes', 'true']);

export const bool: Parser<boolean> = (value, prefix, key, issues) => {
  if (typeof value === 'boolean') return value;
  if (typeof value === 'string') {
    if (value === '0' || FALSE_WORDS.has(value.toLowerCase())) return false;
    if (value === '1' || TRUE_WORDS.has(value.toLowerCase())) return true;
    issues.push(fixedIssue('bool_parsing', at(prefix, key), value));
    return INVALID;
  }
  if (typeof value === 'number' && Number.isInteger(value)) {
    if (value === 0) return false;
    if (value === 1) return true;
    issues.push(fixedIssue('bool_parsing', at(prefix, key), value));
    return INVALID;
  }
  issues.push(fixedIssue('bool_type', at(prefix, key), value));
  return INVALID;
};

const INTEGER_TEXT = /^[+-]?\d+$/;
const INTEGER_WITH_ZERO_DECIMALS = /^([+-]?\d+)\.0*$/;

export const int: Parser<number> = (value, prefix, key, issues) => {
  if (typeof value === 'number') {
    if (Number.isInteger(value)) return value === 0 ? 0 : value;
    issues.push(
      fixedIssue(Number.isFinite(value) ? 'int_from_float' : 'finite_number', at(prefix, key), value),
    );
    return INVALID;
  }
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const text = rustTrim(value);
    if (text.length > 4300) {
      issues.push(fixedIssue('int_parsing_size', at(prefix, key), value));
      return INVALID;
    }
    const digits = INTEGER_TEXT.test(text) ? text : INTEGER_WITH_ZERO_DECIMALS.exec(text)?.[1];
    if (digits !== undefined) {
      const parsed = Number(digits);
      return parsed === 0 ? 0 : parsed;
    }
    issues.push(fixedIssue('int_parsing', at(prefix, key), value));
    return INVALID;
  }
  issues.push(fixedIssue('int_type', at(prefix, key), value));
  return INVALID;
};

/** What Rust's `str::parse::<f64>()` accepts (after `trim()`). */
const FLOAT_TEXT = /^[+-]?(?:(?:\d+\.?\d*|\.\d+)(?:e[+-]?\d+)?|inf|infinity|nan)$/i;

export const float: Parser<number> = (value, prefix, key, issues) => {
  if (typeof value === 'number') return value;
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (typeof value === 'string') {
    const text = rustTrim(value);
    if (FLOAT_TEXT.test(text)) return parseRustFloat(text);
    issues.push(fixedIssue('float_parsing', at(prefix, key), value));
    return INVALID;
  }
  issues.push(fixedIssue('float_type', at(prefix, key), value));
  return INVALID;
};

function parseRustFloat(text: string): number {
  const lower = text.toLowerCase();
  const negative = lower.startsWith('-');
  const bare = lower.replace(/^[+-]/, '');
  if (bare === 'nan') return Number.NaN;
  if (bare === 'inf' || bare === 'infinity') return negative ? -Infinity : Infinity;
  return Number(text);
}

export const dict: Parser<JsonObject> = (value, prefix, key, issues) => {
  if (isObject(value)) return value;
  issues.push(fixedIssue('dict_type', at(prefix, key), value));
  return INVALID;
};

/** `list[item]`: a JSON array whose items each pass `item` (issues located at their index). */
export function list<T>(item: Parser<T>): Parser<T[]> {
  return (value, prefix, key, issues) => {
    if (!Array.isArray(value)) {
      issues.push(fixedIssue('list_type', at(prefix, key), value));
      return INVALID;
    }
    const itemPrefix = at(prefix, key);
    const out: T[] = [];
    let failed = false;
    for (let index = 0; index < value.length; index++) {
      const element: unknown = value[index];
      const parsed = item(element, itemPrefix, index, issues);
      if (parsed === INVALID) failed = true;
      else out.push(parsed);
    }
    return failed ? INVALID : out;
  };
}

/** A `str` enum (`type: 'enum'`) or a `Literal[...]` (`type: 'literal_error'`). */
export function oneOf<const T extends string>(
  choices: readonly T[],
  type: 'enum' | 'literal_error' = 'enum',
): Parser<T> {
  const allowed: ReadonlySet<string> = new Set(choices);
  return (value, prefix, key, issues) => {
    if (typeof value === 'string' && allowed.has(value)) return value as T;
    issues.push(choicesIssue(type, at(prefix, key), choices, value));
    return INVALID;
  };
}

/** `X | None`: `null` passes through; anything else must pass `parse`. */
export function nullable<T>(parse: Parser<T>): Parser<T | null> {
  return (value, prefix, key, issues) => (value === null ? null : parse(value, prefix, key, issues));
}

/**
 * A numeric field with `ge`/`le` bounds. `shown` is how the reference prints each bound
 * (`Field(ge=1)` prints `1`, `Field(ge=0.0)` prints `0.0`).
 */
export function bounded(
  parse: Parser<number>,
  bounds: { ge?: number; le?: number; shownGe?: string; shownLe?: string },
): Parser<number> {
  const { ge, le } = bounds;
  return (value, prefix, key, issues) => {
    const parsed = parse(value, prefix, key, issues);
    if (parsed === INVALID) return INVALID;
    if (ge !== undefined && !(parsed >= ge)) {
      issues.push(boundIssue('ge', at(prefix, key), ge, bounds.shownGe ?? String(ge), value));
      return INVALID;
    }
    if (le !== undefined && !(parsed <= le)) {
      issues.push(boundIssue('le', at(prefix, key), le, bounds.shownLe ?? String(le), value));
      return INVALID;
    }
    return parsed;
  };
}

/** A field validator that runs after the type check and raises `ValueError(message)`. */
export function refine<T>(parse: Parser<T>, check: (value: T) => string | undefined): Parser<T> {
  return (value, prefix, key, issues) => {
    const parsed = parse(value, prefix, key, issues);
    if (parsed === INVALID) return INVALID;
    const problem = check(parsed);
    if (problem === undefined) return parsed;
    issues.push(valueErrorIssue(at(prefix, key), problem, value));
    return INVALID;
  };
}

// ── Models ───────────────────────────────────────────────────────────────────
//
// Each model is a hand-written function that builds its output as one object literal (fields in
// the reference's order, so issues come out in pydantic's order and every output shares a hidden
// class), using these helpers. Unknown keys are checked last, as pydantic does.

/** A model validator: `input` is an object; issues are located under `prefix`. */
export type ModelValidator<T> = (input: JsonObject, prefix: Loc, issues: ValidationIssue[]) => Parsed<T>;

/** A required field: absent is a `missing` issue whose input is the whole object. */
export function req<T>(
  input: JsonObject,
  value: unknown,
  key: string,
  parse: Parser<T>,
  prefix: Loc,
  issues: ValidationIssue[],
): Parsed<T> {
  if (value !== undefined) return parse(value, prefix, key, issues);
  issues.push(fixedIssue('missing', at(prefix, key), input));
  return INVALID;
}

/** An optional field: absent takes `fallback` (always a valid value, so it is not re-checked). */
export function opt<T, D>(
  value: unknown,
  key: string,
  parse: Parser<T>,
  fallback: D,
  prefix: Loc,
  issues: ValidationIssue[],
): Parsed<T> | D {
  return value === undefined ? fallback : parse(value, prefix, key, issues);
}

/** `extra="forbid"`: one `extra_forbidden` issue per unknown key, in the input's order. */
export function rejectExtraKeys(
  input: JsonObject,
  known: ReadonlySet<string>,
  prefix: Loc,
  issues: ValidationIssue[],
): void {
  for (const key in input) {
    if (!known.has(key) && input[key] !== undefined)
      issues.push(fixedIssue('extra_forbidden', at(prefix, key), input[key]));
  }
}

/** The output when no issue was added since `before`; `INVALID` otherwise. */
export function settle<T>(out: T, issues: ValidationIssue[], before: number): Parsed<T> {
  return issues.length === before ? out : INVALID;
}

/** A `model_validator(mode="after")`: its `ValueError` is located at the model itself. */
export function afterModel<T>(
  out: Parsed<T>,
  check: (value: T) => string | undefined,
  input: JsonObject,
  prefix: Loc,
  issues: ValidationIssue[],
): Parsed<T> {
  if (out === INVALID) return INVALID;
  const problem = check(out);
  if (problem === undefined) return out;
  issues.push(valueErrorIssue(prefix, problem, input));
  return INVALID;
}

/** A model used as a field: anything but an object is a `model_type` issue. */
export function modelField<T>(className: string, validate: ModelValidator<T>): Parser<T> {
  return (value, prefix, key, issues) => {
    if (isObject(value)) return validate(value, at(prefix, key), issues);
    issues.push(modelTypeIssue(at(prefix, key), className, value));
    return INVALID;
  };
}
