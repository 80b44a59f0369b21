/**
 * Splitting a request URL into the origin (which picks the pool, breaker and bucket) and the
 * path undici sends. Plain `http(s)://host[:port]/path?query` URLs take a fast path (a scan of
 * the host, a regex test of the path); the rest (user info, fragments, spaces, other schemes) go
 * through WHATWG URL parsing.
 */
export interface Target {
  /** The URL up to the end of the host, as written: `https://api.example:8443`. */
  readonly prefix: string;
  /** `/path?query`, always starting with `/`. */
  readonly path: string;
  /** `user:password` from the URL, decoded, for a Basic `Authorization` header. */
  readonly userInfo: string | undefined;
}

// Path characters sent as they are: printable ASCII except `#` (a fragment) and `\`.
const PLAIN_PATH = /^[\x21\x22\x24-\x5b\x5d-\x7e]*$/;
const ABSOLUTE = /^[a-z][a-z0-9+.-]*:/i;

/** `url` resolved against `baseUrl`: a relative `url` is appended to it (like got's `prefixUrl`). */
export function joinUrl(baseUrl: string | undefined, url: string): string {
  if (baseUrl === undefined || ABSOLUTE.test(url)) return url;
  const base = baseUrl.endsWith('/') ? baseUrl.slice(0, -1) : baseUrl;
  if (url === '') return base;
  return url.startsWith('/') || url.startsWith('?') ? `${base}${url}` : `${base}/${url}`;
}

export function parseTarget(url: string): Target {
  const hostStart = url.startsWith('https://') ? 8 : url.startsWith('http://') ? 7 : -1;
  if (hostStart !== -1) {
    const hostEnd = endOfPlainHost(url, hostStart);
    if (hostEnd > hostStart) {
      const rest = url.slice(hostEnd);
      if (PLAIN_PATH.test(rest)) {
        const path = rest === '' ? '/' : rest.charCodeAt(0) === 63 /* ? */ ? `/${rest}` : rest;
        return { prefix: url.slice(0, hostEnd), path, userInfo: undefined };
      }
    }
  }
  return parseWithUrl(url);
}

/**
 * Where the host (and port) ends: at `/`, `?` or the end of `url`. -1 when it holds anything
 * else than host characters (user info, a fragment, spaces): those take the WHATWG path.
 */
function endOfPlainHost(url: string, from: number): number {
  for (let i = from; i < url.length; i++) {
    const c = url.charCodeAt(i);
    if (c === 47 /* / */ || c === 63 /* ? */) return i;
    const plain =
      (c >= 97 && c <= 122) || // a-z
      (c >= 65 && c <= 90) || // A-Z
      (c >= 48 && c <= 58) || // 0-9 and :
      c === 46 || // .
      c === 45 || // -
      c === 91 || // [
      c === 93 || // ]
      c === 95; // _
    if (!plain) return -1;
  }
  return url.length;
}

function parseWithUrl(url: string): Target {
  const parsed = URL.parse(url);
  if (parsed === null) throw new TypeError('invalid request URL (not an absolute http(s) URL)');
  if (parsed.protocol !== 'http:' && parsed.protocol !== 'https:') {
    throw new TypeError(`unsupported URL protocol ${parsed.protocol} (http: and https: only)`);
  }
  const userInfo =
    parsed.username === '' && parsed.password === ''
      ? undefined
      : `${decodeURIComponent(parsed.username)}:${decodeURIComponent(parsed.password)}`;
  return { prefix: parsed.origin, path: `${parsed.pathname}${parsed.search}`, userInfo };
}

/** The normalised origin of a prefix (lower-case host, default port dropped). */
export function normaliseOrigin(prefix: string): string {
  return new URL(prefix).origin;
}
