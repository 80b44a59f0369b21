import { Client } from 'undici';
import { sseData } from '../../client/asap/sse.ts';
import { createHttpClient, type HttpClient, type HttpResponse } from '../../client/index.ts';
import type { DeadLetterView, HandlerListing, TaskSummary, TaskView, Template } from '../../engine/index.ts';
import { redactUrl } from '../../util/redact.ts';
import { BatonError, ERROR_CODES, type ErrorCode, type ErrorDetail } from '../../util/errors.ts';
import type { AnalyzedTask, Backend, DeadLetterQuery, StartTaskRequest, TaskListQuery } from './types.ts';

const API = '/api/v1';
const YAML_TYPE = 'application/yaml';

/**
 * The operator commands over a Baton server's REST API (SPEC §5). Each command is one short-lived
 * request: a server that is down fails fast (two attempts), with a message naming the URL.
 */
export class RemoteBackend implements Backend {
  readonly target: string;
  readonly #base: string;
  readonly #http: HttpClient;
  /** Event streams (`onTaskChange`), on their own connections; closed with the backend. */
  readonly #streams: Client;

  constructor(url: string) {
    this.#base = url.replace(/\/+$/, '');
    this.target = redactUrl(this.#base);
    this.#http = createHttpClient({
      baseUrl: this.#base,
      throwHttpErrors: false,
      timeouts: { connectMs: 5000, totalMs: 30_000 },
      retry: { maxAttempts: 2, backoff: { base_ms: 200 } },
      circuit: false,
      headers: { accept: 'application/json' },
    });
    this.#streams = new Client(new URL(this.#base).origin);
  }

  async startTask(request: StartTaskRequest): Promise<{ task: TaskView; created: boolean }> {
    const body = {
      template: request.template,
      input: request.input,
      ...(request.idempotencyKey !== undefined ? { idempotency_key: request.idempotencyKey } : {}),
    };
    const response = await this.#call('POST', '/tasks', { json: body });
    return { task: response.json<{ task: TaskView }>().task, created: response.status === 201 };
  }

  async getTask(id: string, options?: { dependencies?: boolean }): Promise<AnalyzedTask> {
    const query = options?.dependencies === true ? '?include_dependencies=true' : '';
    return (await this.#get<{ task: AnalyzedTask }>(`/tasks/${segment(id)}${query}`)).task;
  }

  listTasks(query: TaskListQuery): Promise<{ tasks: TaskSummary[]; next_cursor: string | null }> {
    return this.#get(`/tasks${queryString({ ...query })}`);
  }

  async cancelTask(id: string): Promise<TaskView> {
    return this.#taskAction(`/tasks/${segment(id)}/cancel`);
  }

  async replayTask(id: string): Promise<TaskView> {
    return this.#taskAction(`/tasks/${segment(id)}/replay`);
  }

  async resolveStep(id: string, step: string, result: unknown): Promise<TaskView> {
    return this.#taskAction(`/tasks/${segment(id)}/steps/${segment(step)}/resolve`, { result });
  }

  async listTemplates(): Promise<Template[]> {
    return (await this.#get<{ templates: Template[] }>('/templates')).templates;
  }

  async getTemplate(ref: string): Promise<Template> {
    return (await this.#get<{ template: Template }>(`/templates/${segment(ref)}`)).template;
  }

  async registerTemplate(
    source: string,
    format: 'yaml' | 'json',
    options: { replace: boolean },
  ): Promise<Template> {
    const response = await this.#call('POST', `/templates${options.replace ? '?replace=true' : ''}`, {
      body: source,
      headers: { 'content-type': format === 'json' ? 'application/json' : YAML_TYPE },
    });
    return response.json<{ template: Template }>().template;
  }

  async listHandlers(): Promise<Record<string, HandlerListing[]>> {
    return (await this.#get<{ namespaces: Record<string, HandlerListing[]> }>('/handlers')).namespaces;
  }

  listDeadLetters(
    query: DeadLetterQuery,
  ): Promise<{ dead_letters: DeadLetterView[]; next_cursor: string | null }> {
    const { includeClosed, ...rest } = query;
    return this.#get(`/dlq${queryString({ ...rest, include_closed: includeClosed })}`);
  }

  async replayDeadLetter(id: string): Promise<TaskView> {
    return this.#taskAction(`/dlq/${segment(id)}/replay`);
  }

  /** Follows the server's event stream for the task; a broken stream is left to the caller's polling. */
  onTaskChange(id: string, listener: () => void): () => void {
    const controller = new AbortController();
    const follow = async (): Promise<void> => {
      const { body } = await this.#streams.request({
        method: 'GET',
        path: `${new URL(this.#base).pathname.replace(/\/$/, '')}${API}/events?task_id=${segment(id)}`,
        headers: { accept: 'text/event-stream' },
        signal: controller.signal,
      });
      for await (const _event of sseData(body)) listener();
    };
    follow().catch(() => {});
    return () => controller.abort();
  }

  async close(): Promise<void> {
    await Promise.all([this.#http.close(), this.#streams.destroy()]);
  }

  async #get<T>(path: string): Promise<T> {
    return (await this.#call('GET', path)).json<T>();
  }

  async #taskAction(path: string, body?: unknown): Promise<TaskView> {
    const response = await this.#call('POST', path, body === undefined ? {} : { json: body });
    return response.json<{ task: TaskView }>().task;
  }

  async #call(
    method: string,
    path: string,
    options: { json?: unknown; body?: string; headers?: Record<string, string> } = {},
  ): Promise<HttpResponse> {
    let response: HttpResponse;
    try {
      response = await this.#http.request({ method, url: `${this.#base}${API}${path}`, ...options });
    } catch (error) {
      throw new BatonError(
        'connect_failed',
        `cannot reach Baton at ${this.target}: ${(error as Error).message} (is \`baton serve\` running there? check --url or BATON_URL)`,
        { cause: error },
      );
    }
    if (response.ok) return response;
    throw errorOf(response, this.target);
  }
}

/** The REST error `{error: {code, message, details?}}` as a Baton error with the same code. */
function errorOf(response: HttpResponse, target: string): BatonError {
  const body = response.isJson ? (safeJson(response) as { error?: RestErrorBody } | undefined) : undefined;
  const error = body?.error;
  if (typeof error?.code !== 'string' || typeof error.message !== 'string') {
    return new BatonError(
      'http_status',
      `${target} answered HTTP ${response.status} without a Baton error: is it a Baton server? (check --url)`,
    );
  }
  const code = (ERROR_CODES as readonly string[]).includes(error.code)
    ? (error.code as ErrorCode)
    : 'internal';
  return new BatonError(code, error.message, Array.isArray(error.details) ? { details: error.details } : {});
}

interface RestErrorBody {
  code?: unknown;
  message?: unknown;
  details?: ErrorDetail[];
}

function safeJson(response: HttpResponse): unknown {
  try {
    return response.json();
  } catch {
    return undefined;
  }
}

function segment(value: string): string {
  return encodeURIComponent(value);
}

function queryString(query: Record<string, string | number | boolean | undefined>): string {
  const params = new URLSearchParams();
  for (const [name, value] of Object.entries(query)) {
    if (value !== undefined) params.set(name, String(value));
  }
  const text = params.toString();
  return text === '' ? '' : `?${text}`;
}
