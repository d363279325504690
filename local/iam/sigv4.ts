/**
 * AWS Signature Version 4, checked the way an AWS endpoint checks it: the caller is whoever
 * holds the secret key of the access key id its `Authorization` header names, and only if the
 * signature over the request it sent is the one that secret makes.
 */
import { createHash, createHmac, timingSafeEqual } from 'node:crypto';
import type { IncomingHttpHeaders } from 'node:http';

/** The parts of an `AWS4-HMAC-SHA256 Credential=<key>/<date>/<region>/<service>/aws4_request, SignedHeaders=..., Signature=...` header. */
export interface SigV4Authorization {
  readonly accessKeyId: string;
  /** `<yyyymmdd>/<region>/<service>/aws4_request` */
  readonly scope: string;
  readonly signedHeaders: readonly string[];
  readonly signature: string;
}

const authorizationPattern =
  /^AWS4-HMAC-SHA256 Credential=([^/,\s]+)\/(\d{8}\/[^/,\s]+\/[^/,\s]+\/aws4_request),\s*SignedHeaders=([a-z0-9;-]+),\s*Signature=([0-9a-f]{64})$/;

/** The header's parts, or undefined when it is not a SigV4 header. */
export function parseAuthorization(header: string | undefined): SigV4Authorization | undefined {
  const match = header === undefined ? null : authorizationPattern.exec(header.trim());
  if (match === null) return undefined;
  const [, accessKeyId, scope, signedHeaders, signature] = match as unknown as [string, string, string, string, string];
  return { accessKeyId, scope, signedHeaders: signedHeaders.split(';'), signature };
}

export interface ReceivedRequest {
  readonly method: string;
  /** The request target as received: path and query string. */
  readonly url: string;
  readonly headers: IncomingHttpHeaders;
  readonly body: Buffer;
}

/** Whether `authorization`'s signature is the one `secretAccessKey` makes over `request`. */
export function signatureMatches(request: ReceivedRequest, authorization: SigV4Authorization, secretAccessKey: string): boolean {
  const amzDate = request.headers['x-amz-date'];
  if (typeof amzDate !== 'string') return false;
  const expected = Buffer.from(sign(request, authorization, secretAccessKey, amzDate), 'hex');
  const given = Buffer.from(authorization.signature, 'hex');
  return expected.length === given.length && timingSafeEqual(expected, given);
}

function sign(request: ReceivedRequest, authorization: SigV4Authorization, secretAccessKey: string, amzDate: string): string {
  const stringToSign = ['AWS4-HMAC-SHA256', amzDate, authorization.scope, sha256(canonicalRequest(request, authorization.signedHeaders))].join('\n');
  return hmac(signingKey(secretAccessKey, authorization.scope), stringToSign).toString('hex');
}

const signingKeys = new Map<string, Buffer>();

/** The key of a secret for a day, region and service; the same all day, so derived once. */
function signingKey(secretAccessKey: string, scope: string): Buffer {
  const cacheKey = `${scope}\u0000${secretAccessKey}`;
  let key = signingKeys.get(cacheKey);
  if (key === undefined) {
    const [date, region, service] = scope.split('/') as [string, string, string];
    key = hmac(`AWS4${secretAccessKey}`, date);
    for (const part of [region, service, 'aws4_request']) key = hmac(key, part);
    signingKeys.set(cacheKey, key);
  }
  return key;
}

function canonicalRequest(request: ReceivedRequest, signedHeaders: readonly string[]): string {
  const url = new URL(request.url, 'http://localhost');
  // Every service but S3 signs the path URI-encoded twice: once on the wire, once more here.
  const path = url.pathname.split('/').map((segment) => encodeRfc3986(segment)).join('/');
  const query = [...url.searchParams]
    .map(([name, value]) => [encodeRfc3986(name), encodeRfc3986(value)])
    .sort(([a, x], [b, y]) => (a! < b! ? -1 : a! > b! ? 1 : x! < y! ? -1 : x! > y! ? 1 : 0))
    .map(([name, value]) => `${name}=${value}`)
    .join('&');
  const headers = signedHeaders.map((name) => `${name}:${headerValue(request.headers[name])}\n`).join('');
  // The hash of the body received, never the one a header claims: a body changed after signing fails.
  return [request.method, path, query, headers, signedHeaders.join(';'), sha256(request.body)].join('\n');
}

function headerValue(value: string | string[] | undefined): string {
  return [value ?? ''].flat().map((part) => part.trim().replace(/\s+/g, ' ')).join(',');
}

function encodeRfc3986(text: string): string {
  return encodeURIComponent(text).replace(/[!'()*]/g, (char) => `%${char.charCodeAt(0).toString(16).toUpperCase()}`);
}

function sha256(data: string | Buffer): string {
  return createHash('sha256').update(data).digest('hex');
}

function hmac(key: string | Buffer, data: string): Buffer {
  return createHmac('sha256', key).update(data, 'utf8').digest();
}
