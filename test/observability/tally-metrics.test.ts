// The tally metrics must print exactly what prom-client's own Counter and Histogram print for the
// same observations: scrapers and dashboards cannot tell them apart.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Counter, Histogram, Registry } from 'prom-client';
import { TallyCounter, TallyHistogram } from '../../src/observability/index.ts';

const OBSERVATIONS: [string, string, number][] = [
  ['a', 'ok', 0.004],
  ['a', 'ok', 0.3],
  ['b', 'error', 12],
  ['a', 'ok', 0.005],
  ['b', 'ok', 0.02],
];

async function text(registry: Registry): Promise<string> {
  return registry.metrics();
}

describe('TallyCounter and TallyHistogram', () => {
  test('print the same series as prom-client for the same observations', async () => {
    const reference = new Registry();
    const tallied = new Registry();
    const labelNames = ['kind', 'status'] as const;
    const counter = new Counter({ name: 'x_total', help: 'x', labelNames, registers: [reference] });
    const histogram = new Histogram({
      name: 'x_seconds',
      help: 'x',
      labelNames,
      buckets: [0.005, 0.01, 0.1, 1],
      registers: [reference],
    });
    const tallyCounter = new TallyCounter({ name: 'x_total', help: 'x', labelNames, registers: [tallied] });
    const tallyHistogram = new TallyHistogram({
      name: 'x_seconds',
      help: 'x',
      labelNames,
      buckets: [0.005, 0.01, 0.1, 1],
      registers: [tallied],
    });
    for (const [kind, status, seconds] of OBSERVATIONS) {
      counter.inc({ kind, status });
      histogram.observe({ kind, status }, seconds);
      tallyCounter.add([kind, status]);
      tallyHistogram.record([kind, status], seconds);
    }
    counter.inc({ kind: 'a', status: 'ok' }, 5);
    tallyCounter.add(['a', 'ok'], 5);
    assert.equal(await text(tallied), await text(reference));
    // The JSON form too, but for prom-client's empty exemplar slots.
    const json = async (registry: Registry): Promise<unknown> =>
      JSON.parse(
        JSON.stringify(await registry.getMetricsAsJSON(), (key, value: unknown) =>
          key === 'exemplar' ? undefined : value,
        ),
      );
    assert.deepEqual(await json(tallied), await json(reference));
  });

  test('a counter without labels prints 0 before its first add, then its total', async () => {
    const registry = new Registry();
    const counter = new TallyCounter({ name: 'y_total', help: 'y', labelNames: [], registers: [registry] });
    assert.match(await registry.metrics(), /^y_total 0$/m);
    counter.add();
    counter.add([], 2);
    assert.match(await registry.metrics(), /^y_total 3$/m);
  });

  test('resetMetrics sets every series to zero, and held series keep counting', async () => {
    const registry = new Registry();
    const counter = new TallyCounter({
      name: 'z_total',
      help: 'z',
      labelNames: ['k'],
      registers: [registry],
    });
    const histogram = new TallyHistogram({
      name: 'z_seconds',
      help: 'z',
      labelNames: ['k'],
      registers: [registry],
    });
    const held = counter.series(['a']);
    held.add();
    histogram.record(['a'], 1);
    registry.resetMetrics();
    let output = await registry.metrics();
    assert.match(output, /^z_total\{k="a"\} 0$/m);
    assert.match(output, /^z_seconds_count\{k="a"\} 0$/m);
    held.add(2);
    histogram.series(['a']).record(0.5);
    output = await registry.metrics();
    assert.match(output, /^z_total\{k="a"\} 2$/m);
    assert.match(output, /^z_seconds_count\{k="a"\} 1$/m);
  });
});
