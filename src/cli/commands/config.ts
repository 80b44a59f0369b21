import { Option } from 'commander';
import type { Command } from 'commander';
import { CONFIG_KEY_NAMES, redactConfig, renderConfigReference } from '../../config/index.ts';
import type { ConfigSource, ResolvedConfig } from '../../config/index.ts';
import type { RegisterCommand } from '../context.ts';
import { formatTable } from '../table.ts';

interface ConfigCommandOptions {
  readonly json?: boolean;
  readonly docs?: boolean;
}

/** `baton config`: the resolved configuration, secrets redacted, and where each value came from. */
export const registerConfigCommand: RegisterCommand = (program, context) => {
  program
    .command('config')
    .description('Print the resolved configuration (secrets redacted) and where each value came from')
    .option('--json', 'Print the configuration as JSON')
    .addOption(
      new Option('--docs', 'Print the reference of every configuration key (Markdown)').conflicts('json'),
    )
    .action((options: ConfigCommandOptions, command: Command) => {
      if (options.docs === true) {
        context.io.stdout.write(renderConfigReference());
        return;
      }
      const resolved = context.resolveConfig(command);
      const redacted = redactConfig(resolved.config);
      context.io.stdout.write(
        options.json === true ? `${JSON.stringify(redacted, null, 2)}\n` : renderConfig(resolved),
      );
    });
};

function renderConfig(resolved: ResolvedConfig): string {
  const redacted = redactConfig(resolved.config);
  const rows = CONFIG_KEY_NAMES.map((key) => [
    key,
    showValue(redacted[key]),
    showSource(resolved.sources[key]),
  ]);
  return `config file: ${resolved.file ?? 'none'}\n\n${formatTable(['KEY', 'VALUE', 'SOURCE'], rows)}`;
}

function showValue(value: unknown): string {
  if (value === undefined) return '(unset)';
  return typeof value === 'string' ? value : JSON.stringify(value);
}

function showSource(source: ConfigSource): string {
  return source.name === undefined ? source.layer : `${source.layer} ${source.name}`;
}
