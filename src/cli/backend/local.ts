import type { Engine, HandlerListing, TaskView, Template } from '../../engine/index.ts';
import { parseTemplateSource } from '../../engine/templates.ts';
import { withoutUndefined } from '../../util/defined.ts';
import { coerceError, NotFoundError, ValidationError } from '../../util/errors.ts';
import type { AnalyzedTask, Backend, DeadLetterQuery, StartTaskRequest, TaskListQuery } from './types.ts';

/**
 * The operator commands on a store opened in this process, through the engine API: the same
 * operations and answers as the REST API. Templates and handlers are the ones this process loaded
 * (`--handlers`, `--templates-dir`, or the examples); tasks are the store's, whichever process
 * runs them.
 */
export class LocalBackend implements Backend {
  readonly target: string;
  readonly #engine: Engine;
  readonly #shutdownTimeoutMs: number;

  /** Takes ownership of `engine`: `close()` closes it, giving running steps this long to finish. */
  constructor(engine: Engine, target: string, shutdownTimeoutMs: number) {
    this.#engine = engine;
    this.target = target;
    this.#shutdownTimeoutMs = shutdownTimeoutMs;
  }

  startTask(request: StartTaskRequest): Promise<{ task: TaskView; created: boolean }> {
    return this.#engine.startTask({
      template: request.template,
      input: request.input,
      ...(request.idempotencyKey !== undefined ? { idempotencyKey: request.idempotencyKey } : {}),
    });
  }

  async getTask(id: string, options?: { dependencies?: boolean }): Promise<AnalyzedTask> {
    if (options?.dependencies !== true) return this.#engine.getTask(id);
    const { task, dependencies } = await this.#engine.analyzeTask(id);
    return { ...task, dependencies };
  }

  listTasks(query: TaskListQuery): ReturnType<Backend['listTasks']> {
    return this.#engine.listTasks(withoutUndefined(query));
  }

  cancelTask(id: string): Promise<TaskView> {
    return this.#engine.cancelTask(id);
  }

  replayTask(id: string): Promise<TaskView> {
    return this.#engine.replayTask(id);
  }

  resolveStep(id: string, step: string, result: unknown): Promise<TaskView> {
    return this.#engine.resolveStep(id, step, { result });
  }

  listTemplates(): Promise<Template[]> {
    return Promise.resolve(this.#engine.templates.list());
  }

  getTemplate(ref: string): Promise<Template> {
    const template = this.#engine.templates.resolve(ref);
    return template
      ? Promise.resolve(template)
      : Promise.reject(new NotFoundError(`no template ${ref} is loaded (see --templates-dir)`));
  }

  /**
   * Validates the template against the handlers loaded here, then refuses: a template registered
   * in this short-lived process would vanish with it.
   */
  registerTemplate(source: string, format: 'yaml' | 'json'): Promise<Template> {
    try {
      this.#engine.registerTemplate(parseTemplateSource(source, format), { replace: true });
    } catch (error) {
      return Promise.reject(coerceError(error));
    }
    return Promise.reject(
      new ValidationError(
        'the template is valid, but templates are registered in the process that runs them: pass --url ' +
          'to register it on a running server, or put the file in its --templates-dir',
      ),
    );
  }

  listHandlers(): Promise<Record<string, HandlerListing[]>> {
    return Promise.resolve(this.#engine.handlers.listByNamespace());
  }

  listDeadLetters(query: DeadLetterQuery): ReturnType<Backend['listDeadLetters']> {
    return this.#engine.listDeadLetters(withoutUndefined(query));
  }

  replayDeadLetter(id: string): Promise<TaskView> {
    return this.#engine.replayDeadLetter(id);
  }

  onTaskChange(id: string, listener: () => void): () => void {
    return this.#engine.on('*', (event) => {
      if (event.task_id === id) listener();
    });
  }

  close(): Promise<void> {
    return this.#engine.close({ timeoutMs: this.#shutdownTimeoutMs });
  }
}
