// The progress display on its own: plain lines off a terminal, an in-place block on one.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { createProgress } from '../../src/cli/progress.ts';
import type { StepView, TaskView } from '../../src/engine/index.ts';

const T0 = Date.parse('2026-11-23T10:00:00.000Z');
const at = (ms: number): string => new Date(T0 + ms).toISOString();

function step(name: string, fields: Partial<StepView> = {}): StepView {
  return {
    name,
    handler: `demo/${name}`,
    status: 'pending',
    depends_on: [],
    attempts: 0,
    max_attempts: 3,
    run_at: null,
    started_at: null,
    finished_at: null,
    result: null,
    error: null,
    ...fields,
  };
}

function task(steps: StepView[], fields: Partial<TaskView> = {}): TaskView {
  return {
    id: 'task_1',
    template: 'demo.flow',
    namespace: 'demo',
    version: '1.0.0',
    status: 'running',
    input: {},
    result: null,
    error: null,
    idempotency_key: null,
    created_at: at(0),
    started_at: at(5),
    finished_at: null,
    steps,
    ...fields,
  };
}

function sink(options: { isTTY?: boolean; columns?: number } = {}) {
  const out = { text: '', write: (chunk: string) => (out.text += chunk), ...options };
  return out;
}

const plain = (_style: string, text: string): string => text;

describe('progress off a terminal (plain lines)', () => {
  test('one line per step change and one when the task ends, stamped with the task age', () => {
    const out = sink();
    let now = T0 + 10;
    const progress = createProgress({ out, paint: plain, live: false, now: () => now });
    progress.update(
      task([step('fetch', { status: 'running', attempts: 1, started_at: at(5) }), step('save')]),
    );
    now = T0 + 900;
    const failed = { code: 'retryable', message: 'upstream answered 503' };
    progress.update(
      task([
        step('fetch', { status: 'retrying', attempts: 1, run_at: at(1400), error: failed as never }),
        step('save'),
      ]),
    );
    // The same state read again prints nothing.
    progress.update(
      task([
        step('fetch', { status: 'retrying', attempts: 1, run_at: at(1400), error: failed as never }),
        step('save'),
      ]),
    );
    now = T0 + 2000;
    const done = { status: 'completed' as const, attempts: 2, started_at: at(1400), finished_at: at(1650) };
    progress.update(
      task(
        [
          step('fetch', done),
          step('save', { status: 'failed', attempts: 3, error: { message: 'disk full' } as never }),
        ],
        {
          status: 'failed',
          finished_at: at(1990),
          error: { message: 'step save failed: disk full' } as never,
        },
      ),
    );
    progress.close();
    assert.equal(
      out.text,
      [
        '   +0.01s  task task_1 (demo.flow@1.0.0): 2 steps (fetch, save)',
        '   +0.01s  fetch  running (attempt 1/3)',
        '   +0.90s  fetch  attempt 1/3 failed: upstream answered 503; next attempt in 500ms',
        '   +2.00s  fetch  completed in 250ms after 2 attempts',
        '   +2.00s  save   failed after 3/3 attempts: disk full',
        '   +2.00s  task failed in 2.0s: step save failed: disk full',
        '',
      ].join('\n'),
    );
  });

  test('waiting steps print nothing; skipped, cancelled and resolved steps say so', () => {
    const out = sink();
    const progress = createProgress({ out, paint: plain, live: false, now: () => T0 });
    progress.update(task([step('a', { status: 'ready' }), step('b')]));
    progress.update(
      task([step('a', { status: 'resolved', attempts: 1 }), step('b', { status: 'skipped' })], {
        status: 'cancelled',
        finished_at: at(0),
      }),
    );
    const lines = out.text.split('\n');
    assert.equal(lines.length, 5, out.text);
    assert.match(lines[1]!, / a {5}resolved by hand$/);
    assert.match(lines[2]!, / b {5}skipped \(a step it depends on did not complete\)$/);
    assert.match(lines[3]!, /task cancelled in 0ms$/);
  });
});

describe('progress on a terminal (redrawn in place)', () => {
  test('draws a header and a line per step, then redraws the same block from its first line', () => {
    const out = sink({ isTTY: true, columns: 80 });
    let now = T0 + 1500;
    const progress = createProgress({ out, paint: plain, live: true, now: () => now });
    const steps = [
      step('fetch', { status: 'completed', attempts: 1, started_at: at(5), finished_at: at(305) }),
      step('charge', { status: 'running', attempts: 2, started_at: at(1000) }),
      step('ship'),
    ];
    progress.update(task(steps));
    const first = out.text;
    assert.equal(first.split('\n').length, 5, 'header, three steps, final newline');
    assert.ok(!first.startsWith('\u001b[4F'), 'nothing to go back over the first time');
    const clear = '\u001b[2K';
    for (const line of [
      'demo.flow@1.0.0 · task_1 · running 1.5s',
      '  ✓ fetch   completed  300ms',
      '  ⠋ charge  running    500ms  attempt 2/3',
      '  · ship    pending',
    ]) {
      assert.ok(first.includes(`${clear}${line}\n`), `${line} in ${JSON.stringify(first)}`);
    }

    now = T0 + 2000;
    out.text = '';
    progress.update(
      task([
        steps[0]!,
        step('charge', {
          status: 'retrying',
          attempts: 2,
          run_at: at(3000),
          error: { message: 'timeout' } as never,
        }),
        steps[2]!,
      ]),
    );
    assert.ok(out.text.startsWith('\u001b[4F'), 'back to the header before redrawing');
    assert.match(out.text, /↻ charge {2}retrying {3}retry in 1\.0s {2}attempt 2\/3 failed: timeout\n/);
    progress.close();
  });

  test('cuts lines to the terminal width, so a wrapped line cannot break the redraw', () => {
    const out = sink({ isTTY: true, columns: 40 });
    const progress = createProgress({ out, paint: plain, live: true, now: () => T0 + 100 });
    const error = { message: 'x'.repeat(300) } as never;
    progress.update(
      task([step('fetch', { status: 'failed', attempts: 3, error })], {
        status: 'failed',
        finished_at: at(90),
      }),
    );
    for (const line of out.text.split('\n').filter(Boolean)) {
      assert.ok(line.replace('\u001b[2K', '').length <= 39, `too long: ${line}`);
    }
    assert.match(out.text, /x…\n$/);
    progress.close();
  });

  test('spins while a step runs and stops redrawing once the task ends', async () => {
    const out = sink({ isTTY: true, columns: 80 });
    const progress = createProgress({ out, paint: plain, live: true });
    progress.update(
      task([step('fetch', { status: 'running', attempts: 1, started_at: new Date().toISOString() })]),
    );
    await new Promise((resolve) => setTimeout(resolve, 250));
    const frames = out.text.split('\u001b[2F').length - 1;
    assert.ok(frames >= 1, `redrawn ${frames} times`);
    progress.update(
      task([step('fetch', { status: 'completed', attempts: 1, started_at: at(0), finished_at: at(10) })], {
        status: 'completed',
        finished_at: at(10),
      }),
    );
    const ended = out.text;
    await new Promise((resolve) => setTimeout(resolve, 250));
    assert.equal(out.text, ended, 'no redraw after the end');
    progress.close();
  });
});
