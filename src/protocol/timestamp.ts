/**
 * Envelope timestamps as the reference parses and prints them. pydantic v2 parses datetimes with
 * the `speedate` crate (lax mode): RFC 3339-like strings (`T`, `t`, `_` or space between date and
 * time, optional seconds, 1 to 6 fraction digits with more truncated, `Z` or `±HH[:]MM` or no
 * zone), Unix timestamps as numbers or numeric strings (milliseconds beyond 2e10), and bare dates
 * (midnight, no zone). It prints them as `YYYY-MM-DDTHH:MM:SS[.ffffff]` plus `Z` for UTC, the
 * offset as `±HH:MM`, or nothing for a naive value.
 */
import { datetimeParsingIssue, fixedIssue, type ValidationIssue } from './issues.ts';
import { at, INVALID, type Parser } from './lax.ts';

/** A parsed timestamp: wall-clock fields as given, and the zone offset (`null` = naive). */
export interface WallTime {
  year: number;
  month: number;
  day: number;
  hour: number;
  minute: number;
  second: number;
  microsecond: number;
  /** Offset from UTC in seconds; `null` for a naive timestamp (the reference treats it as UTC). */
  offsetSeconds: number | null;
}

/** speedate's error texts (its `ParseError` documentation strings). */
const E = {
  tooShort: 'input is too short',
  extra: 'unexpected extra characters at the end of the input',
  dateTimeSep: 'invalid datetime separator, expected `T`, `t`, `_` or space',
  dateSep: 'invalid date separator, expected `-`',
  notExact: 'Timestamp is not an exact date',
  year: 'invalid character in year',
  month: 'invalid character in month',
  day: 'invalid character in day',
  timeSep: 'invalid time separator, expected `:`',
  hour: 'invalid character in hour',
  minute: 'invalid character in minute',
  second: 'invalid character in second',
  tzSign: 'invalid timezone sign',
  tzHour: 'invalid timezone hour',
  tzMinute: 'invalid timezone minute',
  tzMinuteRange: 'timezone minute value is outside expected range of 0-59',
  tzRange: 'timezone offset must be less than 24 hours',
  monthRange: 'month value is outside expected range of 1-12',
  dayRange: 'day value is outside expected range',
  hourRange: 'hour value is outside expected range of 0-23',
  minuteRange: 'minute value is outside expected range of 0-59',
  secondRange: 'second value is outside expected range of 0-59',
  fractionMissing: 'second fraction digits missing after `.`',
  tooSmall: 'dates before 0000 are not supported as unix timestamps',
  tooLarge: 'dates after 9999 are not supported as unix timestamps',
  yearZero: 'year 0 is out of range',
} as const;

type Outcome<T> = { ok: true; value: T } | { ok: false; error: string };

/** Reads the UTF-8 bytes speedate sees; ASCII strings (the usual case) are read in place. */
type ByteReader = (index: number) => number;

function byteReader(text: string): { get: ByteReader; length: number } {
  // eslint-disable-next-line no-control-regex
  if (/^[\x00-\x7f]*$/.test(text)) return { get: (i) => text.charCodeAt(i), length: text.length };
  const bytes = Buffer.from(text, 'utf8');
  return { get: (i) => bytes[i] ?? Number.NaN, length: bytes.length };
}

function digit(get: ByteReader, index: number): number {
  const code = get(index);
  return code >= 48 && code <= 57 ? code - 48 : -1;
}

interface DateParts {
  year: number;
  month: number;
  day: number;
}

function parseDatePart(get: ByteReader, length: number): Outcome<DateParts> {
  if (length < 10) return { ok: false, error: E.tooShort };
  const y = [digit(get, 0), digit(get, 1), digit(get, 2), digit(get, 3)];
  if (y.some((d) => d < 0)) return { ok: false, error: E.year };
  if (get(4) !== 45) return { ok: false, error: E.dateSep };
  const m1 = digit(get, 5);
  const m2 = digit(get, 6);
  if (m1 < 0 || m2 < 0) return { ok: false, error: E.month };
  if (get(7) !== 45) return { ok: false, error: E.dateSep };
  const d1 = digit(get, 8);
  const d2 = digit(get, 9);
  if (d1 < 0 || d2 < 0) return { ok: false, error: E.day };
  const year = (y[0] ?? 0) * 1000 + (y[1] ?? 0) * 100 + (y[2] ?? 0) * 10 + (y[3] ?? 0);
  const month = m1 * 10 + m2;
  const day = d1 * 10 + d2;
  if (month < 1 || month > 12) return { ok: false, error: E.monthRange };
  if (day < 1 || day > daysInMonth(year, month)) return { ok: false, error: E.dayRange };
  return { ok: true, value: { year, month, day } };
}

