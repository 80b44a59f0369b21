/** Envelopes from `../shared/reference/asap-wire.md`, byte for byte, and small test helpers. */
import assert from 'node:assert/strict';
import type { EnvelopeValidation, JsonObject, ValidationIssue } from '../../src/protocol/index.ts';

/** §1: the example request envelope, as serialised by a reference peer. */
export const SHEET_REQUEST = JSON.parse(`{
  "id": "01JQ9Y8R6C2K3M4N5P6Q7R8S9T",
  "asap_version": "0.1",
  "timestamp": "2026-07-21T12:00:00.123456Z",
  "sender": "urn:asap:agent:client",
  "recipient": "urn:asap:agent:default-server",
  "payload_type": "task.request",
  "payload": {
    "conversation_id": "conv_01JQ9Y8R6C",
    "parent_task_id": null,
    "skill_id": "echo",
    "input": {"message": "hi"},
    "config": null
  },
  "correlation_id": null,
  "trace_id": null,
  "requires_ack": false,
  "extensions": {"nonce": "q2Vb..."}
}`) as JsonObject;

/** §1: the reply of the default echo handler (ids elided with `...`, which is still valid). */
export const SHEET_ECHO_RESPONSE = JSON.parse(
  `{"id":"01JQ9Y8R7...","asap_version":"0.1","timestamp":"2026-07-21T12:00:00.130001Z",
 "sender":"urn:asap:agent:default-server","recipient":"urn:asap:agent:client",
 "payload_type":"task.response",
 "payload":{"task_id":"task_01JQ9Y8R7...","status":"completed","result":{"echoed":{"message":"hi"}},
            "final_state":null,"metrics":null},
 "correlation_id":"01JQ9Y8R6C2K3M4N5P6Q7R8S9T","trace_id":null,"requires_ack":false,"extensions":null}`,
) as JsonObject;

/** §2.4: the example timestamp rejection (HTTP 200). */
export const SHEET_TIMESTAMP_REJECTION = JSON.parse(`{"jsonrpc":"2.0","id":"req-1","error":{"code":-32002,
 "message":"Envelope timestamp is too old: 612.3 seconds (max: 300 seconds)",
 "data":{"code":"asap:protocol/invalid_timestamp","rpc_code":-32002,
  "message":"Envelope timestamp is too old: 612.3 seconds (max: 300 seconds)",
  "details":{"timestamp":"2026-07-21T11:50:00+00:00","age_seconds":612.3,"envelope_id":"01J...","max_age_seconds":300},
  "retry_after_ms":5000,"fallback_action":"resend_with_fresh_timestamp","recoverable":true,
  "asap_taxonomy_code":"asap:protocol/invalid_timestamp","error":"Invalid envelope timestamp"}}}`) as JsonObject;

/** §5.4: the 429 body. */
export const SHEET_RATE_LIMIT_BODY =
  JSON.parse(`{"jsonrpc":"2.0","id":null,"error":{"code":429,"message":"Rate limit exceeded",
   "data":{"retry_after":1,"limit":"10 per 1 second"}}}`) as JsonObject;

/** A copy of the example request with some fields replaced (or removed, with `undefined`). */
export function requestWith(changes: JsonObject): JsonObject {
  const copy: JsonObject = { ...structuredClone(SHEET_REQUEST) };
  for (const [key, value] of Object.entries(changes)) {
    if (value === undefined) delete copy[key];
    else copy[key] = value;
  }
  return copy;
}

/** `[type, loc joined by '.']` of each issue: compact enough for tables. */
export function summary(issues: readonly ValidationIssue[]): [string, string][] {
  return issues.map((issue) => [issue.type, issue.loc.join('.')]);
}

/** The issues of an invalid envelope (fails the test otherwise). */
export function invalidIssues(result: EnvelopeValidation, scope?: 'envelope' | 'payload'): ValidationIssue[] {
  assert.equal(result.ok, false, 'expected the envelope to be invalid');
  assert.ok(!result.ok && result.kind === 'invalid', `expected kind invalid, got ${JSON.stringify(result)}`);
  if (scope !== undefined) assert.equal(result.scope, scope);
  return result.issues;
}

export const URL_PREFIX = 'https://errors.pydantic.dev/2.12/v/';
