/**
 * Dependency graph analysis of a task (SPEC §2.9): topological levels, the critical path by step
 * durations (actual where known, else estimated), bottlenecks and an impact score per step.
 * `analyzeDependencies` is pure; the helpers below turn task views into its input.
 */
import { ValidationError, type ErrorDetail } from '../util/errors.ts';
import type { StepView, TaskView } from './views.ts';

export interface DependencyStep {
  name: string;
  depends_on: readonly string[];
  /** How long the step took, when it finished; null otherwise. */
  duration_ms: number | null;
  /** Used when there is no actual duration, e.g. the median of past runs; null when unknown. */
  estimate_ms: number | null;
  /** Attempts made so far; more than one counts as a failure signal. */
  attempts?: number;
  /** The step failed (for good). */
  failed?: boolean;
}

/** Weights of the impact components; any non-negative numbers, not all zero (they are normalised). */
export interface ImpactWeights {
  downstream: number;
  duration: number;
  failure: number;
}

export const DEFAULT_IMPACT_WEIGHTS: Readonly<ImpactWeights> = Object.freeze({
  downstream: 0.5,
  duration: 0.3,
  failure: 0.2,
});

export interface DependencyOptions {
  /** Missing weights take their default (`DEFAULT_IMPACT_WEIGHTS`). */
  weights?: Partial<ImpactWeights>;
  /** The most bottlenecks listed (default 5). */
  maxBottlenecks?: number;
}

export type DurationSource = 'actual' | 'estimate' | 'unknown';

export interface Bottleneck {
  step: string;
  /** How many steps depend on this one, directly or not. */
  downstream: number;
  impact: number;
}

export interface DependencyAnalysis {
  /** Level 0 has no dependencies; a step's level is one more than its deepest dependency's. */
  levels: string[][];
  critical_path: {
    steps: string[];
    duration_ms: number;
    /** True when a step on the path has no actual duration (an estimate, or 0 when unknown). */
    estimated: boolean;
  };
  /** Steps that others depend on, by impact (highest first), then name. */
  bottlenecks: Bottleneck[];
  /** Every step's impact score, in [0, 1]. */
  impact: Record<string, number>;
  /** The duration used for each step, and where it came from. */
  durations: Record<string, { duration_ms: number; source: DurationSource }>;
  /** The normalised weights used (they sum to 1). */
  weights: ImpactWeights;
}

const DEFAULT_MAX_BOTTLENECKS = 5;

/**
 * Analyses a step graph. Impact = weighted mean of three components in [0, 1]:
 * - downstream: transitive dependents / (steps − 1);
 * - duration: the step's duration / the critical path's duration;
 * - failure: 1 if the step failed or needed more than one attempt, else 0.
 * Ties are broken by name, so the answer is deterministic.
 */
export function analyzeDependencies(
  steps: readonly DependencyStep[],
  options: DependencyOptions = {},
): DependencyAnalysis {
  const weights = normaliseWeights(options.weights);
  const maxBottlenecks = options.maxBottlenecks ?? DEFAULT_MAX_BOTTLENECKS;
  if (!Number.isInteger(maxBottlenecks) || maxBottlenecks < 0) {
    throw new ValidationError(`maxBottlenecks must be a non-negative integer; got ${maxBottlenecks}`);
  }
  const byName = checkGraph(steps);
  const order = topologicalOrder(steps, byName);
  const durations = resolveDurations(steps);

  const level = new Map<string, number>();
  for (const name of order) {
    const deps = byName.get(name)!.depends_on;
    level.set(name, deps.length === 0 ? 0 : 1 + Math.max(...deps.map((dep) => level.get(dep)!)));
  }
  const levels: string[][] = [];
  for (const name of order) (levels[level.get(name)!] ??= []).push(name);
  for (const names of levels) names.sort(compareNames);

  const criticalPath = findCriticalPath(order, byName, durations);
  const dependents = transitiveDependents(order, byName);
  const impact: Record<string, number> = {};
  const others = steps.length - 1;
  for (const step of steps) {
    const downstream = others === 0 ? 0 : dependents.get(step.name)!.size / others;
    const duration =
      criticalPath.duration_ms === 0 ? 0 : durations[step.name]!.duration_ms / criticalPath.duration_ms;
    const failure = step.failed === true || (step.attempts ?? 0) > 1 ? 1 : 0;
    const score = weights.downstream * downstream + weights.duration * duration + weights.failure * failure;
    impact[step.name] = round(score);
  }
  const bottlenecks = steps
    .filter((step) => dependents.get(step.name)!.size > 0)
    .map((step) => ({
      step: step.name,
      downstream: dependents.get(step.name)!.size,
      impact: impact[step.name]!,
    }))
    .sort((a, b) => b.impact - a.impact || compareNames(a.step, b.step))
    .slice(0, maxBottlenecks);

  return { levels, critical_path: criticalPath, bottlenecks, impact, durations, weights };
}