function daysInMonth(year: number, month: number): number {
  if (month === 2) return year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0) ? 29 : 28;
  return month === 4 || month === 6 || month === 9 || month === 11 ? 30 : 31;
}

type TimeParts = Pick<WallTime, 'hour' | 'minute' | 'second' | 'microsecond' | 'offsetSeconds'>;

function parseTimePart(get: ByteReader, length: number, start: number): Outcome<TimeParts> {
  if (length - start < 5) return { ok: false, error: E.tooShort };
  const h1 = digit(get, start);
  const h2 = digit(get, start + 1);
  if (h1 < 0 || h2 < 0) return { ok: false, error: E.hour };
  if (get(start + 2) !== 58) return { ok: false, error: E.timeSep };
  const mi1 = digit(get, start + 3);
  const mi2 = digit(get, start + 4);
  if (mi1 < 0 || mi2 < 0) return { ok: false, error: E.minute };
  const hour = h1 * 10 + h2;
  const minute = mi1 * 10 + mi2;
  if (hour > 23) return { ok: false, error: E.hourRange };
  if (minute > 59) return { ok: false, error: E.minuteRange };
  let position = start + 5;
  let second = 0;
  let microsecond = 0;
  if (get(position) === 58) {
    const s1 = digit(get, position + 1);
    const s2 = digit(get, position + 2);
    if (s1 < 0 || s2 < 0) return { ok: false, error: E.second };
    second = s1 * 10 + s2;
    if (second > 59) return { ok: false, error: E.secondRange };
    position += 3;
    const separator = get(position);
    if (separator === 46 || separator === 44) {
      position++;
      let count = 0;
      for (let d = digit(get, position); d >= 0; d = digit(get, position)) {
        if (count < 6) microsecond = microsecond * 10 + d; // digits beyond 6 are truncated
        count++;
        position++;
      }
      if (count === 0) return { ok: false, error: E.fractionMissing };
      if (count < 6) microsecond *= 10 ** (6 - count);
    }
  }
  const zone = parseZone(get, length, position);
  if (!zone.ok) return zone;
  return { ok: true, value: { hour, minute, second, microsecond, offsetSeconds: zone.value } };
}

function parseZone(get: ByteReader, length: number, start: number): Outcome<number | null> {
  if (start >= length) return { ok: true, value: null };
  let position = start + 1;
  const first = get(start);
  let offset: number;
  if (first === 90 || first === 122) {
    offset = 0;
  } else {
    let sign: number;
    if (first === 43) sign = 1;
    else if (first === 45) sign = -1;
    else if (first === 226 && get(position) === 136 && get(position + 1) === 146) {
      sign = -1; // U+2212 MINUS SIGN, allowed by ISO 8601
      position += 2;
    } else return { ok: false, error: E.tzSign };
    const h1 = digit(get, position);
    const h2 = digit(get, position + 1);
    if (h1 < 0 || h2 < 0) return { ok: false, error: E.tzHour };
    let m1: number;
    if (get(position + 2) === 58) {
      position += 3;
      m1 = digit(get, position);
    } else {
      m1 = digit(get, position + 2);
      if (m1 < 0) return { ok: false, error: E.tzMinute };
      position += 2;
    }
    const m2 = digit(get, position + 1);
    if (m1 < 0 || m2 < 0) return { ok: false, error: E.tzMinute };
    const minuteSeconds = m1 * 600 + m2 * 60;
    if (minuteSeconds >= 3600) return { ok: false, error: E.tzMinuteRange };
    offset = sign * (h1 * 36000 + h2 * 3600 + minuteSeconds);
    if (Math.abs(offset) >= 86_400) return { ok: false, error: E.tzRange };
    position += 2;
  }
  if (length > position) return { ok: false, error: E.extra };
  return { ok: true, value: offset };
}

function parseRfc3339(get: ByteReader, length: number): Outcome<WallTime> {
  const date = parseDatePart(get, length);
  if (!date.ok) return date;
  const separator = get(10);
  if (separator !== 84 && separator !== 116 && separator !== 32 && separator !== 95) {
    return { ok: false, error: E.dateTimeSep };
  }
  const time = parseTimePart(get, length, 11);
  if (!time.ok) return time;
  return { ok: true, value: { ...date.value, ...time.value } };
}

