/**
 * Validation issues shaped exactly like the entries of the reference's
 * `error.data.validation_errors`: pydantic v2 errors dumped with `ValidationError.json()`, keys in
 * pydantic's order (`type`, `loc`, `msg`, `input`, `ctx` when the error type has one, `url`).
 */

/** Where a value sits, as pydantic reports it: field names and list indexes, outermost first. */
export type Loc = readonly (string | number)[];

export interface ValidationIssue {
  /** pydantic's error type, e.g. `missing`, `string_type`, `extra_forbidden`, `value_error`. */
  type: string;
  loc: Loc;
  msg: string;
  /** The offending value (for `missing`, the whole object that lacks the field). */
  input: unknown;
  ctx?: Record<string, unknown>;
  url: string;
}

/**
 * The pydantic minor version whose documentation links appear in `url`. The reference requires
 * pydantic ≥ 2.12; the link is informational and no client reads it.
 */
export const PYDANTIC_DOCS_VERSION = '2.12';
const DOCS = `https://errors.pydantic.dev/${PYDANTIC_DOCS_VERSION}/v/`;

/** Messages of the error types that take no context. */
const FIXED_MESSAGES: Readonly<Record<string, string>> = {
  missing: 'Field required',
  extra_forbidden: 'Extra inputs are not permitted',
  string_type: 'Input should be a valid string',
  bool_type: 'Input should be a valid boolean',
  bool_parsing: 'Input should be a valid boolean, unable to interpret input',
  int_type: 'Input should be a valid integer',
  int_parsing: 'Input should be a valid integer, unable to parse string as an integer',
  int_from_float: 'Input should be a valid integer, got a number with a fractional part',
  int_parsing_size: 'Unable to parse input string as an integer, exceeded maximum size',
  float_type: 'Input should be a valid number',
  float_parsing: 'Input should be a valid number, unable to parse string as a number',
  finite_number: 'Input should be a finite number',
  dict_type: 'Input should be a valid dictionary',
  list_type: 'Input should be a valid list',
  datetime_type: 'Input should be a valid datetime',
};

/** An issue of a context-free error type (see the table above). */
export function fixedIssue(type: string, loc: Loc, input: unknown): ValidationIssue {
  return { type, loc, msg: FIXED_MESSAGES[type] ?? type, input, url: DOCS + type };
}

function withContext(
  type: string,
  loc: Loc,
  msg: string,
  input: unknown,
  ctx: Record<string, unknown>,
): ValidationIssue {
  return { type, loc, msg, input, ctx, url: DOCS + type };
}

/** A `ValueError` raised by a validator: `msg` is "Value error, <text>", `ctx.error` the text. */
export function valueErrorIssue(loc: Loc, text: string, input: unknown): ValidationIssue {
  return withContext('value_error', loc, `Value error, ${text}`, input, { error: text });
}

/** `ge`/`le` bounds; `shown` is how Python prints the bound in the message (`0` vs `0.0`). */
export function boundIssue(
  kind: 'ge' | 'le',
  loc: Loc,
  bound: number,
  shown: string,
  input: unknown,
): ValidationIssue {
  return kind === 'ge'
    ? withContext('greater_than_equal', loc, `Input should be greater than or equal to ${shown}`, input, {
        ge: bound,
      })
    : withContext('less_than_equal', loc, `Input should be less than or equal to ${shown}`, input, {
        le: bound,
      });
}

/** `Input should be 'a', 'b' or 'c'`, the wording of both `enum` and `literal_error`. */
export function choicesIssue(
  type: 'enum' | 'literal_error',
  loc: Loc,
  choices: readonly string[],
  input: unknown,
): ValidationIssue {
  const quoted = choices.map((choice) => `'${choice}'`);
  const expected =
    quoted.length === 1 ? (quoted[0] ?? '') : `${quoted.slice(0, -1).join(', ')} or ${quoted.at(-1) ?? ''}`;
  return withContext(type, loc, `Input should be ${expected}`, input, { expected });
}

/** A nested model given something other than an object. */
export function modelTypeIssue(loc: Loc, className: string, input: unknown): ValidationIssue {
  return withContext(
    'model_type',
    loc,
    `Input should be a valid dictionary or instance of ${className}`,
    input,
    { class_name: className },
  );
}

export function datetimeParsingIssue(
  type: 'datetime_parsing' | 'datetime_from_date_parsing',
  loc: Loc,
  reason: string,
  input: unknown,
): ValidationIssue {
  const prefix = type === 'datetime_parsing' ? 'a valid datetime' : 'a valid datetime or date';
  return withContext(type, loc, `Input should be ${prefix}, ${reason}`, input, { error: reason });
}

export function tooShortIssue(loc: Loc, minLength: number, actual: number, input: unknown): ValidationIssue {
  const plural = minLength === 1 ? '' : 's';
  return withContext(
    'too_short',
    loc,
    `List should have at least ${minLength} item${plural} after validation, not ${actual}`,
    input,
    { field_type: 'List', min_length: minLength, actual_length: actual },
  );
}

export function stringTooLongIssue(loc: Loc, maxLength: number, input: unknown): ValidationIssue {
  const plural = maxLength === 1 ? '' : 's';
  return withContext(
    'string_too_long',
    loc,
    `String should have at most ${maxLength} character${plural}`,
    input,
    { max_length: maxLength },
  );
}

/** `input.config.timeout_seconds`, `parts[0]`: a readable path for logs and messages. */
export function formatLoc(loc: Loc, prefix?: string): string {
  let out = prefix ?? '';
  for (const part of loc) {
    if (typeof part === 'number') out += `[${part}]`;
    else out += out === '' ? part : `.${part}`;
  }
  return out;
}
