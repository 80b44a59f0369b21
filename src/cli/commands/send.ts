import type { Command } from 'commander';
import { createAsapClient } from '../../client/index.ts';
import type { Envelope } from '../../protocol/index.ts';
import { AsapError } from '../../protocol/index.ts';
import { ValidationError } from '../../util/errors.ts';
import type { RegisterCommand } from '../context.ts';
import { CommandExit, EXIT_CODES } from '../exit-codes.ts';
import { parseJsonArgument } from '../format.ts';
import { parseSeconds } from '../options.ts';

interface SendOptions {
  readonly stream?: boolean;
  readonly timeout?: number;
  readonly json?: boolean;
}

/**
 * `baton send <url> <payload_type> <json>`: one ASAP envelope to any ASAP agent (Baton or the
 * reference), with this agent's id as sender, and the reply (or, with `--stream`, every chunk).
 */
export const registerSendCommand: RegisterCommand = (program, context) => {
  program
    .command('send')
    .description('Send one ASAP envelope to an agent and print the reply')
    .argument('<url>', "The agent's base URL (requests go to <url>/asap)")
    .argument('<payload_type>', 'Payload type, e.g. task.request')
    .argument('<json>', 'The payload as a JSON object')
    .option('--stream', 'Send to <url>/asap/stream and print each chunk as it arrives')
    .option('--timeout <seconds>', 'Give up on an answer after this long (default 60)', parseSeconds)
    .option('--json', 'Print the reply envelopes as JSON, one per line')
    .action(
      async (url: string, payloadType: string, json: string, options: SendOptions, command: Command) => {
        const payload = parseJsonArgument(json, 'the payload');
        if (typeof payload !== 'object' || payload === null || Array.isArray(payload)) {
          throw new ValidationError('the payload must be a JSON object, e.g. {"conversation_id": "c1", …}');
        }
        const baseUrl = parseAgentUrl(url);
        const { config } = context.resolveConfig(command);
        const agent = createAsapClient({
          baseUrl,
          agentId: config.agentId,
          timeouts: { totalMs: options.timeout ?? 60_000 },
        });
        const print = (envelope: Envelope): void => {
          context.io.stdout.write(
            options.json === true ? `${JSON.stringify(envelope)}\n` : describe(envelope),
          );
        };
        try {
          const message = { payload_type: payloadType, payload };
          if (options.stream === true) for await (const chunk of agent.stream(message)) print(chunk);
          else print(await agent.send(message));
        } catch (error) {
          if (!(error instanceof AsapError)) throw error;
          const details = Object.keys(error.details).length > 0 ? ` ${JSON.stringify(error.details)}` : '';
          throw new CommandExit(
            EXIT_CODES.failure,
            `${baseUrl} answered error ${error.wireCode} (${error.taxonomy}): ${error.message}${details}`,
          );
        } finally {
          await agent.close();
        }
      },
    );
};

function parseAgentUrl(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw new ValidationError(`${text} is not a URL: give the agent's base URL, e.g. http://127.0.0.1:8080`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') {
    throw new ValidationError(`${text} is not an http(s) URL`);
  }
  return text.replace(/\/+$/, '');
}

function describe(envelope: Envelope): string {
  const head = `${envelope.payload_type} from ${envelope.sender} (envelope ${envelope.id})`;
  return `${head}\n${JSON.stringify(envelope.payload, null, 2).replace(/^/gm, '  ')}\n`;
}
