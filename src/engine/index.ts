export {
  createEngine,
  Engine,
  type EngineOptions,
  type ListTasksInput,
  type StartTaskInput,
  type WorkerState,
} from './engine.ts';
export {
  analyzeDependencies,
  DEFAULT_IMPACT_WEIGHTS,
  type Bottleneck,
  type DependencyAnalysis,
  type DependencyOptions,
  type DependencyStep,
  type ImpactWeights,
} from './dependencies.ts';
export { PermanentError, RetryableError } from './errors.ts';
export type { BuiltinHandler, StepContext, StepHandler } from './handler.ts';
export type { CircuitOptions, CircuitState } from './circuit.ts';
export type { RetryPolicyInput } from './retry.ts';
export type { StepTemplate, Template } from './templates.ts';
export type { HandlerEntry, HandlerListing } from './registry.ts';
export type { BatonEvent, DeadLetterView, HistoryEntry, StepView, TaskSummary, TaskView } from './views.ts';
