/**
 * Hiding credentials in URLs, headers and free text before they reach an error, a log line or a
 * hook. Errs on the side of hiding: a redacted harmless value costs a little debugging, a leaked
 * token costs a rotation.
 */

/** What a secret is replaced with. */
export const REDACTED = '[redacted]';

// Names of headers, query parameters and JSON fields that carry credentials. Matched anywhere in
// the name (`X-API-Key`, `client_secret`, `X-Amz-Signature`), so new variants are caught too.
const SECRET_NAME = /token|secret|passw|pwd|auth|key|sig|credential|cookie|session/i;
// Headers that match SECRET_NAME but are safe and useful in logs (authentication challenges
// name the scheme and realm, not a credential).
const SAFE_HEADERS: ReadonlySet<string> = new Set([
  'idempotency-key',
  'www-authenticate',
  'proxy-authenticate',
]);

/** Whether a header's value must be hidden (`Authorization`, `Cookie`, `X-API-Key`, …). */
export function isSecretHeader(name: string): boolean {
  return SECRET_NAME.test(name) && !SAFE_HEADERS.has(name.toLowerCase());
}

/** Whether a query parameter or field value must be hidden (`token`, `api_key`, `sig`, …). */
export function isSecretParam(name: string): boolean {
  return SECRET_NAME.test(name);
}

export type HeadersInput =
  Readonly<Record<string, string | readonly string[] | number | undefined>> | readonly string[];

/**
 * A plain-object copy of `headers` (an object or a flat `[name, value, …]` list) with the values
 * of secret headers replaced by `[redacted]`. Names keep their case.
 */
export function redactHeaders(headers: HeadersInput): Record<string, string | string[]> {
  const out: Record<string, string | string[]> = {};
  if (isFlatList(headers)) {
    for (let i = 0; i + 1 < headers.length; i += 2) {
      const name = headers[i] as string;
      out[name] = isSecretHeader(name) ? REDACTED : (headers[i + 1] as string);
    }
    return out;
  }
  for (const [name, value] of Object.entries(headers)) {
    if (value === undefined) continue;
    if (isSecretHeader(name)) out[name] = REDACTED;
    else out[name] = typeof value === 'object' ? [...value] : String(value);
  }
  return out;
}

function isFlatList(headers: HeadersInput): headers is readonly string[] {
  return Array.isArray(headers);
}

/** `name=value` pairs of a query string or fragment with the secret values hidden. */
function redactParams(params: string): string {
  return params
    .split('&')
    .map((pair) => {
      const eq = pair.indexOf('=');
      const rawName = eq === -1 ? pair : pair.slice(0, eq);
      return eq !== -1 && isSecretParam(safeDecode(rawName)) ? `${rawName}=${REDACTED}` : pair;
    })
    .join('&');
}

function safeDecode(text: string): string {
  try {
    return decodeURIComponent(text.replace(/\+/g, ' '));
  } catch {
    return text;
  }
}

/**
 * `url` with its user info (user name and password: either may be a token) and the values of
 * secret query and fragment parameters hidden:
 * `https://u:p@api.example/x?api_key=k&page=2` → `https://[redacted]@api.example/x?api_key=[redacted]&page=2`.
 */
export function redactUrl(url: string | URL): string {
  const text = String(url);
  const parsed = URL.parse(text);
  if (parsed === null) return redactUnparsedUrl(text);
  const userInfo = parsed.username !== '' || parsed.password !== '' ? `${REDACTED}@` : '';
  const search = parsed.search === '' ? '' : `?${redactParams(parsed.search.slice(1))}`;
  const hash = parsed.hash === '' ? '' : `#${redactParams(parsed.hash.slice(1))}`;
  const authority = parsed.host === '' ? '' : `//${userInfo}${parsed.host}`;
  return `${parsed.protocol}${authority}${parsed.pathname}${search}${hash}`;
}

// Text that does not parse as a URL: hide everything between `//` and the last `@` before the
// path, and secret parameters anywhere.
function redactUnparsedUrl(text: string): string {
  return text
    .replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/?#]*@/i, `$1${REDACTED}@`)
    .replace(/([?&#])([^=&#\s]+)=([^&#\s]*)/g, (match, sep: string, name: string) =>
      isSecretParam(safeDecode(name)) ? `${sep}${name}=${REDACTED}` : match,
    );
}

// `"api_key": "…"` in JSON, `password=…` in forms, and `Bearer …`-style credentials anywhere.
const SECRET_NAME_SOURCE = `[\\w.-]*(?:${SECRET_NAME.source})[\\w.-]*`;
const JSON_SECRET = new RegExp(`("${SECRET_NAME_SOURCE}"\\s*:\\s*)"(?:[^"\\\\]|\\\\.)*"`, 'gi');
const FORM_SECRET = new RegExp(`(^|[\\s?&;,])(${SECRET_NAME_SOURCE})=[^&\\s;,"']*`, 'gi');
const AUTH_SCHEME = /\b(Bearer|Basic|Digest|Token|ApiKey)\s+[\w.~+/=-]+/gi;

/**
 * Free text (an error body, a message) with credentials hidden: every string in `secrets` (the
 * credentials of the request that produced the text, so an echo of them is caught), JSON fields
 * and form fields with secret names, and `Bearer`/`Basic` credentials.
 */
export function redactText(text: string, secrets: readonly string[] = []): string {
  let out = text;
  for (const secret of secrets) if (secret.length >= 3) out = out.replaceAll(secret, REDACTED);
  return out
    .replace(JSON_SECRET, `$1"${REDACTED}"`)
    .replace(FORM_SECRET, `$1$2=${REDACTED}`)
    .replace(AUTH_SCHEME, `$1 ${REDACTED}`);
}

/**
 * The credentials carried by a request, for `redactText`: the values of secret headers (and the
 * part after an auth scheme), the URL's user info, and the values of secret query parameters,
 * each raw and percent-decoded. Longest first, so a value containing another is hidden whole.
 */
export function requestSecrets(url: string | URL, headers: HeadersInput): string[] {
  const found = new Set<string>();
  const add = (value: string): void => {
    if (value.length < 3) return;
    found.add(value);
    found.add(safeDecode(value));
  };
  const parsed = URL.parse(String(url));
  if (parsed !== null) {
    add(parsed.username);
    add(parsed.password);
    for (const part of `${parsed.search.slice(1)}&${parsed.hash.slice(1)}`.split('&')) {
      const eq = part.indexOf('=');
      if (eq !== -1 && isSecretParam(safeDecode(part.slice(0, eq)))) add(part.slice(eq + 1));
    }
  }
  const pairs = isFlatList(headers) ? toPairs(headers) : Object.entries(headers);
  for (const [name, value] of pairs) {
    if (value === undefined || !isSecretHeader(name)) continue;
    for (const item of typeof value === 'object' ? value : [String(value)]) {
      add(item);
      const scheme = /^\w+\s+(.+)$/.exec(item);
      if (scheme?.[1] !== undefined) add(scheme[1]);
      // `Cookie: a=1; session=…`: each cookie value on its own, as a server may echo one.
      for (const pair of item.split(/[;,]\s*/)) {
        const eq = pair.indexOf('=');
        if (eq !== -1) add(pair.slice(eq + 1));
      }
    }
  }
  return [...found].sort((a, b) => b.length - a.length);
}

function toPairs(list: readonly string[]): [string, string][] {
  const pairs: [string, string][] = [];
  for (let i = 0; i + 1 < list.length; i += 2) pairs.push([list[i] as string, list[i + 1] as string]);
  return pairs;
}
