import { CONFIG_KEY_NAMES, CONFIG_KEYS, flagName, specOf } from './keys.ts';

/**
 * The reference of every configuration key as a Markdown table (environment variable, config
 * file key, CLI flag, default, meaning and accepted values), generated from CONFIG_KEYS so the
 * README cannot drift from the code. Printed by `baton config --docs`.
 */
export function renderConfigReference(): string {
  const header = ['| env | file key | flag | default | meaning |', '| --- | --- | --- | --- | --- |'];
  const rows = CONFIG_KEY_NAMES.map((key) => {
    const spec = specOf(key);
    const flag = flagName(key);
    const cells = [
      code(CONFIG_KEYS[key].env),
      code(key),
      flag === undefined ? '' : code(flag),
      defaultCell(spec.default, spec.defaultDescription),
      `${spec.meaning}. Accepts ${spec.accepts}.${spec.secret === true ? ' Secret: never printed.' : ''}`,
    ];
    return `| ${cells.map((cell) => cell.replaceAll('|', '\\|')).join(' | ')} |`;
  });
  return [...header, ...rows].join('\n') + '\n';
}

function defaultCell(fallback: unknown, description: string | undefined): string {
  if (description !== undefined) return description;
  return typeof fallback === 'string' ? code(fallback) : 'unset';
}

function code(text: string): string {
  return `\`${text}\``;
}
