import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import {
  analyzeDependencies,
  estimateDurations,
  type DependencyStep,
} from '../../src/engine/dependencies.ts';
import type { StepView, TaskView } from '../../src/engine/index.ts';
import { ValidationError } from '../../src/util/errors.ts';

/** A step with an actual duration (or none), an optional estimate and extra fields. */
function step(
  name: string,
  dependsOn: string[],
  durationMs: number | null,
  extra: Partial<DependencyStep> = {},
): DependencyStep {
  return { name, depends_on: dependsOn, duration_ms: durationMs, estimate_ms: null, ...extra };
}

/** a → b, c → d, with b the slow branch. */
const diamond = (extra: Record<string, Partial<DependencyStep>> = {}) => [
  step('a', [], 10, extra.a),
  step('b', ['a'], 100, extra.b),
  step('c', ['a'], 20, extra.c),
  step('d', ['b', 'c'], 10, extra.d),
];

describe('analyzeDependencies on known graphs', () => {
  test('a chain: one step per level, the whole chain is critical, earlier steps block more', () => {
    const result = analyzeDependencies([step('a', [], 10), step('b', ['a'], 20), step('c', ['b'], 30)]);
    assert.deepEqual(result.levels, [['a'], ['b'], ['c']]);
    assert.deepEqual(result.critical_path, { steps: ['a', 'b', 'c'], duration_ms: 60, estimated: false });
    // 0.5 · downstream share + 0.3 · duration share + 0.2 · failure.
    assert.deepEqual(result.impact, { a: 0.55, b: 0.35, c: 0.15 });
    assert.deepEqual(result.bottlenecks, [
      { step: 'a', downstream: 2, impact: 0.55 },
      { step: 'b', downstream: 1, impact: 0.35 },
    ]);
    assert.deepEqual(result.weights, { downstream: 0.5, duration: 0.3, failure: 0.2 });
  });

  test('a diamond: the slow branch is critical; the root is the main bottleneck', () => {
    const result = analyzeDependencies(diamond());
    assert.deepEqual(result.levels, [['a'], ['b', 'c'], ['d']]);
    assert.deepEqual(result.critical_path, { steps: ['a', 'b', 'd'], duration_ms: 120, estimated: false });
    assert.deepEqual(result.impact, { a: 0.525, b: 0.416667, c: 0.216667, d: 0.025 });
    assert.deepEqual(
      result.bottlenecks.map((entry) => [entry.step, entry.downstream]),
      [
        ['a', 3],
        ['b', 1],
        ['c', 1],
      ],
    );
  });

  test('names are sorted within a level whatever the input order', () => {
    const result = analyzeDependencies([...diamond()].reverse());
    assert.deepEqual(result.levels, [['a'], ['b', 'c'], ['d']]);
  });

  test('a wide fan-out and fan-in: ties go by name and the bottleneck list is capped', () => {
    const workers = ['w5', 'w3', 'w1', 'w4', 'w2'];
    const steps = [
      step('root', [], 10),
      ...workers.map((name) => step(name, ['root'], 10)),
      step('sink', workers, 10),
    ];
    const result = analyzeDependencies(steps);
    assert.deepEqual(result.levels, [['root'], ['w1', 'w2', 'w3', 'w4', 'w5'], ['sink']]);
    assert.deepEqual(result.critical_path, {
      steps: ['root', 'w1', 'sink'],
      duration_ms: 30,
      estimated: false,
    });
    assert.deepEqual(
      result.bottlenecks.map((entry) => [entry.step, entry.downstream, entry.impact]),
      [
        ['root', 6, 0.6],
        ['w1', 1, 0.183333],
        ['w2', 1, 0.183333],
        ['w3', 1, 0.183333],
        ['w4', 1, 0.183333],
      ],
    );
    assert.equal(analyzeDependencies(steps, { maxBottlenecks: 1 }).bottlenecks.length, 1);
    assert.equal(analyzeDependencies(steps, { maxBottlenecks: 10 }).bottlenecks.length, 6);
  });

  test('a single step: one level, itself the critical path, no bottleneck', () => {
    const result = analyzeDependencies([step('only', [], 42)]);
    assert.deepEqual(result.levels, [['only']]);
    assert.deepEqual(result.critical_path, { steps: ['only'], duration_ms: 42, estimated: false });
    assert.deepEqual(result.bottlenecks, []);
    assert.deepEqual(result.impact, { only: 0.3 });
  });

  test('no steps: an empty analysis', () => {
    const result = analyzeDependencies([]);
    assert.deepEqual(result.levels, []);
    assert.deepEqual(result.critical_path, { steps: [], duration_ms: 0, estimated: false });
    assert.deepEqual(result.bottlenecks, []);
  });

  test('two independent branches: the longer one is critical', () => {
    const result = analyzeDependencies([
      step('a', [], 10),
      step('b', ['a'], 10),
      step('c', [], 5),
      step('d', ['c'], 30),
    ]);
    assert.deepEqual(result.levels, [
      ['a', 'c'],
      ['b', 'd'],
    ]);
    assert.deepEqual(result.critical_path, { steps: ['c', 'd'], duration_ms: 35, estimated: false });
    // a blocks as much as c but takes a larger share of the critical path.
    assert.deepEqual(
      result.bottlenecks.map((entry) => [entry.step, entry.impact]),
      [
        ['a', 0.252381],
        ['c', 0.209524],
      ],
    );
  });

  test('the critical path uses actual durations, else estimates, else 0', () => {
    const steps = [
      step('a', [], 10),
      step('b', ['a'], null, { estimate_ms: 100 }),
      step('c', ['a'], 50),
      step('d', ['a'], null),
    ];
    const result = analyzeDependencies(steps);
    assert.deepEqual(result.critical_path, { steps: ['a', 'b'], duration_ms: 110, estimated: true });
    assert.deepEqual(result.durations, {
      a: { duration_ms: 10, source: 'actual' },
      b: { duration_ms: 100, source: 'estimate' },
      c: { duration_ms: 50, source: 'actual' },
      d: { duration_ms: 0, source: 'unknown' },
    });
    // An actual duration wins over an estimate.
    steps[1] = step('b', ['a'], 5, { estimate_ms: 100 });
    assert.deepEqual(analyzeDependencies(steps).critical_path, {
      steps: ['a', 'c'],
      duration_ms: 60,
      estimated: false,
    });
  });

  test('weights change the ranking: duration-only puts the slow step first', () => {
    const byDuration = analyzeDependencies(diamond(), {
      weights: { downstream: 0, duration: 1, failure: 0 },
    });
    assert.deepEqual(
      byDuration.bottlenecks.map((entry) => entry.step),
      ['b', 'c', 'a'],
    );
    assert.equal(byDuration.impact.b, 0.833333);
    // Weights are normalised: scaling them changes nothing.
    const scaled = analyzeDependencies(diamond(), { weights: { downstream: 0, duration: 7, failure: 0 } });
    assert.deepEqual(scaled.impact, byDuration.impact);
    // A partial weights object keeps the other defaults.
    assert.deepEqual(
      analyzeDependencies(diamond(), { weights: { failure: 0.2 } }).impact,
      analyzeDependencies(diamond()).impact,
    );
  });

  test('the failure signal: a failed or retried step scores higher', () => {
    const weights = { downstream: 1, duration: 0, failure: 1 };
    const plain = analyzeDependencies(diamond(), { weights });
    assert.deepEqual(
      plain.bottlenecks.map((entry) => entry.step),
      ['a', 'b', 'c'],
    );
    const failing = analyzeDependencies(diamond({ c: { failed: true } }), { weights });
    assert.deepEqual(
      failing.bottlenecks.map((entry) => entry.step),
      ['c', 'a', 'b'],
    );
    assert.equal(failing.impact.c, 0.666667);
    const retried = analyzeDependencies(diamond({ b: { attempts: 3 } }), { weights });
    assert.equal(retried.bottlenecks[0]!.step, 'b');
    assert.equal(analyzeDependencies(diamond({ b: { attempts: 1 } }), { weights }).impact.b, plain.impact.b);
  });

  test('invalid weights are a ValidationError naming each bad weight', () => {
    assert.throws(
      () => analyzeDependencies(diamond(), { weights: { downstream: -1, duration: Number.NaN } }),
      (error: unknown) => {
        assert.ok(error instanceof ValidationError);
        assert.deepEqual(
          error.details?.map((detail) => detail.path),
          ['weights.downstream', 'weights.duration'],
        );
        return true;
      },
    );
    assert.throws(
      () => analyzeDependencies(diamond(), { weights: { downstream: 0, duration: 0, failure: 0 } }),
      { name: 'ValidationError', message: /must not all be zero/ },
    );
    assert.throws(
      () => analyzeDependencies(diamond(), { weights: { failure: '1' as unknown as number } }),
      ValidationError,
    );
    assert.throws(() => analyzeDependencies(diamond(), { maxBottlenecks: -1 }), ValidationError);
  });

  test('a bad graph is a ValidationError: unknown dependency, duplicate, cycle, negative duration', () => {
    assert.throws(() => analyzeDependencies([step('a', ['ghost'], 1)]), {
      name: 'ValidationError',
      message: 'invalid step graph',
    });
    assert.throws(() => analyzeDependencies([step('a', [], 1), step('a', [], 1)]), ValidationError);
    assert.throws(
      () =>
        analyzeDependencies([
          step('a', ['c'], 1),
          step('b', ['a'], 1),
          step('c', ['b'], 1),
          step('x', [], 1),
        ]),
      { name: 'ValidationError', message: /cycle among a, b, c$/ },
    );
    assert.throws(() => analyzeDependencies([step('a', [], -5)]), ValidationError);
  });
});

describe('estimateDurations', () => {
  const view = (name: string, status: StepView['status'], ms: number): StepView =>
    ({
      name,
      status,
      started_at: new Date(1_000_000).toISOString(),
      finished_at: new Date(1_000_000 + ms).toISOString(),
    }) as StepView;
  const task = (...steps: StepView[]) => ({ steps }) as TaskView;

  test('the median of completed runs of each wanted step', () => {
    const past = [
      task(view('a', 'completed', 10), view('b', 'completed', 100), view('c', 'completed', 1)),
      task(view('a', 'completed', 30), view('b', 'failed', 999)),
      task(view('a', 'completed', 20), view('b', 'completed', 200)),
    ];
    const estimates = estimateDurations(past, ['a', 'b', 'missing']);
    assert.deepEqual(
      [...estimates],
      [
        ['a', 20],
        ['b', 150],
      ],
    );
  });
});
