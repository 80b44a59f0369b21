/**
 * Protocol constants of ASAP as the reference implementation (Python library 2.5.4) uses them.
 * `../shared/reference/asap-wire.md` is the source of every value here.
 */

/** The JSON-RPC method of every ASAP request (§2.2). */
export const ASAP_METHOD = 'asap.send';

/** The envelope `asap_version` reference peers send (§8). The server never checks it. */
export const ASAP_ENVELOPE_VERSION = '0.1';

/** The `ASAP-Version` HTTP header (§2.5). */
export const ASAP_VERSION_HEADER = 'ASAP-Version';
/** Transport versions a reference server accepts in `ASAP-Version`, sorted as it reports them. */
export const ASAP_SUPPORTED_TRANSPORT_VERSIONS = ['2.1', '2.2'] as const;
export type AsapTransportVersion = (typeof ASAP_SUPPORTED_TRANSPORT_VERSIONS)[number];
/** The version assumed when the header is absent or blank, and echoed on every response. */
export const ASAP_DEFAULT_TRANSPORT_VERSION: AsapTransportVersion = '2.2';

/** Agent URNs (§0.5): lower-case letters, digits and `-`, one optional sub-name. */
export const AGENT_URN_PATTERN = '^urn:asap:agent:[a-z0-9-]+(?::[a-z0-9-]+)?$';
export const MAX_URN_LENGTH = 256;

/** Replay window (§5.2): older than this many seconds is rejected with -32002. */
export const MAX_ENVELOPE_AGE_SECONDS = 300;
/** Replay window (§5.2): further in the future than this many seconds is rejected with -32002. */
export const MAX_FUTURE_TOLERANCE_SECONDS = 30;
/** How long a seen nonce is remembered (2 × the maximum age). */
export const NONCE_TTL_SECONDS = MAX_ENVELOPE_AGE_SECONDS * 2;

/** Largest JSON-RPC batch (§2.6). */
export const MAX_BATCH_SIZE = 50;
/** Request body limit of the reference server (§5.5), in bytes. */
export const MAX_REQUEST_SIZE = 10 * 1024 * 1024;

/** `Task.depth` limit; applies to the Task entity only (§1). */
export const MAX_TASK_DEPTH = 10;
