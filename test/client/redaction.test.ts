import assert from 'node:assert/strict';
import { inspect } from 'node:util';
import { describe, test } from 'node:test';
import {
  AbortError,
  ConnectError,
  HttpStatusError,
  redactHeaders,
  redactText,
  redactUrl,
  RetriesExhaustedError,
  TimeoutError,
  type HttpClientHooks,
} from '../../src/client/index.ts';
import { clientFor as client, closedPort, serve, type Handler } from './servers.ts';

// Every secret the requests below carry; none may show up in an error, a message or a hook.
const SECRETS = {
  authorization: 'Bearer sk-live-AUTHSECRET123',
  proxyAuthorization: 'Basic UFJPWFlTRUNSRVQ=',
  cookie: 'session=COOKIESECRET456; theme=dark',
  apiKey: 'APIKEYSECRET789',
  customToken: 'CUSTOMTOKENSECRET',
  user: 'USERSECRET',
  password: 'PASSSECRET',
  query: [
    'QTOKENSECRET',
    'ACCESSSECRET',
    'QAPIKEYSECRET',
    'APIKEY2SECRET',
    'KEYSECRET',
    'QSECRETSECRET',
    'PWSECRET',
    'SIGSECRET',
    'SIGNATURESECRET',
  ],
  setCookie: 'SETCOOKIESECRET',
};
const SECRET_STRINGS = [
  'AUTHSECRET123',
  'UFJPWFlTRUNSRVQ=',
  'COOKIESECRET456',
  SECRETS.apiKey,
  SECRETS.customToken,
  SECRETS.user,
  SECRETS.password,
  ...SECRETS.query,
  SECRETS.setCookie,
  // The Basic credentials the client builds from the URL's user info.
  Buffer.from(`${SECRETS.user}:${SECRETS.password}`).toString('base64'),
];

const QUERY =
  'token=QTOKENSECRET&access_token=ACCESSSECRET&api_key=QAPIKEYSECRET&apikey=APIKEY2SECRET&key=KEYSECRET' +
  '&secret=QSECRETSECRET&password=PWSECRET&sig=SIGSECRET&signature=SIGNATURESECRET&page=2';

const HEADERS = {
  Authorization: SECRETS.authorization,
  'Proxy-Authorization': SECRETS.proxyAuthorization,
  Cookie: SECRETS.cookie,
  'X-API-Key': SECRETS.apiKey,
  'X-Custom-Token': SECRETS.customToken,
  Accept: 'application/json',
};

function secretUrl(origin: string, path = '/orders'): string {
  return origin.replace('http://', `http://${SECRETS.user}:${SECRETS.password}@`) + `${path}?${QUERY}`;
}

/** Everything about an error a log or an API response could show, cause chain included. */
function renderings(error: unknown): string[] {
  const out = [String(error), inspect(error, { depth: Infinity, showHidden: true })];
  for (let e: unknown = error; e instanceof Error; e = e.cause) {
    out.push(e.message, String(e.stack), JSON.stringify(e), JSON.stringify({ ...e }));
  }
  return out;
}

function assertNoSecrets(texts: readonly string[], what: string): void {
  for (const text of texts) {
    for (const secret of SECRET_STRINGS) {
      assert.ok(!text.includes(secret), `${what} leaks ${secret}:\n${text}`);
    }
  }
}

// Echoes everything it received (headers, URL) in the body, and sets a cookie: the worst case.
function echo(status: number): Handler {
  return (req, res) => {
    res.writeHead(status, {
      'content-type': 'application/json',
      'set-cookie': `sid=${SECRETS.setCookie}; HttpOnly`,
    });
    res.end(
      JSON.stringify({ url: req.url, headers: req.headers, note: `you sent ${req.headers.authorization}` }),
    );
  };
}

