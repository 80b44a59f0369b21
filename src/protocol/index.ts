/**
 * The ASAP protocol model: envelope and payload types with the reference implementation's
 * validation, the JSON-RPC codec, the error table, `ASAP-Version` negotiation and envelope
 * builders. No I/O: the server and the client are built on it.
 *
 * A request through `/asap`, in the reference's order:
 *
 * ```ts
 * const version = negotiateAsapVersion(headers['asap-version']);        // -32000 when !ok
 * const body = parseRequestBody(bytes, { allowBatch: !compressed });    // -32700/-32600/-32601
 * const checked = validateEnvelope(request.params.envelope);            // -32602 (or -32603)
 * const stale = checkTimestampWindow(checked.envelope);                 // -32002
 * const reply = createReplyEnvelope(checked.envelope, { sender, payload_type, payload });
 * JSON.stringify(jsonRpcResult(request.id, reply));
 * ```
 */
export {
  ASAP_DEFAULT_TRANSPORT_VERSION,
  ASAP_ENVELOPE_VERSION,
  ASAP_METHOD,
  ASAP_SUPPORTED_TRANSPORT_VERSIONS,
  ASAP_VERSION_HEADER,
  MAX_BATCH_SIZE,
  MAX_ENVELOPE_AGE_SECONDS,
  MAX_FUTURE_TOLERANCE_SECONDS,
  MAX_REQUEST_SIZE,
  MAX_URN_LENGTH,
  NONCE_TTL_SECONDS,
  type AsapTransportVersion,
} from './constants.ts';
export { formatLoc, type Loc, type ValidationIssue } from './issues.ts';
export type { JsonObject } from './lax.ts';
export { formatTimestamp, parseTimestamp, timestampMicros, type WallTime } from './timestamp.ts';
export {
  canTransition,
  CORRELATED_PAYLOAD_KINDS,
  MESSAGE_ACK_STATUSES,
  MESSAGE_ROLES,
  normalizePayloadType,
  payloadKindOf,
  requiresCorrelation,
  TASK_STATUSES,
  TASK_TRANSITIONS,
  TERMINAL_TASK_STATUSES,
  UPDATE_TYPES,
  validatePayload,
  type ArtifactNotify,
  type McpResourceData,
  type McpResourceFetch,
  type McpToolCall,
  type McpToolResult,
  type MessageAck,
  type MessageRole,
  type MessageSend,
  type Payload,
  type PayloadByKind,
  type PayloadKind,
  type PayloadValidation,
  type StateQuery,
  type StateRestore,
  type TaskCancel,
  type TaskMetrics,
  type TaskRequest,
  type TaskRequestConfig,
  type TaskResponse,
  type TaskStatus,
  type TaskStream,
  type TaskUpdate,
  type UpdateType,
} from './payloads.ts';
export {
  agentUrnProblem,
  describeEnvelopeFailure,
  isAgentUrn,
  validateEnvelope,
  type Envelope,
  type EnvelopeFailure,
  type EnvelopeValidation,
  type TypedEnvelope,
} from './envelope.ts';
export { validateManifest, type Manifest, type ManifestValidation, type Skill } from './manifest.ts';
export {
  agentRevokedError,
  ASAP_ERRORS,
  asapErrorData,
  asapErrorFromWire,
  AsapError,
  circuitOpenError,
  connectionError,
  handlerNotFoundError,
  INTERNAL_ERROR,
  INVALID_PARAMS,
  INVALID_REQUEST,
  invalidNonceError,
  invalidTimestampError,
  invalidTransitionError,
  isAsapError,
  isAsapRpcCode,
  JSON_RPC_ERROR_MESSAGES,
  malformedEnvelopeError,
  METHOD_NOT_FOUND,
  PARSE_ERROR,
  RPC_RESOURCE_EXHAUSTED,
  signatureVerificationError,
  taskAlreadyCompletedError,
  taskNotFoundError,
  threadPoolExhaustedError,
  timeoutError,
  unsupportedAuthSchemeError,
  VERSION_INCOMPATIBLE,
  webhookUrlRejectedError,
  wwwAuthenticateOf,
  type AsapErrorInit,
  type AsapErrorSpec,
} from './errors.ts';
export {
  ASAP_ERROR_TEXT,
  asapErrorResponse,
  authErrorResponse,
  batchErrorResponse,
  checkJsonRpcRequest,
  envelopeErrorResponse,
  handlerNotFoundResponse,
  internalErrorResponse,
  invalidBatchItemResponse,
  jsonRpcError,
  jsonRpcResult,
  parseErrorResponse,
  rateLimitBody,
  senderMismatchResponse,
  sseEvent,
  threadPoolExhaustedBody,
  versionIncompatibleResponse,
  type JsonRpcErrorObject,
  type JsonRpcErrorResponse,
  type JsonRpcId,
  type JsonRpcRequest,
  type JsonRpcResponse,
  type JsonRpcSuccessResponse,
  type RequestCheck,
} from './jsonrpc.ts';
export { parseRequestBody, type ParseBodyOptions, type ParsedBody } from './body.ts';
export {
  CLIENT_ASAP_VERSION_HEADER,
  negotiateAsapVersion,
  negotiatesAsapVersion,
  type VersionNegotiation,
} from './version.ts';
export { checkTimestampWindow, duplicateNonceError, readNonce, type NonceRead } from './replay.ts';
export {
  checkCorrelation,
  createEnvelope,
  createReplyEnvelope,
  taskResponsePayload,
  taskStreamPayload,
  type EnvelopeInit,
  type ReplyInit,
} from './response.ts';
