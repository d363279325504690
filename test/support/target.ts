import { inject } from 'vitest';
import { once } from '../../functions/handlers/shared/once.ts';
import { contractOf } from './contract.ts';

/** The stack under test, as the integration suite's global setup found or started it. */
export interface Target {
  apiUrl: string;
  apiKey: string;
  /** A second merchant's key, to check that merchants cannot see each other's payments. */
  otherApiKey: string;
  /** A merchant whose carts hold seats for seconds: for tests of the schedule's expiry. */
  shortHoldApiKey?: string;
  /** The Stripe-compatible fake behind the stack, when it has one. */
  providerUrl?: string;
  /** The stack's tag on its charges (DEPLOYMENT_ID), for tests that make charges behind its back. */
  deploymentId?: string;
  /**
   * Merchants of the ledger's tests, no other test's: one on the default terms, one whose funds
   * are available at once, and one (funds at once too) whose balance only the payout tests move.
   */
  ledger?: {
    readonly apiKey: string;
    readonly merchantId: string;
    readonly instantApiKey: string;
    readonly instantMerchantId: string;
    readonly payoutApiKey: string;
    readonly payoutMerchantId: string;
  };
  /** The stack's table, where the suite may read it (the local stack): the ledger's journal is checked from it. */
  table?: { readonly endpoint: string; readonly name: string };
  /** Where a test invokes a function of the stack directly (the local stack's; see global-setup.ts). */
  invokeUrl?: string;
  /** Merchants of the settlement tests, no other test's: one in Tokyo, one the provider charges behind the ledger's back. */
  settlements?: {
    readonly merchantId: string;
    readonly timeZone: string;
    readonly apiKey: string;
    readonly strayMerchantId: string;
    readonly strayApiKey: string;
  };
}

declare module 'vitest' {
  export interface ProvidedContext {
    target: Target;
  }
}

let ownTarget: Target | undefined;

/**
 * For a suite that starts its own stack in its own process (the fuzzer, the crash matrix)
 * instead of taking the integration suite's: the helpers here then talk to that stack.
 */
export function useTarget(stack: Target): void {
  ownTarget = stack;
}

export const target = (): Target => ownTarget ?? inject('target');

export interface ApiResponse<T = any> {
  status: number;
  body: T;
  headers: Headers;
}

/** One call to the API, as a merchant (or with `key: null`, as nobody). */
export async function api<T = any>(
  method: string,
  path: string,
  body?: unknown,
  options: { key?: string | null; headers?: Record<string, string>; rawBody?: string } = {},
): Promise<ApiResponse<T>> {
  const key = options.key === undefined ? target().apiKey : options.key;
  const response = await fetch(`${target().apiUrl}${path}`, {
    method,
    headers: {
      'Content-Type': 'application/json',
      ...(key !== null && { Authorization: `Bearer ${key}` }),
      ...options.headers,
    },
    ...((body !== undefined || options.rawBody !== undefined) && { body: options.rawBody ?? JSON.stringify(body) }),
  });
  const text = await response.text();
  const answer = text ? JSON.parse(text) : undefined;
  const sent = options.rawBody === undefined ? body : parsedOrUndefined(options.rawBody);
  const problems = contract().problemsOf({
    method,
    path,
    ...(options.headers !== undefined && { headers: options.headers }),
    ...(sent !== undefined && { body: sent }),
    status: response.status,
    contentType: response.headers.get('content-type'),
    answer,
  });
  if (problems.length > 0) throw new Error(`the exchange breaks the OpenAPI document (openapi.json):\n${problems.join('\n')}`);
  return { status: response.status, body: answer, headers: response.headers };
}

const contract = once(() => contractOf());

/** A raw body that is JSON, as the document would see it; text that is not JSON is refused before any schema. */
function parsedOrUndefined(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return undefined;
  }
}

let orderSeq = 0;
/** An order number no other test (or earlier run against a deployed stack) used. */
export function newOrderNo(): string {
  return `it-${Date.now().toString(36)}-${process.pid}-${++orderSeq}`;
}

export function paymentBody(overrides: Record<string, unknown> = {}) {
  return { order_no: newOrderNo(), amount: 1999, currency: 'USD', payment_method: 'pm_card_visa', ...overrides };
}

const terminal = new Set(['succeeded', 'failed', 'canceled']);

/** Polls the payment until it reaches a terminal status (or, `awaitingCapture` allowing, waits for the merchant's capture). */
export async function waitForTerminal(paymentNo: string, { timeoutMs = 30_000, key = target().apiKey, awaitingCapture = false } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const { status, body } = await api('GET', `/v1/payments/${paymentNo}`, undefined, { key });
    if (status !== 200) throw new Error(`GET ${paymentNo} answered ${status}: ${JSON.stringify(body)}`);
    if (terminal.has(body.status) || (awaitingCapture && body.awaiting_capture === true)) return body;
    if (Date.now() > deadline) throw new Error(`payment ${paymentNo} still ${body.status} after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Polls the payment until it is terminal and none of its refunds is pending. */
export async function waitForRefunds(paymentNo: string, { timeoutMs = 30_000, key = target().apiKey } = {}) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const payment = await waitForTerminal(paymentNo, { timeoutMs, key });
    if (payment.refunds.every((r: { status: string }) => r.status !== 'pending')) return payment;
    if (Date.now() > deadline) throw new Error(`refunds of ${paymentNo} still pending after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/** Invokes a function of the stack directly with `event`, by its construct id, as `aws lambda invoke` does; its answer. */
export async function invoke<T = any>(constructId: string, event: unknown): Promise<T> {
  const { invokeUrl } = target();
  if (invokeUrl === undefined) throw new Error('this stack offers no direct invocation (the local stack does)');
  const response = await fetch(`${invokeUrl}/${encodeURIComponent(constructId)}`, { method: 'POST', body: JSON.stringify(event) });
  const body = await response.json();
  if (!response.ok) throw new Error(`${constructId} failed: ${JSON.stringify(body)}`);
  return body as T;
}
