import type { WebhookSender } from '../../domain/webhooks.ts';

/**
 * POSTs with Node's fetch. Redirects are not followed (a 3xx is a failed attempt, as Stripe
 * treats it): the signature was made for the URL the merchant registered.
 */
export class FetchWebhookSender implements WebhookSender {
  async post(url: string, body: string, headers: Readonly<Record<string, string>>, timeoutMs: number) {
    try {
      const response = await fetch(url, { method: 'POST', body, headers, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) });
      // Read to the end, so the connection is freed; the content itself is not kept.
      await response.arrayBuffer().catch(() => undefined);
      return { statusCode: response.status };
    } catch (error) {
      const name = error instanceof Error ? error.name : 'Error';
      return { error: name === 'TimeoutError' ? `no answer within ${timeoutMs} ms` : `could not reach the endpoint (${error instanceof Error ? (error.cause as Error | undefined)?.message ?? error.message : String(error)})` };
    }
  }
}
