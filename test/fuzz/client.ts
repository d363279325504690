import { request } from 'node:http';

export interface RawRequest {
  readonly method: string;
  /** Sent as written: percent-encoding, dot segments and latin1 bytes reach the server untouched. */
  readonly path: string;
  readonly headers: Readonly<Record<string, string>>;
  readonly body?: Buffer;
}

export interface RawResponse {
  readonly status: number;
  readonly headers: Readonly<Record<string, string | string[] | undefined>>;
  readonly text: string;
}

/** The server did not answer within the client's patience: a hang is a failure, never a wait. */
export class NoAnswerError extends Error {
  override readonly name = 'NoAnswerError';
}

/**
 * One HTTP request without a client library's opinions (fetch refuses non-ASCII header values
 * and normalizes paths). A server that answers before reading the whole body (413) still
 * counts as an answer.
 */
export function send(baseUrl: string, raw: RawRequest, timeoutMs: number): Promise<RawResponse> {
  const url = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    let answered = false;
    const outgoing = request(
      {
        host: url.hostname,
        port: url.port,
        method: raw.method,
        path: raw.path,
        headers: { ...raw.headers, ...(raw.body !== undefined && { 'Content-Length': String(raw.body.length) }) },
        signal: AbortSignal.timeout(timeoutMs),
      },
      (response) => {
        answered = true;
        const chunks: Buffer[] = [];
        response.on('data', (chunk: Buffer) => chunks.push(chunk));
        response.on('end', () => resolve({ status: response.statusCode ?? 0, headers: response.headers, text: Buffer.concat(chunks).toString('utf8') }));
        response.on('error', reject);
      },
    );
    outgoing.on('error', (error) => {
      if (answered) return;
      reject(error.name === 'AbortError' ? new NoAnswerError(`no answer to ${raw.method} ${raw.path.slice(0, 200)} within ${timeoutMs} ms`) : error);
    });
    outgoing.end(raw.body);
  });
}