/** The analysis input of a task: actual durations of finished steps, `estimates` by step name for the rest. */
export function dependencyStepsOf(
  task: TaskView,
  estimates: ReadonlyMap<string, number> = new Map(),
): DependencyStep[] {
  return task.steps.map((step) => ({
    name: step.name,
    depends_on: step.depends_on,
    duration_ms: stepDuration(step),
    estimate_ms: estimates.get(step.name) ?? null,
    attempts: step.attempts,
    failed: step.status === 'failed',
  }));
}

/** How long a completed or failed step took (its last attempt), or null. */
export function stepDuration(step: StepView): number | null {
  if (step.status !== 'completed' && step.status !== 'failed') return null;
  if (step.started_at === null || step.finished_at === null) return null;
  return Math.max(0, Date.parse(step.finished_at) - Date.parse(step.started_at));
}

/** The median duration of each of `names` over the completed steps of `pastTasks` (names never seen are left out). */
export function estimateDurations(
  pastTasks: readonly TaskView[],
  names: Iterable<string>,
): Map<string, number> {
  const wanted = new Set(names);
  const samples = new Map<string, number[]>();
  for (const task of pastTasks) {
    for (const step of task.steps) {
      if (!wanted.has(step.name) || step.status !== 'completed') continue;
      const ms = stepDuration(step);
      if (ms !== null) (samples.get(step.name) ?? samples.set(step.name, []).get(step.name)!).push(ms);
    }
  }
  const estimates = new Map<string, number>();
  for (const [name, values] of samples) estimates.set(name, median(values));
  return estimates;
}

// ── internals ──────────────────────────────────────────────────────────────────

const compareNames = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

const round = (value: number): number => Math.round(value * 1e6) / 1e6;

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[middle]! : (sorted[middle - 1]! + sorted[middle]!) / 2;
}

function normaliseWeights(given: Partial<ImpactWeights> | undefined): ImpactWeights {
  const weights = { ...DEFAULT_IMPACT_WEIGHTS, ...stripUndefined(given ?? {}) };
  const details: ErrorDetail[] = [];
  for (const key of ['downstream', 'duration', 'failure'] as const) {
    const value: unknown = weights[key];
    if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
      details.push({
        path: `weights.${key}`,
        message: `must be a non-negative number; got ${String(value)}`,
      });
    }
  }
  if (details.length > 0) throw new ValidationError('invalid impact weights', details);
  const total = weights.downstream + weights.duration + weights.failure;
  if (total === 0) throw new ValidationError('impact weights must not all be zero');
  return {
    downstream: weights.downstream / total,
    duration: weights.duration / total,
    failure: weights.failure / total,
  };
}

function stripUndefined<T extends object>(value: T): Partial<T> {
  return Object.fromEntries(Object.entries(value).filter(([, entry]) => entry !== undefined)) as Partial<T>;
}

/** Checks names are unique, dependencies exist and durations are sane; returns the steps by name. */
function checkGraph(steps: readonly DependencyStep[]): Map<string, DependencyStep> {
  const byName = new Map<string, DependencyStep>();
  const details: ErrorDetail[] = [];
  steps.forEach((step, index) => {
    if (byName.has(step.name))
      details.push({ path: `steps[${index}].name`, message: `duplicate ${step.name}` });
    byName.set(step.name, step);
    for (const key of ['duration_ms', 'estimate_ms'] as const) {
      const value = step[key];
      if (value !== null && !(Number.isFinite(value) && value >= 0)) {
        details.push({ path: `steps[${index}].${key}`, message: `must be null or a non-negative number` });
      }
    }
  });
  steps.forEach((step, index) => {
    for (const dep of step.depends_on) {
      if (!byName.has(dep)) {
        details.push({ path: `steps[${index}].depends_on`, message: `unknown step ${dep}` });
      }
    }
  });
  if (details.length > 0) throw new ValidationError('invalid step graph', details);
  return byName;
}