// ── Unix timestamps ──────────────────────────────────────────────────────────

const MS_WATERSHED = 20_000_000_000;
const UNIX_0000 = -62_167_219_200;
const UNIX_9999 = 253_402_300_799;
const I64_MAX_DIGITS = '9223372036854775807';

/** speedate's `float_parse_bytes`: `[+-]digits[.digits]`, no exponent, i64 integer part. */
function parseNumericText(get: ByteReader, length: number): { int: number } | { float: number } | null {
  let index = 0;
  const sign = get(0);
  const negative = sign === 45;
  if (negative || sign === 43) index = 1;
  if (digit(get, index) < 0) return null;
  let intDigits = '';
  for (; index < length && digit(get, index) >= 0; index++) intDigits += String(digit(get, index));
  const significant = intDigits.replace(/^0+/, '');
  if (significant.length > 19 || (significant.length === 19 && significant > I64_MAX_DIGITS)) return null;
  const intPart = Number(intDigits);
  if (index === length) return { int: negative ? -intPart : intPart };
  if (get(index) !== 46) return null;
  let result = intPart;
  let divisor = 10;
  for (index++; index < length; index++) {
    const d = digit(get, index);
    if (d < 0) return null;
    result += d / divisor;
    divisor *= 10;
  }
  return { float: negative ? -result : result };
}

/** speedate's `DateTime::from_timestamp`: seconds, or milliseconds when |value| > 2e10. */
function fromTimestamp(timestamp: number, extraMicros: number): Outcome<WallTime> {
  let seconds = timestamp;
  let micros = extraMicros;
  if (Math.abs(timestamp) > MS_WATERSHED) {
    seconds = Math.trunc(timestamp / 1000);
    let fromMillis = (timestamp % 1000) * 1000;
    if (fromMillis < 0) {
      seconds -= 1;
      fromMillis += 1_000_000;
    }
    micros += fromMillis;
  }
  if (micros >= 1_000_000) {
    seconds += Math.floor(micros / 1_000_000);
    micros %= 1_000_000;
  }
  if (seconds < UNIX_0000) return { ok: false, error: E.tooSmall };
  if (seconds > UNIX_9999) return { ok: false, error: E.tooLarge };
  return { ok: true, value: wallTimeFromEpoch(seconds, Math.round(micros), 0) };
}

function fromFloatTimestamp(value: number): Outcome<WallTime> {
  const normalized = Math.abs(value) > MS_WATERSHED ? value / 1000 : value;
  const seconds = Math.floor(normalized);
  return fromTimestamp(seconds, Math.round((normalized - seconds) * 1_000_000));
}

// ── Calendar arithmetic (proleptic Gregorian, any year) ─────────────────────

function daysFromCivil(year: number, month: number, day: number): number {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = (month + 9) % 12;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146_097 + doe - 719_468;
}

function civilFromDays(days: number): DateParts {
  const z = days + 719_468;
  const era = Math.floor(z / 146_097);
  const doe = z - era * 146_097;
  const yoe = Math.floor(
    (doe - Math.floor(doe / 1460) + Math.floor(doe / 36_524) - Math.floor(doe / 146_096)) / 365,
  );
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  const day = doy - Math.floor((153 * mp + 2) / 5) + 1;
  const month = mp < 10 ? mp + 3 : mp - 9;
  return { year: yoe + era * 400 + (month <= 2 ? 1 : 0), month, day };
}

function wallTimeFromEpoch(
  epochSeconds: number,
  microsecond: number,
  offsetSeconds: number | null,
): WallTime {
  const days = Math.floor(epochSeconds / 86_400);
  const rest = epochSeconds - days * 86_400;
  return {
    ...civilFromDays(days),
    hour: Math.floor(rest / 3600),
    minute: Math.floor((rest % 3600) / 60),
    second: rest % 60,
    microsecond,
    offsetSeconds,
  };
}

/** Microseconds since the Unix epoch; a naive time counts as UTC (as the reference treats it). */
export function epochMicros(time: WallTime): number {
  const seconds =
    daysFromCivil(time.year, time.month, time.day) * 86_400 +
    time.hour * 3600 +
    time.minute * 60 +
    time.second -
    (time.offsetSeconds ?? 0);
  return seconds * 1_000_000 + time.microsecond;
}

