/** Raw HTTP against the fake, in Stripe's wire format, for the tests that check the wire itself. */
export interface RawResponse {
  readonly status: number;
  readonly headers: Headers;
  readonly text: string;
  readonly json: any;
}

export interface RawRequest {
  readonly params?: Record<string, string>;
  readonly idempotencyKey?: string;
  readonly apiKey?: string | null;
  readonly signal?: AbortSignal;
}

export async function stripeRequest(
  baseUrl: string,
  method: 'GET' | 'POST',
  path: string,
  { params = {}, idempotencyKey, apiKey = 'sk_test_fake', signal }: RawRequest = {},
): Promise<RawResponse> {
  const form = new URLSearchParams(params).toString();
  const headers: Record<string, string> = {};
  if (apiKey !== null) headers['Authorization'] = `Bearer ${apiKey}`;
  if (idempotencyKey !== undefined) headers['Idempotency-Key'] = idempotencyKey;
  if (method === 'POST') headers['Content-Type'] = 'application/x-www-form-urlencoded';
  const url = method === 'GET' && form !== '' ? `${baseUrl}${path}?${form}` : `${baseUrl}${path}`;
  const response = await fetch(url, { method, headers, ...(method === 'POST' ? { body: form } : {}), ...(signal ? { signal } : {}) });
  const text = await response.text();
  return { status: response.status, headers: response.headers, text, json: JSON.parse(text) };
}

export const authorizeParams = (paymentMethod: string, paymentNo = 'P-1'): Record<string, string> => ({
  amount: '1500',
  currency: 'usd',
  payment_method: paymentMethod,
  confirm: 'true',
  capture_method: 'manual',
  'allowed_payment_method_types[0]': 'card',
  'metadata[payment_no]': paymentNo,
});
