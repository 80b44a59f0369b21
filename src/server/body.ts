/**
 * Request bodies of the ASAP routes: `Content-Encoding` (identity, `gzip`, `br`; anything else is
 * 415) and a streaming read that applies the size limit to the raw bytes and to the decoded bytes
 * as they come out of the decompressor, so a decompression bomb is refused after `maxBytes`
 * decoded bytes, whatever it would expand to.
 */
import type { Readable } from 'node:stream';
import { createBrotliDecompress, createGunzip, type BrotliDecompress, type Gunzip } from 'node:zlib';
import { HttpError, requestTooLarge } from './http-error.ts';

export type BodyEncoding = 'identity' | 'gzip' | 'br';

/** What the ASAP routes' content-type parser hands the route. */
export interface RawBody {
  bytes: Buffer;
  /** Whether the body came compressed: a compressed JSON array is not a batch (asap-wire §2.6). */
  compressed: boolean;
}

/** The body's encoding from `Content-Encoding` (case-insensitive, trimmed), or the 415 answer. */
export function bodyEncoding(header: string | string[] | undefined): BodyEncoding | HttpError {
  const value = (Array.isArray(header) ? header.join(', ') : (header ?? '')).trim().toLowerCase();
  if (value === '' || value === 'identity') return 'identity';
  if (value === 'gzip' || value === 'br') return value;
  return new HttpError(415, `Unsupported Content-Encoding: ${value}. Supported: br, gzip`);
}

/**
 * Reads `source` whole, decoding it. Rejects with an `HttpError`: 413 as soon as the raw or the
 * decoded bytes pass `maxBytes` (decoding stops there), 400 when the compressed data is invalid.
 * On a rejection the rest of the request is drained unread so the answer can still be sent.
 */
export function readBody(source: Readable, encoding: BodyEncoding, maxBytes: number): Promise<Buffer> {
  return new Promise<Buffer>((resolve, reject) => {
    const decoder = encoding === 'identity' ? undefined : createDecoder(encoding);
    const chunks: Buffer[] = [];
    let rawBytes = 0;
    let decodedBytes = 0;
    let settled = false;

    const cleanup = (): void => {
      source.off('data', onData);
      source.off('end', onEnd);
      source.off('error', onError);
      if (decoder) {
        decoder.off('data', onDecoded);
        decoder.off('end', onDecodedEnd);
        decoder.off('error', onDecoderError);
        decoder.off('drain', onDrain);
      }
    };
    const settle = (error: Error | undefined, body?: Buffer): void => {
      if (settled) return;
      settled = true;
      cleanup();
      if (decoder && !decoder.destroyed) decoder.destroy();
      if (error) {
        // Pull the rest off the wire and drop it: the answer goes out on this connection.
        source.on('error', noop);
        source.resume();
        reject(error);
      } else {
        resolve(body!);
      }
    };

    function onData(chunk: Buffer): void {
      rawBytes += chunk.length;
      if (rawBytes > maxBytes) return settle(requestTooLarge(rawBytes, maxBytes));
      if (!decoder) {
        chunks.push(chunk);
      } else if (!decoder.write(chunk)) {
        source.pause();
      }
    }
    function onEnd(): void {
      if (!decoder)
        return settle(undefined, chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, rawBytes));
      // An empty body decodes to nothing (zlib would call it truncated).
      if (rawBytes === 0) return settle(undefined, Buffer.alloc(0));
      decoder.end();
    }
    function onError(error: Error): void {
      settle(error);
    }
    function onDecoded(chunk: Buffer): void {
      decodedBytes += chunk.length;
      if (decodedBytes > maxBytes) return settle(requestTooLarge(decodedBytes, maxBytes));
      chunks.push(chunk);
    }
    function onDecodedEnd(): void {
      settle(undefined, Buffer.concat(chunks, decodedBytes));
    }
    function onDecoderError(error: Error): void {
      settle(new HttpError(400, `Invalid compressed data: ${error.message}`));
    }
    function onDrain(): void {
      source.resume();
    }

    source.on('data', onData);
    source.on('end', onEnd);
    source.on('error', onError);
    if (decoder) {
      decoder.on('data', onDecoded);
      decoder.on('end', onDecodedEnd);
      decoder.on('error', onDecoderError);
      decoder.on('drain', onDrain);
    }
  });
}

function createDecoder(encoding: 'gzip' | 'br'): Gunzip | BrotliDecompress {
  return encoding === 'gzip' ? createGunzip() : createBrotliDecompress();
}

function noop(): void {}
