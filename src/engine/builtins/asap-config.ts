/**
 * The `asap` step's configuration (SPEC §2.2, §3):
 * `{type: asap, agent_url, skill_id, input?, timeout_seconds?, recipient?, sender?, poll_interval_ms?}`.
 * Checked when the template is registered; `{{input.…}}` paths again when a task starts.
 */
import { isAgentUrn } from '../../protocol/index.ts';
import type { ErrorDetail } from '../../util/errors.ts';
import type { BuiltinConfig } from '../handler.ts';
import { checkInteger, checkKnownFields, checkTemplatedUrl } from './config-checks.ts';
import { checkInputReferences, checkReferences, collectReferences } from './placeholders.ts';

const KEYS = new Set([
  'type',
  'agent_url',
  'skill_id',
  'input',
  'timeout_seconds',
  'recipient',
  'sender',
  'poll_interval_ms',
]);
/** Fields whose strings may hold `{{…}}` references. */
const TEMPLATED = ['agent_url', 'skill_id', 'input', 'recipient'] as const;
const MAX_TIMEOUT_SECONDS = 3600;
const POLL_RANGE = [10, 60_000] as const;

/** The agent id steps send as when the configuration names none. */
export const DEFAULT_STEP_SENDER = 'urn:asap:agent:baton';
/** How long the remote agent holds a `task.request` before answering `working` (Baton's default). */
export const DEFAULT_TIMEOUT_SECONDS = 30;
export const DEFAULT_POLL_INTERVAL_MS = 1000;

/** The configuration after checking, with defaults filled in. */
export interface AsapStepConfig {
  /** The agent's base URL (may hold references). */
  url: string;
  skillId: string;
  /** An object, or a string that is one reference; `undefined` sends `{}`. */
  input: unknown;
  timeoutSeconds: number;
  recipient: string | undefined;
  sender: string;
  pollIntervalMs: number;
}

export function checkAsapConfig(config: BuiltinConfig, upstream: ReadonlySet<string>): ErrorDetail[] {
  const problems: ErrorDetail[] = [];
  checkKnownFields(config, KEYS, problems);
  checkTemplatedUrl(
    config.agent_url,
    'agent_url',
    "is required: the agent's base URL (http:// or https://), which may use {{input.…}} references",
    problems,
  );
  if (typeof config.skill_id !== 'string' || config.skill_id.trim() === '') {
    problems.push({
      path: 'skill_id',
      message: "is required: the remote agent's skill (for a Baton agent, a template id like shop.order)",
    });
  }
  checkInputField(config.input, problems);
  checkInteger(config.timeout_seconds, 'timeout_seconds', 1, MAX_TIMEOUT_SECONDS, problems);
  checkInteger(config.poll_interval_ms, 'poll_interval_ms', POLL_RANGE[0], POLL_RANGE[1], problems);
  checkUrn(config.recipient, 'recipient', problems);
  checkUrn(config.sender, 'sender', problems);
  for (const key of TEMPLATED) problems.push(...checkReferences(config[key], key, upstream));
  if (collectReferences(config.sender, 'sender').length > 0) {
    problems.push({ path: 'sender', message: 'cannot use {{…}} references' });
  }
  return problems;
}

export function checkAsapInput(config: BuiltinConfig, input: unknown): ErrorDetail[] {
  return TEMPLATED.flatMap((key) => checkInputReferences(config[key], key, input));
}

/** Reads a configuration that `checkAsapConfig` accepted (it is frozen into the step row). */
export function readAsapConfig(config: BuiltinConfig): AsapStepConfig {
  return {
    url: config.agent_url as string,
    skillId: config.skill_id as string,
    input: config.input,
    timeoutSeconds: (config.timeout_seconds as number | undefined) ?? DEFAULT_TIMEOUT_SECONDS,
    recipient: config.recipient as string | undefined,
    sender: (config.sender as string | undefined) ?? DEFAULT_STEP_SENDER,
    pollIntervalMs: (config.poll_interval_ms as number | undefined) ?? DEFAULT_POLL_INTERVAL_MS,
  };
}

function checkInputField(input: unknown, problems: ErrorDetail[]): void {
  if (input === undefined) return;
  if (typeof input === 'object' && input !== null && !Array.isArray(input)) return;
  if (typeof input === 'string' && /^\{\{[^{}]*\}\}$/.test(input.trim())) return;
  problems.push({
    path: 'input',
    message:
      'must be an object (its strings may use {{input.…}} / {{results.…}}), or one reference like "{{input}}"',
  });
}

function checkUrn(value: unknown, path: string, problems: ErrorDetail[]): void {
  if (value === undefined) return;
  if (typeof value !== 'string') {
    problems.push({ path, message: 'must be an agent URN like urn:asap:agent:name' });
    return;
  }
  if (collectReferences(value, path).length > 0) return;
  if (!isAgentUrn(value)) {
    problems.push({ path, message: `must be an agent URN like urn:asap:agent:name (got '${value}')` });
  }
}
