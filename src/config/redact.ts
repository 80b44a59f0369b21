/** What a secret is replaced with wherever configuration is printed or logged. */
export const REDACTED = '[redacted]';

// User info of a URL whose password ends at the last `@` before the path, as WHATWG URL parsing
// reads it (so an unencoded `@` inside the password is still hidden).
const PASSWORD_IN_VALID_URL = /^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:)[^/?#]*@/i;
// Text that does not parse as a URL is still shown in error messages, so there everything up to
// the last `@` is hidden: better to hide a host name than to show half a password.
const PASSWORD_IN_BROKEN_URL = /^([a-z][a-z0-9+.-]*:\/\/[^:@/?#]*:).*@/is;
// libpq and Redis clients also accept the password as a query parameter.
const PASSWORD_PARAMETER = /([?&]password=)[^&#]*/gi;

/**
 * Hides the password of a URL, in its user info and in a `password` query parameter, and keeps
 * the rest (user names included, so operators can tell accounts apart):
 * `postgres://user:secret@host/db` → `postgres://user:[redacted]@host/db`. Text that is not a URL
 * with credentials comes back unchanged, so it is safe to apply to any configured string.
 */
export function redactUrl(url: string): string {
  const userInfo = URL.canParse(url) ? PASSWORD_IN_VALID_URL : PASSWORD_IN_BROKEN_URL;
  return url.replace(userInfo, `$1${REDACTED}@`).replace(PASSWORD_PARAMETER, `$1${REDACTED}`);
}
