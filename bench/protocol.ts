/**
 * Micro-benchmark of the ASAP protocol model: how long Baton's own wire work takes per request,
 * so we know validation does not dominate request time. Run: `npx node bench/protocol.ts`.
 *
 * For BENCH_PROTOCOL_N typical `task.request` bodies (the sheet's example envelope, each with its
 * own id) it times, in BENCH_RUNS runs (median reported):
 * - `pipeline`: decode the body (JSON-RPC checks), validate the envelope, check the timestamp
 *   window, build the echo reply and encode the JSON-RPC answer: everything `/asap` does per
 *   request besides HTTP and the handler;
 * - `validate`: `validateEnvelope` alone on already-parsed envelopes;
 * - `json`: `JSON.parse` of the body plus `JSON.stringify` of the answer, the floor any server pays.
 * Ends with one JSON line of the figures.
 */
import { median } from './lib/stats.ts';
import {
  checkTimestampWindow,
  createReplyEnvelope,
  jsonRpcResult,
  parseRequestBody,
  taskResponsePayload,
  validateEnvelope,
  type JsonObject,
} from '../src/protocol/index.ts';
import { ulid } from '../src/util/ids.ts';

const N = envInt('BENCH_PROTOCOL_N', 100_000);
const RUNS = envInt('BENCH_RUNS', 5);

function envInt(name: string, fallback: number): number {
  const raw = process.env[name];
  const value = raw === undefined ? fallback : Number(raw);
  if (!Number.isInteger(value) || value < 1)
    throw new RangeError(`${name} must be a positive integer, got ${raw}`);
  return value;
}

function requestBody(timestamp: string): Buffer {
  const envelope = {
    id: ulid(),
    asap_version: '0.1',
    timestamp,
    sender: 'urn:asap:agent:client',
    recipient: 'urn:asap:agent:default-server',
    payload_type: 'task.request',
    payload: {
      conversation_id: 'conv_01JQ9Y8R6C',
      parent_task_id: null,
      skill_id: 'echo',
      input: { message: 'hi', order: { id: 42, items: ['mug', 'tea'], express: true } },
      config: { timeout_seconds: 30, idempotency_key: ulid() },
    },
    correlation_id: null,
    trace_id: null,
    requires_ack: false,
    extensions: { nonce: ulid() },
  };
  return Buffer.from(
    JSON.stringify({ jsonrpc: '2.0', method: 'asap.send', params: { envelope }, id: 'req-1' }),
  );
}

const SERVER = 'urn:asap:agent:default-server';

function pipeline(body: Buffer): string {
  const parsed = parseRequestBody(body, { allowBatch: true });
  if (parsed.kind !== 'request') throw new Error(`unexpected ${parsed.kind}`);
  const checked = validateEnvelope(parsed.request.params.envelope);
  if (!checked.ok) throw new Error(`invalid envelope: ${checked.kind}`);
  const stale = checkTimestampWindow(checked.envelope);
  if (stale !== undefined) throw stale;
  const input = (checked.envelope.payload as { input: JsonObject }).input;
  const reply = createReplyEnvelope(checked.envelope, {
    sender: SERVER,
    payload_type: 'task.response',
    payload: taskResponsePayload({ status: 'completed', result: { echoed: input } }),
  });
  return JSON.stringify(jsonRpcResult(parsed.request.id, reply));
}

function timeRun(bodies: readonly Buffer[], work: (body: Buffer, index: number) => unknown): number {
  let sink = 0;
  const start = process.hrtime.bigint();
  for (let i = 0; i < bodies.length; i++) {
    const out = work(bodies[i] as Buffer, i);
    if (out !== undefined) sink++;
  }
  const elapsedNs = Number(process.hrtime.bigint() - start);
  if (sink < 0) console.log(sink);
  return elapsedNs / 1000 / bodies.length;
}

interface Work {
  label: string;
  run: (body: Buffer, index: number) => unknown;
}

/** Times each work `RUNS` times, interleaved so machine noise hits them alike; medians in µs. */
function measure(bodies: readonly Buffer[], works: readonly Work[]): number[] {
  const warm = bodies.slice(0, Math.min(bodies.length, 20_000));
  for (const work of works) timeRun(warm, work.run);
  const runs: number[][] = works.map(() => []);
  for (let run = 0; run < RUNS; run++) {
    works.forEach((work, i) => runs[i]?.push(timeRun(bodies, work.run)));
  }
  return works.map((work, i) => {
    const times = runs[i] ?? [];
    const result = median(times);
    console.log(
      `${work.label.padEnd(10)} ${result.toFixed(3)} µs per envelope  (runs: ${times.map((t) => t.toFixed(3)).join(', ')})`,
    );
    return result;
  });
}

const timestamp = new Date().toISOString().replace('Z', '000Z');
const bodies = Array.from({ length: N }, () => requestBody(timestamp));
const envelopes = bodies.map(
  (body) => (JSON.parse(body.toString('utf8')) as { params: { envelope: unknown } }).params.envelope,
);
const answer = pipeline(bodies[0] as Buffer);

console.log(
  `ASAP protocol model, ${N} task.request envelopes (${bodies[0]?.length} B body, ${answer.length} B answer), ${RUNS} runs, Node ${process.version}`,
);
const [pipelineUs = 0, validateUs = 0, jsonUs = 0] = measure(bodies, [
  { label: 'pipeline', run: pipeline },
  { label: 'validate', run: (_body, index) => validateEnvelope(envelopes[index]) },
  {
    label: 'json',
    run: (body) => {
      const value = JSON.parse(body.toString('utf8')) as { params: { envelope: unknown } };
      return JSON.stringify({ jsonrpc: '2.0', result: { envelope: value.params.envelope }, id: 'req-1' });
    },
  },
]);
console.log(
  `validation is ${((validateUs / pipelineUs) * 100).toFixed(0)}% of the pipeline; the pipeline costs ${(pipelineUs / jsonUs).toFixed(2)}× bare JSON parse+stringify`,
);
console.log(
  JSON.stringify({
    bench: 'protocol',
    envelopes: N,
    runs: RUNS,
    pipeline_us_per_envelope: Number(pipelineUs.toFixed(3)),
    validate_us_per_envelope: Number(validateUs.toFixed(3)),
    json_only_us_per_envelope: Number(jsonUs.toFixed(3)),
    pipeline_envelopes_per_s: Math.round(1e6 / pipelineUs),
  }),
);
