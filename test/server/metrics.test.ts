// The ASAP metrics of asap-wire §5.7 at /metrics and /asap/metrics: what each kind of request
// counts, and that unknown payload types cannot grow the series.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { envelope, post, rpc, serverFixture } from './helpers.ts';

/** The value of the series `name{labels}` in Prometheus text, or undefined. */
function sample(text: string, series: string): number | undefined {
  const line = text.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ASAP server metrics', () => {
  const fixture = serverFixture();

  async function scrape(url = '/metrics'): Promise<string> {
    const response = await fixture.app.inject({ method: 'GET', url });
    assert.equal(response.statusCode, 200);
    return response.body;
  }

  test('count successes, each kind of rejection and handler runs by payload type', async () => {
    const { app } = fixture;
    await post(app, rpc(envelope()));
    await post(app, '{not json');
    await post(app, rpc(envelope({ timestamp: '2020-01-01T00:00:00Z' })));
    await post(app, { jsonrpc: '2.0', method: 'asap.send', params: {}, id: 1 });
    await post(app, rpc(envelope({ payload_type: 'no.such.type' })));
    const text = await scrape();
    assert.equal(sample(text, 'asap_requests_total{payload_type="task.request",status="success"}'), 1);
    assert.equal(sample(text, 'asap_requests_success_total{payload_type="task.request"}'), 1);
    assert.equal(sample(text, 'asap_handler_executions_total{payload_type="task.request"}'), 1);
    assert.equal(sample(text, 'asap_requests_total{payload_type="other",status="error"}'), 4);
    assert.equal(sample(text, 'asap_requests_error_total{payload_type="other",error_type="parse_error"}'), 1);
    assert.equal(
      sample(text, 'asap_requests_error_total{payload_type="other",error_type="invalid_timestamp"}'),
      1,
    );
    assert.equal(
      sample(text, 'asap_requests_error_total{payload_type="other",error_type="handler_not_found"}'),
      1,
    );
    assert.equal(sample(text, 'asap_parse_errors_total'), 1);
    assert.equal(sample(text, 'asap_invalid_timestamp_total'), 1);
    assert.equal(sample(text, 'asap_validation_errors_total{reason="missing_envelope"}'), 1);
    assert.equal(
      sample(text, 'asap_request_duration_seconds_count{payload_type="task.request",status="success"}'),
      1,
    );
    assert.ok((sample(text, 'asap_process_uptime_seconds') ?? -1) >= 0);
  });

  test('a handler error counts as a handler failure with its ASAP error type', async () => {
    const before = await scrape();
    const cancel = envelope({ payload_type: 'task.cancel', payload: { task_id: 'tsk_missing' } });
    await post(fixture.app, rpc(cancel));
    const after = await scrape();
    const series = 'asap_handler_errors_total{payload_type="task.cancel"}';
    assert.equal((sample(after, series) ?? 0) - (sample(before, series) ?? 0), 1);
    assert.equal(
      sample(after, 'asap_requests_error_total{payload_type="task.cancel",error_type="TaskNotFoundError"}'),
      1,
    );
  });

  test('10,000 distinct unknown payload types leave the series count small', async () => {
    const batch = (start: number) =>
      Array.from({ length: 50 }, (_, i) => rpc(envelope({ payload_type: `junk.${start + i}` }), start + i));
    for (let start = 0; start < 10_000; start += 50) await post(fixture.app, batch(start));
    const text = await scrape();
    assert.doesNotMatch(text, /junk/);
    const series = text.split('\n').filter((line) => line.startsWith('asap_'));
    assert.ok(series.length < 150, `${series.length} asap_ series`);
  });

  test('/asap/metrics serves the same text under the reference content type', async () => {
    const response = await fixture.app.inject({ method: 'GET', url: '/asap/metrics' });
    assert.equal(
      response.headers['content-type'],
      'application/openmetrics-text; version=1.0.0; charset=utf-8',
    );
    assert.match(response.body, /^# TYPE asap_requests_total counter$/m);
    const prometheus = await fixture.app.inject({ method: 'GET', url: '/metrics' });
    assert.match(String(prometheus.headers['content-type']), /^text\/plain; version=0\.0\.4/);
  });
});
