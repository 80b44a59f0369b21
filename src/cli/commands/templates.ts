import { extname } from 'node:path';
import type { Command } from 'commander';
import { stringify } from 'yaml';
import { withBackend } from '../backend/index.ts';
import type { RegisterCommand } from '../context.ts';
import { writeJson } from '../format.ts';
import { readArgumentFile } from '../options.ts';
import { renderTemplates } from '../render.ts';

interface JsonOption {
  readonly json?: boolean;
}

interface RegisterOptions extends JsonOption {
  readonly replace?: boolean;
}

/** `baton templates list|show|register`: the workflow templates of the server (or of this process). */
export const registerTemplatesCommand: RegisterCommand = (program, context) => {
  const templates = program.command('templates').description('List, show and register workflow templates');

  templates
    .command('list')
    .description('List templates by namespace, name, then highest version first')
    .option('--json', 'Print {templates} as JSON')
    .action(async (options: JsonOption, command: Command) => {
      const list = await withBackend(context, command, (backend) => backend.listTemplates());
      if (options.json === true) writeJson(context.io, { templates: list });
      else context.io.stdout.write(renderTemplates(list));
    });

  templates
    .command('show')
    .description('Show a template (as YAML, or JSON with --json)')
    .argument('<template>', 'namespace.name (highest version) or namespace.name@1.2.3')
    .option('--json', 'Print {template} as JSON')
    .action(async (ref: string, options: JsonOption, command: Command) => {
      const template = await withBackend(context, command, (backend) => backend.getTemplate(ref));
      if (options.json === true) writeJson(context.io, { template });
      else context.io.stdout.write(stringify(template));
    });

  templates
    .command('register')
    .description(
      'Register a template from a YAML or JSON file on the server (--url); validated as a whole first',
    )
    .argument('<file>', 'Template file: .json is JSON, anything else YAML')
    .option('--replace', 'Replace a registered template with the same namespace, name and version')
    .option('--json', 'Print {template} as JSON')
    .action(async (file: string, options: RegisterOptions, command: Command) => {
      const source = await readArgumentFile(context.io.cwd, file, 'template file');
      const format = extname(file).toLowerCase() === '.json' ? 'json' : 'yaml';
      const template = await withBackend(context, command, (backend) =>
        backend.registerTemplate(source, format, { replace: options.replace === true }),
      );
      if (options.json === true) writeJson(context.io, { template });
      else {
        context.io.stdout.write(
          `registered ${template.namespace}.${template.name}@${template.version} (${template.steps.length} steps)\n`,
        );
      }
    });
};