/** Kahn's algorithm, taking ready steps by name; a cycle is a ValidationError. */
function topologicalOrder(steps: readonly DependencyStep[], byName: Map<string, DependencyStep>): string[] {
  const remaining = new Map(steps.map((step) => [step.name, new Set(step.depends_on).size]));
  const children = new Map<string, string[]>(steps.map((step) => [step.name, []]));
  for (const step of steps) for (const dep of new Set(step.depends_on)) children.get(dep)!.push(step.name);
  const ready = [...remaining].filter(([, count]) => count === 0).map(([name]) => name);
  const order: string[] = [];
  while (ready.length > 0) {
    ready.sort(compareNames);
    const name = ready.shift()!;
    order.push(name);
    for (const child of children.get(name)!) {
      const count = remaining.get(child)! - 1;
      remaining.set(child, count);
      if (count === 0) ready.push(child);
    }
  }
  if (order.length < byName.size) {
    const stuck = [...remaining].filter(([, count]) => count > 0).map(([name]) => name);
    throw new ValidationError(
      `the steps have a dependency cycle among ${stuck.sort(compareNames).join(', ')}`,
    );
  }
  return order;
}

function resolveDurations(steps: readonly DependencyStep[]): DependencyAnalysis['durations'] {
  const durations: DependencyAnalysis['durations'] = {};
  for (const step of steps) {
    if (step.duration_ms !== null) durations[step.name] = { duration_ms: step.duration_ms, source: 'actual' };
    else if (step.estimate_ms !== null) {
      durations[step.name] = { duration_ms: step.estimate_ms, source: 'estimate' };
    } else durations[step.name] = { duration_ms: 0, source: 'unknown' };
  }
  return durations;
}

/**
 * The longest path by summed step durations. Ties go to the path with more steps, then to the
 * smaller name (of the last step, then of each predecessor).
 */
function findCriticalPath(
  order: readonly string[],
  byName: Map<string, DependencyStep>,
  durations: DependencyAnalysis['durations'],
): DependencyAnalysis['critical_path'] {
  const best = new Map<string, { total: number; length: number; previous: string | null }>();
  const better = (a: string, b: string | null): boolean => {
    if (b === null) return true;
    const x = best.get(a)!;
    const y = best.get(b)!;
    return (
      x.total > y.total || (x.total === y.total && (x.length > y.length || (x.length === y.length && a < b)))
    );
  };
  let end: string | null = null;
  for (const name of order) {
    let previous: string | null = null;
    for (const dep of byName.get(name)!.depends_on) if (better(dep, previous)) previous = dep;
    const before = previous === null ? { total: 0, length: 0 } : best.get(previous)!;
    best.set(name, {
      total: before.total + durations[name]!.duration_ms,
      length: before.length + 1,
      previous,
    });
    if (better(name, end)) end = name;
  }
  const path: string[] = [];
  for (let name = end; name !== null; name = best.get(name)!.previous) path.unshift(name);
  return {
    steps: path,
    duration_ms: end === null ? 0 : best.get(end)!.total,
    estimated: path.some((name) => durations[name]!.source !== 'actual'),
  };
}

/** Each step's transitive dependents. */
function transitiveDependents(
  order: readonly string[],
  byName: Map<string, DependencyStep>,
): Map<string, Set<string>> {
  const dependents = new Map<string, Set<string>>(order.map((name) => [name, new Set()]));
  // In reverse topological order, a step's dependents are already complete when it is reached.
  const children = new Map<string, string[]>(order.map((name) => [name, []]));
  for (const name of order) for (const dep of byName.get(name)!.depends_on) children.get(dep)!.push(name);
  for (const name of [...order].reverse()) {
    const set = dependents.get(name)!;
    for (const child of children.get(name)!) {
      set.add(child);
      for (const further of dependents.get(child)!) set.add(further);
    }
  }
  return dependents;
}
