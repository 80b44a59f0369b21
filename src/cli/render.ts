/** Human output of the operator commands: tasks, steps, history, dead letters, handlers, templates. */
import type {
  DeadLetterView,
  DependencyAnalysis,
  HandlerListing,
  TaskSummary,
  TaskView,
  Template,
} from '../engine/index.ts';
import type { AnalyzedTask } from './backend/index.ts';
import { elapsedMs, formatDuration, truncate } from './format.ts';
import { formatTable } from './table.ts';

const NONE = '-';
const CELL_CHARS = 60;

export function renderTaskList(tasks: readonly TaskSummary[], nextCursor: string | null): string {
  if (tasks.length === 0) return 'no tasks\n';
  const rows = tasks.map((task) => [
    task.id,
    `${task.template}@${task.version}`,
    task.status,
    task.created_at,
    took(task),
  ]);
  return formatTable(['ID', 'TEMPLATE', 'STATUS', 'CREATED', 'DURATION'], rows) + more(nextCursor);
}

export function renderTask(task: AnalyzedTask): string {
  const lines = [
    `task     ${task.id}`,
    `template ${task.template}@${task.version}`,
    `status   ${task.status}${task.error ? `: ${task.error.message}` : ''}`,
    `created  ${task.created_at}`,
    `duration ${took(task)}`,
  ];
  if (task.idempotency_key !== null) lines.push(`key      ${task.idempotency_key}`);
  lines.push(`input    ${JSON.stringify(task.input)}`, '');
  const steps = task.steps.map((step) => [
    step.name,
    step.status,
    `${step.attempts}/${step.max_attempts}`,
    step.started_at === null
      ? NONE
      : formatDuration(elapsedMs(step.started_at, step.finished_at, Date.now()) ?? 0),
    step.depends_on.join(', ') || NONE,
    cell(step.error?.message ?? NONE),
  ]);
  let text = lines.join('\n') + '\n';
  text += formatTable(['STEP', 'STATUS', 'ATTEMPTS', 'DURATION', 'DEPENDS ON', 'ERROR'], steps);
  if (task.result !== null) text += `\nresult\n${indent(JSON.stringify(task.result, null, 2))}\n`;
  if (task.dependencies) text += `\n${renderDependencies(task.dependencies)}`;
  if (task.history && task.history.length > 0) text += `\n${renderHistory(task)}`;
  return text;
}

function renderHistory(task: TaskView): string {
  const start = Date.parse(task.created_at);
  const rows = (task.history ?? []).map((entry) => [
    `+${formatDuration(Date.parse(entry.at) - start)}`,
    entry.step ?? '(task)',
    `${entry.from ?? NONE} → ${entry.to}`,
    entry.attempt === null ? NONE : String(entry.attempt),
    cell([entry.reason, entry.error?.message].filter(Boolean).join(': ') || NONE),
  ]);
  return `history\n${formatTable(['AT', 'STEP', 'TRANSITION', 'ATTEMPT', 'REASON'], rows)}`;
}

function renderDependencies(analysis: DependencyAnalysis): string {
  const path = analysis.critical_path;
  const lines = [
    'dependencies',
    ...analysis.levels.map((level, index) => `  level ${index}: ${level.join(', ')}`),
    `  critical path: ${path.steps.join(' → ')} (${formatDuration(path.duration_ms)}${path.estimated ? ', estimated' : ''})`,
    `  bottlenecks: ${
      analysis.bottlenecks
        .map((step) => `${step.step} (impact ${step.impact.toFixed(2)}, ${step.downstream} downstream)`)
        .join(', ') || 'none'
    }`,
  ];
  return lines.join('\n') + '\n';
}

export function renderDeadLetters(letters: readonly DeadLetterView[], nextCursor: string | null): string {
  if (letters.length === 0) return 'the dead-letter queue is empty\n';
  const rows = letters.map((letter) => [
    letter.id,
    letter.task_id,
    letter.step,
    String(letter.attempts),
    letter.created_at,
    letter.closed_at === null ? 'open' : 'closed',
    cell(letter.error?.message ?? NONE),
  ]);
  return (
    formatTable(['ID', 'TASK', 'STEP', 'ATTEMPTS', 'CREATED', 'STATE', 'ERROR'], rows) + more(nextCursor)
  );
}

export function renderHandlers(namespaces: Readonly<Record<string, readonly HandlerListing[]>>): string {
  const rows = Object.entries(namespaces).flatMap(([namespace, handlers]) =>
    handlers.map((handler) => [
      namespace,
      handler.name,
      handler.version || NONE,
      handler.kind,
      cell(handler.description || NONE),
    ]),
  );
  if (rows.length === 0) return 'no handlers\n';
  return formatTable(['NAMESPACE', 'NAME', 'VERSION', 'KIND', 'DESCRIPTION'], rows);
}

export function renderTemplates(templates: readonly Template[]): string {
  if (templates.length === 0) return 'no templates\n';
  const rows = templates.map((template) => [
    `${template.namespace}.${template.name}`,
    template.version,
    String(template.steps.length),
    cell(template.description || NONE),
  ]);
  return formatTable(['TEMPLATE', 'VERSION', 'STEPS', 'DESCRIPTION'], rows);
}

/** A task's duration so far, or in all when it ended. */
function took(task: Pick<TaskView, 'created_at' | 'finished_at'>): string {
  return formatDuration(elapsedMs(task.created_at, task.finished_at, Date.now()) ?? 0);
}

function more(nextCursor: string | null): string {
  return nextCursor === null ? '' : `next page: the same command with --cursor ${nextCursor}\n`;
}

function cell(text: string): string {
  return truncate(text, CELL_CHARS);
}

function indent(text: string): string {
  return text.replace(/^/gm, '  ');
}
