import type {
  DeadLetterView,
  DependencyAnalysis,
  HandlerListing,
  TaskSummary,
  TaskView,
  Template,
} from '../../engine/index.ts';

/** A task as `tasks show --deps` gets it: with the dependency analysis when asked for. */
export type AnalyzedTask = TaskView & { dependencies?: DependencyAnalysis };

export interface StartTaskRequest {
  /** `namespace.name` or `namespace.name@1.2.3`. */
  template: string;
  input: unknown;
  idempotencyKey?: string | undefined;
}

export interface TaskListQuery {
  status?: TaskSummary['status'] | undefined;
  template?: string | undefined;
  namespace?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

export interface DeadLetterQuery {
  limit?: number | undefined;
  cursor?: string | undefined;
  includeClosed?: boolean | undefined;
}

/**
 * What the operator commands act on: a Baton server over its REST API (`--url`), or a store
 * opened in this process (`--store`). Both answer with the same JSON shapes (the REST contract of
 * SPEC §5), so a command's `--json` output does not depend on which one it used. Failures are
 * Baton errors with the REST API's stable codes.
 */
export interface Backend {
  /** Where the commands act, for messages: the server URL or the store (password redacted). */
  readonly target: string;
  startTask(request: StartTaskRequest): Promise<{ task: TaskView; created: boolean }>;
  getTask(id: string, options?: { dependencies?: boolean }): Promise<AnalyzedTask>;
  listTasks(query: TaskListQuery): Promise<{ tasks: TaskSummary[]; next_cursor: string | null }>;
  cancelTask(id: string): Promise<TaskView>;
  replayTask(id: string): Promise<TaskView>;
  resolveStep(id: string, step: string, result: unknown): Promise<TaskView>;
  listTemplates(): Promise<Template[]>;
  getTemplate(ref: string): Promise<Template>;
  registerTemplate(source: string, format: 'yaml' | 'json', options: { replace: boolean }): Promise<Template>;
  listHandlers(): Promise<Record<string, HandlerListing[]>>;
  listDeadLetters(
    query: DeadLetterQuery,
  ): Promise<{ dead_letters: DeadLetterView[]; next_cursor: string | null }>;
  replayDeadLetter(id: string): Promise<TaskView>;
  /**
   * Calls `listener` soon after task `id` changes (maybe also when it did not); returns the
   * unsubscribe function. Callers poll as well: this only makes them prompt.
   */
  onTaskChange(id: string, listener: () => void): () => void;
  close(): Promise<void>;
}
