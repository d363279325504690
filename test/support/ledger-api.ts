import { expect } from 'vitest';
import { api, paymentBody, target, waitForTerminal } from './target.ts';

export const FEE = (amount: number) => Math.floor((amount * 290 + 5000) / 10_000) + 30;

export const ledgerOf = () => {
  const found = target().ledger;
  if (found === undefined) throw new Error('the ledger tests need the ledger merchants (the local stack makes them)');
  return found;
};

/** Polls `read` until `done` holds of its answer: the ledger is posted from the stream, a moment after the API answered. */
export async function eventually<T>(read: () => Promise<T>, done: (value: T) => boolean, what: string, timeoutMs = 30_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await read();
    if (done(value)) return value;
    if (Date.now() > deadline) throw new Error(`${what}: still ${JSON.stringify(value)}`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

export const balance = async (key: string) => (await api('GET', '/v1/balance', undefined, { key })).body;
export const usd = (amounts: { amount: number; currency: string }[]) => amounts.find((a) => a.currency === 'USD')?.amount ?? 0;

/** A payment of `amount` made and captured for the merchant of `key`. */
export async function captured(key: string, amount: number) {
  const created = await api('POST', '/v1/payments', paymentBody({ amount }), { key });
  expect(created.status).toBe(201);
  return waitForTerminal(created.body.payment_no, { key });
}