describe('no secret leaks from the client', () => {
  test('the request really carries the secrets (user info becomes Basic auth)', async (t) => {
    const server = await serve(t, echo(200));
    await client(t).get(secretUrl(server.origin), { headers: HEADERS });
    const seen = server.requests[0];
    assert.equal(seen?.headers.authorization, SECRETS.authorization);
    assert.equal(seen?.url, `/orders?${QUERY}`);
    assert.equal(seen?.headers['x-api-key'], SECRETS.apiKey);
  });

  test('HttpStatusError: message, properties, body excerpt, headers, JSON, inspect', async (t) => {
    const server = await serve(t, echo(401));
    const error = await client(t)
      .get(secretUrl(server.origin), { headers: HEADERS })
      .catch((e: unknown) => e);
    assert.ok(error instanceof HttpStatusError);
    assertNoSecrets(renderings(error), 'HttpStatusError');
    assert.match(error.url, /^http:\/\/\[redacted\]@127\.0\.0\.1:\d+\/orders\?token=\[redacted\]&/);
    assert.match(error.url, /&page=2$/);
    assert.equal(error.headers['set-cookie'], '[redacted]');
    assert.ok(error.bodyExcerpt.length > 0 && error.bodyExcerpt.length <= 512);
    assert.match(error.bodyExcerpt, /"accept":"application\/json"/, 'harmless content is kept');
  });

  test('RetriesExhaustedError and its cause chain', async (t) => {
    const server = await serve(t, echo(503));
    const error = await client(t)
      .get(secretUrl(server.origin), { headers: HEADERS, retry: { maxAttempts: 2 } })
      .catch((e: unknown) => e);
    assert.ok(error instanceof RetriesExhaustedError);
    assert.ok(error.cause instanceof HttpStatusError);
    assertNoSecrets(renderings(error), 'RetriesExhaustedError');
  });

  test('TimeoutError, ConnectError and AbortError', async (t) => {
    const holding = await serve(t, () => {});
    const http = client(t, { retry: { maxAttempts: 1 } });
    const timeout = await http
      .get(secretUrl(holding.origin), { headers: HEADERS, timeouts: { headersMs: 50 } })
      .catch((e: unknown) => e);
    assert.ok(timeout instanceof TimeoutError);
    assertNoSecrets(renderings(timeout), 'TimeoutError');

    const refused = await http
      .get(secretUrl(`http://127.0.0.1:${await closedPort()}`), { headers: HEADERS })
      .catch((e: unknown) => e);
    assert.ok(refused instanceof ConnectError);
    assertNoSecrets(renderings(refused), 'ConnectError');

    const aborted = await http
      .get(secretUrl(holding.origin), { headers: HEADERS, signal: AbortSignal.timeout(20) })
      .catch((e: unknown) => e);
    assert.ok(aborted instanceof AbortError);
    assertNoSecrets(renderings(aborted), 'AbortError');
  });

  test('a URL that is not valid keeps its secrets out of the error', async (t) => {
    const error = await client(t)
      .get(`http://${SECRETS.user}:${SECRETS.password}@bad host/?token=QTOKENSECRET`)
      .catch((e: unknown) => e);
    assert.ok(error instanceof TypeError);
    assertNoSecrets(renderings(error), 'invalid URL error');
  });

  test('hook payloads are redacted', async (t) => {
    const server = await serve(t, (req, res, index) => {
      if (index === 0) res.writeHead(503).end();
      else if (index === 1) res.socket?.destroy();
      else echo(200)(req, res, index);
    });
    const events: unknown[] = [];
    const record = (event: unknown): void => void events.push(event);
    const hooks: HttpClientHooks = {
      onRequest: record,
      onResponse: record,
      onRetry: record,
      onError: record,
    };
    await client(t, { hooks }).get(secretUrl(server.origin), { headers: HEADERS });
    assert.equal(events.length, 8); // 3 requests, 2 retries, 2 responses, 1 error
    assertNoSecrets(
      events.map((event) => JSON.stringify(event) + inspect(event, { depth: Infinity })),
      'hook payload',
    );
    const first = events[0] as { headers: Record<string, string>; url: string };
    assert.equal(first.headers.Authorization, '[redacted]');
    assert.equal(first.headers['X-API-Key'], '[redacted]');
    assert.equal(first.headers.Accept, 'application/json');
    assert.match(first.headers['X-Correlation-ID'] ?? '', /^[0-9a-f-]{36}$/);
  });
});

describe('redaction helpers', () => {
  test('redactUrl hides user info and secret parameters, keeps the rest', () => {
    assert.equal(
      redactUrl('https://u:p@api.example:8443/v1/x?api_key=k&page=2&Access_Token=t#id_token=z&state=s'),
      'https://[redacted]@api.example:8443/v1/x?api_key=[redacted]&page=2&Access_Token=[redacted]#id_token=[redacted]&state=s',
    );
    assert.equal(redactUrl('https://token@github.com/o/r.git'), 'https://[redacted]@github.com/o/r.git');
    assert.equal(
      redactUrl('http://h/p?X-Amz-Signature=abc&x=1'),
      'http://h/p?X-Amz-Signature=[redacted]&x=1',
    );
    assert.equal(redactUrl('http://h/p?q=hello%20world'), 'http://h/p?q=hello%20world');
    assert.equal(redactUrl('http://h/p?a%5Fkey=v'), 'http://h/p?a%5Fkey=[redacted]');
    assert.equal(redactUrl(new URL('http://h/p?password=pw')), 'http://h/p?password=[redacted]');
    assert.equal(
      redactUrl('http://u:p@bad host/?sig=s&a=b'),
      'http://[redacted]@bad host/?sig=[redacted]&a=b',
    );
  });

  test('redactHeaders hides credentials in objects and flat lists', () => {
    assert.deepEqual(
      redactHeaders({
        authorization: 'Bearer x',
        'Proxy-Authorization': 'Basic y',
        cookie: 'a=b',
        'set-cookie': ['a=b', 'c=d'],
        'X-API-Key': 'k',
        'x-auth-token': 't',
        'x-client-secret': 's',
        'Idempotency-Key': 'order-1',
        'content-type': 'text/plain',
        'content-length': 3,
        absent: undefined,
      }),
      {
        authorization: '[redacted]',
        'Proxy-Authorization': '[redacted]',
        cookie: '[redacted]',
        'set-cookie': '[redacted]',
        'X-API-Key': '[redacted]',
        'x-auth-token': '[redacted]',
        'x-client-secret': '[redacted]',
        'Idempotency-Key': 'order-1',
        'content-type': 'text/plain',
        'content-length': '3',
      },
    );
    assert.deepEqual(redactHeaders(['Authorization', 'Bearer x', 'accept', '*/*']), {
      Authorization: '[redacted]',
      accept: '*/*',
    });
  });

  test('redactText hides JSON fields, form fields, auth schemes and known values', () => {
    assert.equal(
      redactText('{"access_token": "abc", "user": "ann", "nested": {"clientSecret":"s\\"x"}}'),
      '{"access_token": "[redacted]", "user": "ann", "nested": {"clientSecret":"[redacted]"}}',
    );
    assert.equal(redactText('grant=x&password=hunter2&user=ann'), 'grant=x&password=[redacted]&user=ann');
    assert.equal(redactText('header was Bearer eyJhbGciOi.x.y'), 'header was Bearer [redacted]');
    assert.equal(redactText('echo: MYSECRETVALUE!', ['MYSECRETVALUE']), 'echo: [redacted]!');
    assert.equal(redactText('plain text stays'), 'plain text stays');
  });
});
