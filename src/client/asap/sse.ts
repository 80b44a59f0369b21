/**
 * Server-sent events as `/asap/stream` sends them (asap-wire §2.7): each event is
 * `data: <one-line JSON>` and a blank line. The parser follows the HTML spec's rules closely
 * enough for any well-behaved server: `\n`, `\r\n` or `\r` line ends, several `data:` lines joined
 * by `\n`, comments (`:`) and other fields (`event:`, `id:`, `retry:`) ignored, an unfinished
 * event at the end of the stream dropped.
 */
export class SseParser {
  #buffer = '';
  #data: string[] = [];
  /** A `\r` ended the last chunk: a `\n` starting the next one belongs to that line end. */
  #pendingCr = false;

  /** Feeds decoded text; returns the `data` of every event it completed. */
  push(text: string): string[] {
    let chunk = text;
    if (this.#pendingCr && chunk.startsWith('\n')) chunk = chunk.slice(1);
    this.#pendingCr = false;
    this.#buffer += chunk;
    const events: string[] = [];
    let start = 0;
    for (let i = 0; i < this.#buffer.length; i++) {
      const char = this.#buffer.charCodeAt(i);
      if (char !== 10 && char !== 13) continue;
      this.#line(this.#buffer.slice(start, i), events);
      if (char === 13) {
        if (i + 1 === this.#buffer.length) this.#pendingCr = true;
        else if (this.#buffer.charCodeAt(i + 1) === 10) i++;
      }
      start = i + 1;
    }
    this.#buffer = this.#buffer.slice(start);
    return events;
  }

  #line(line: string, events: string[]): void {
    if (line === '') {
      if (this.#data.length > 0) events.push(this.#data.join('\n'));
      this.#data = [];
      return;
    }
    if (line.startsWith(':')) return;
    const colon = line.indexOf(':');
    const field = colon === -1 ? line : line.slice(0, colon);
    if (field !== 'data') return;
    let value = colon === -1 ? '' : line.slice(colon + 1);
    if (value.startsWith(' ')) value = value.slice(1);
    this.#data.push(value);
  }
}

/** The `data` of each event of a byte stream, decoded as UTF-8. */
export async function* sseData(body: AsyncIterable<Uint8Array | string>): AsyncGenerator<string> {
  const parser = new SseParser();
  const decoder = new TextDecoder();
  for await (const chunk of body) {
    const text = typeof chunk === 'string' ? chunk : decoder.decode(chunk, { stream: true });
    yield* parser.push(text);
  }
  yield* parser.push(decoder.decode());
}
