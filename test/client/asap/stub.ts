/** A plain node:http ASAP peer whose answers the test scripts, recording what it received. */
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { gunzipSync } from 'node:zlib';
import {
  createReplyEnvelope,
  taskResponsePayload,
  type Envelope,
  type JsonObject,
} from '../../../src/protocol/index.ts';

export const STUB_AGENT = 'urn:asap:agent:stub';

export interface Received {
  method: string;
  url: string;
  headers: IncomingHttpHeaders;
  /** The body as sent (compressed when it was). */
  raw: Buffer;
  /** The JSON-RPC request, decoded (undefined for bodiless requests). */
  rpc: { id: string; params: { envelope: Envelope<JsonObject>; idempotency_key?: string } } | undefined;
}

export type Answer = (res: ServerResponse, request: Received) => void;

export class StubAgent {
  readonly received: Received[] = [];
  #answers: Answer[] = [];
  readonly #server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (chunk: Buffer) => chunks.push(chunk));
    req.on('end', () => {
      const raw = Buffer.concat(chunks);
      const text = (req.headers['content-encoding'] === 'gzip' ? gunzipSync(raw) : raw).toString('utf8');
      const request: Received = {
        method: req.method ?? '',
        url: req.url ?? '',
        headers: req.headers,
        raw,
        rpc: text === '' ? undefined : (JSON.parse(text) as Received['rpc']),
      };
      this.received.push(request);
      const answer = this.#answers.length > 1 ? this.#answers.shift() : this.#answers[0];
      if (answer) answer(res, request);
      else res.writeHead(404).end();
    });
  });
  url = '';

  async start(): Promise<void> {
    await new Promise<void>((resolve) => this.#server.listen(0, '127.0.0.1', resolve));
    this.url = `http://127.0.0.1:${(this.#server.address() as AddressInfo).port}`;
  }

  stop(): Promise<void> {
    this.#server.closeAllConnections();
    return new Promise((resolve) => this.#server.close(() => resolve()));
  }

  /** Answers in this order, the last one repeating; clears what was received. */
  script(...answers: Answer[]): void {
    this.#answers = answers;
    this.received.length = 0;
  }
}

export const status =
  (code: number, headers: Record<string, string> = {}, body = ''): Answer =>
  (res) =>
    res.writeHead(code, headers).end(body);

export const rpcJson = (res: ServerResponse, body: unknown): void => {
  res.writeHead(200, { 'content-type': 'application/json', 'asap-version': '2.2' }).end(JSON.stringify(body));
};

/** A `task.response` reply to the request; `correlationId` overrides the (correct) binding. */
export const taskReply =
  (
    status: 'completed' | 'working' | 'failed' = 'completed',
    result: JsonObject = { ok: true },
    correlationId?: string,
  ): Answer =>
  (res, request) => {
    const envelope = createReplyEnvelope(request.rpc!.params.envelope, {
      sender: STUB_AGENT,
      payload_type: 'task.response',
      payload: taskResponsePayload({ status, result }),
    });
    if (correlationId !== undefined) envelope.correlation_id = correlationId;
    rpcJson(res, { jsonrpc: '2.0', result: { envelope }, id: request.rpc!.id });
  };

export const rpcError =
  (code: number, message: string, data: JsonObject | null): Answer =>
  (res, request) =>
    rpcJson(res, { jsonrpc: '2.0', error: { code, message, data }, id: request.rpc?.id ?? null });