// ── Parsing and printing ─────────────────────────────────────────────────────

/**
 * Parses a timestamp string as pydantic does for a `datetime` field. On failure, `error` is the
 * reason pydantic appends to "Input should be a valid datetime or date, ".
 */
export function parseTimestamp(text: string): Outcome<WallTime> {
  const { get, length } = byteReader(text);
  const rfc = parseRfc3339(get, length);
  if (rfc.ok) return rfc;
  const numeric = parseNumericText(get, length);
  if (numeric !== null) {
    const parsed = 'int' in numeric ? fromTimestamp(numeric.int, 0) : fromFloatTimestamp(numeric.float);
    if (parsed.ok) return parsed;
  }
  return parseDateFallback(get, length);
}

/** Lax mode retries a failed datetime as a date (midnight, naive); its error is the one shown. */
function parseDateFallback(get: ByteReader, length: number): Outcome<WallTime> {
  let date = parseDatePart(get, length);
  if (date.ok && length > 10) date = { ok: false, error: E.extra };
  if (!date.ok) {
    const numeric = parseNumericText(get, length);
    if (numeric === null || !('int' in numeric)) return date;
    const parsed = fromTimestamp(numeric.int, 0);
    if (!parsed.ok) return parsed;
    const { hour, minute, second, microsecond } = parsed.value;
    if (hour !== 0 || minute !== 0 || second !== 0 || microsecond !== 0)
      return { ok: false, error: E.notExact };
    return { ok: true, value: { ...parsed.value, offsetSeconds: null } };
  }
  return {
    ok: true,
    value: { ...date.value, hour: 0, minute: 0, second: 0, microsecond: 0, offsetSeconds: null },
  };
}

const TWO_DIGITS = Array.from({ length: 100 }, (_, i) => String(i).padStart(2, '0'));

function pad(value: number, width: number): string {
  return width === 2 && value < 100 ? (TWO_DIGITS[value] as string) : String(value).padStart(width, '0');
}

/** Prints a timestamp as pydantic serialises a `datetime` in JSON mode. */
export function formatWallTime(time: WallTime): string {
  let out = `${pad(time.year, 4)}-${pad(time.month, 2)}-${pad(time.day, 2)}T${pad(time.hour, 2)}:${pad(time.minute, 2)}:${pad(time.second, 2)}`;
  if (time.microsecond !== 0) out += `.${pad(time.microsecond, 6)}`;
  if (time.offsetSeconds === null) return out;
  if (time.offsetSeconds === 0) return `${out}Z`;
  const totalMinutes = Math.trunc(time.offsetSeconds / 60);
  const sign = time.offsetSeconds < 0 ? '-' : '+';
  return `${out}${sign}${pad(Math.abs(Math.trunc(totalMinutes / 60)), 2)}:${pad(Math.abs(totalMinutes % 60), 2)}`;
}

let lastFormatted = { epochMs: Number.NaN, text: '' };

/** "Now" as the reference writes it: UTC with a `Z` (`Date.now()` gives millisecond precision). */
export function formatTimestamp(epochMs: number = Date.now()): string {
  // Replies made in the same millisecond share the text: a busy server formats each one once.
  if (epochMs === lastFormatted.epochMs) return lastFormatted.text;
  const seconds = Math.floor(epochMs / 1000);
  const micros = Math.round((epochMs - seconds * 1000) * 1000);
  lastFormatted = { epochMs, text: formatWallTime(wallTimeFromEpoch(seconds, micros, 0)) };
  return lastFormatted.text;
}

/** Python's `datetime.isoformat()` of the UTC instant, as in `-32002` details (`…+00:00`). */
export function isoFormatUtc(micros: number): string {
  const seconds = Math.floor(micros / 1_000_000);
  const time = wallTimeFromEpoch(seconds, micros - seconds * 1_000_000, 0);
  const base = formatWallTime({ ...time, offsetSeconds: null });
  return `${base}+00:00`;
}

/**
 * The envelope `timestamp` field: validates like pydantic's lax `datetime` and returns the
 * serialised form the reference would emit (offsets kept, `+00:00` printed as `Z`).
 */
export const timestampField: Parser<string> = (value, prefix, key, issues) => {
  if (typeof value === 'string') {
    if (isCanonicalUtc(value)) return value;
    const fromJs = canonicalOfJsIso(value);
    if (fromJs !== undefined) return fromJs;
  }
  const parsed = parseTimestampValue(value);
  if (parsed.ok) return formatWallTime(parsed.value);
  issues.push(parsed.issue(at(prefix, key)));
  return INVALID;
};

/**
 * Whether `text` is already in the form the reference prints for UTC
 * (`YYYY-MM-DDTHH:MM:SSZ`, or with a non-zero six-digit fraction): the usual case, checked
 * without parsing.
 */
function isCanonicalUtc(text: string): boolean {
  const length = text.length;
  if ((length !== 20 && length !== 27) || text.charCodeAt(length - 1) !== 90) return false;
  if (
    text.charCodeAt(4) !== 45 ||
    text.charCodeAt(7) !== 45 ||
    text.charCodeAt(10) !== 84 ||
    text.charCodeAt(13) !== 58 ||
    text.charCodeAt(16) !== 58
  ) {
    return false;
  }
  if (length === 27 && (text.charCodeAt(19) !== 46 || digitsAt(text, 20, 6) <= 0)) return false;
  const year = digitsAt(text, 0, 4);
  const month = digitsAt(text, 5, 2);
  const day = digitsAt(text, 8, 2);
  const hour = digitsAt(text, 11, 2);
  const minute = digitsAt(text, 14, 2);
  const second = digitsAt(text, 17, 2);
  return (
    year > 0 &&
    month >= 1 &&
    month <= 12 &&
    day >= 1 &&
    day <= daysInMonth(year, month) &&
    hour >= 0 &&
    hour <= 23 &&
    minute >= 0 &&
    minute <= 59 &&
    second >= 0 &&
    second <= 59
  );
}

/**
 * The canonical form of JavaScript's `toISOString()` text (`YYYY-MM-DDTHH:MM:SS.mmmZ`), the
 * other usual case: the milliseconds as six digits, or none when zero, as pydantic prints them.
 */
function canonicalOfJsIso(text: string): string | undefined {
  if (text.length !== 24 || text.charCodeAt(19) !== 46 || text.charCodeAt(23) !== 90) return undefined;
  const millis = digitsAt(text, 20, 3);
  const whole = `${text.slice(0, 19)}Z`;
  if (millis < 0 || !isCanonicalUtc(whole)) return undefined;
  return millis === 0 ? whole : `${text.slice(0, 23)}000Z`;
}

/** The number written by `width` ASCII digits at `start`, or -1. */
function digitsAt(text: string, start: number, width: number): number {
  let value = 0;
  for (let i = start; i < start + width; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

type ValueOutcome =
  | { ok: true; value: WallTime }
  | { ok: false; issue: (loc: readonly (string | number)[]) => ValidationIssue };

function parseTimestampValue(value: unknown): ValueOutcome {
  let parsed: Outcome<WallTime>;
  let type: 'datetime_parsing' | 'datetime_from_date_parsing' = 'datetime_parsing';
  if (typeof value === 'string') {
    parsed = parseTimestamp(value);
    type = 'datetime_from_date_parsing';
  } else if (typeof value === 'number') {
    // pydantic-core's float_as_datetime: whole part as seconds (or milliseconds), |fraction| as µs.
    parsed = Number.isInteger(value)
      ? fromTimestamp(value, 0)
      : fromTimestamp(Math.floor(value), Math.round(Math.abs(value - Math.trunc(value)) * 1_000_000));
  } else {
    return { ok: false, issue: (loc) => fixedIssue('datetime_type', loc, value) };
  }
  if (parsed.ok && parsed.value.year === 0) parsed = { ok: false, error: E.yearZero };
  if (parsed.ok) return parsed;
  const reason = parsed.error;
  const kind = reason === E.yearZero ? 'datetime_parsing' : type;
  return { ok: false, issue: (loc) => datetimeParsingIssue(kind, loc, reason, value) };
}

/** Microseconds since the epoch of a timestamp this module printed (or any valid timestamp). */
export function timestampMicros(text: string): number | undefined {
  if (isCanonicalUtc(text)) {
    const days = daysFromCivil(digitsAt(text, 0, 4), digitsAt(text, 5, 2), digitsAt(text, 8, 2));
    const seconds =
      days * 86_400 + digitsAt(text, 11, 2) * 3600 + digitsAt(text, 14, 2) * 60 + digitsAt(text, 17, 2);
    return seconds * 1_000_000 + (text.length === 27 ? digitsAt(text, 20, 6) : 0);
  }
  const parsed = parseTimestamp(text);
  return parsed.ok ? epochMicros(parsed.value) : undefined;
}
