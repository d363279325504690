import type Stripe from 'stripe';
import {
  AuthorizationExpiredError,
  CardDeclinedError,
  ProviderRejectedError,
} from '../../domain/errors.ts';
import { parseCurrency } from '../../domain/money.ts';
import { CaptureMethod } from '../../domain/payment.ts';
import {
  type AuthorizeChargeInput,
  CAPTURE_METHOD_METADATA_KEY,
  type Charge,
  type ChargeStatus,
  type CreatePayoutInput,
  DEPLOYMENT_METADATA_KEY,
  type PaymentProvider,
  type ProviderBalanceLedger,
  type ProviderBalanceTransaction,
  type ProviderPayout,
  type ProviderPayoutStatus,
  type ProviderRefund,
  type ProviderRefundStatus,
  type RefundChargeInput,
} from '../../domain/provider.ts';
import { isUnexpectedState, toAuthorizationError, toDomainError } from './errors.ts';
import type { StripeResources } from './resources.ts';

/** Expanded on every PaymentIntent we read: it carries capture_before and amount_refunded. */
const EXPAND_CHARGE = ['latest_charge'];
const SEARCH_PAGE_SIZE = 100;
const LIST_PAGE_SIZE = 100;

/**
 * The {@link PaymentProvider} on Stripe's PaymentIntents: a charge is a PaymentIntent with
 * `capture_method=manual`, confirmed server-side at creation. Every call that moves money
 * passes the caller's idempotency key, so Stripe replays its first answer to a retry.
 */
export class StripePaymentProvider implements PaymentProvider, ProviderBalanceLedger {
  constructor(private readonly stripe: StripeResources) {}

  async authorizeCharge(input: AuthorizeChargeInput): Promise<Charge> {
    const pi = await call(() =>
      this.stripe.paymentIntents.create(
        {
          amount: input.amount,
          currency: input.currency.toLowerCase(),
          payment_method: input.paymentMethod,
          confirm: true,
          capture_method: 'manual',
          // Cards only: nothing here could follow a redirect, so none may be offered.
          allowed_payment_method_types: ['card'],
          metadata: { ...input.metadata, payment_no: input.paymentNo },
          ...(input.description === undefined ? {} : { description: input.description }),
          ...(input.customerEmail === undefined ? {} : { receipt_email: input.customerEmail }),
          expand: EXPAND_CHARGE,
        },
        { idempotencyKey: input.idempotencyKey },
      ),
      toAuthorizationError,
    );
    if (pi.status === 'requires_action') {
      // 3-D Secure needs the customer, and there is no customer on this side of the API.
      throw new CardDeclinedError(
        'authentication_required',
        'The card requires authentication, which a server-side charge cannot complete.',
        pi.id,
      );
    }
    if (pi.status !== 'requires_capture') {
      throw new ProviderRejectedError(
        `Stripe left PaymentIntent ${pi.id} in status ${pi.status} after confirmation; expected requires_capture.`,
      );
    }
    return toCharge(pi);
  }

  async captureCharge({ chargeId, idempotencyKey, amount }: { chargeId: string; idempotencyKey: string; amount?: number }): Promise<Charge> {
    try {
      return toCharge(
        await this.stripe.paymentIntents.capture(
          chargeId,
          { expand: EXPAND_CHARGE, ...(amount !== undefined && { amount_to_capture: amount }) },
          { idempotencyKey },
        ),
      );
    } catch (error) {
      if (isUnexpectedState(error) || isLapsedAuthorization(error)) {
        const current = await this.retrieveCharge(chargeId);
        if (current.status === 'succeeded') return current;
        if (current.status === 'canceled') {
          throw new AuthorizationExpiredError(
            `PaymentIntent ${chargeId} was canceled before capture; its authorization is gone.`,
            { cause: error },
          );
        }
      }
      throw toDomainError(error);
    }
  }

  async voidCharge({ chargeId, idempotencyKey }: { chargeId: string; idempotencyKey: string }): Promise<Charge> {
    try {
      return toCharge(
        await this.stripe.paymentIntents.cancel(chargeId, { expand: EXPAND_CHARGE }, { idempotencyKey }),
      );
    } catch (error) {
      if (isUnexpectedState(error)) {
        const current = await this.retrieveCharge(chargeId);
        if (current.status === 'canceled') return current;
        if (current.status === 'succeeded') {
          throw new ProviderRejectedError(
            `PaymentIntent ${chargeId} is already captured and cannot be voided; refund it instead.`,
            { cause: error },
          );
        }
      }
      throw toDomainError(error);
    }
  }

  async retrieveCharge(chargeId: string): Promise<Charge> {
    return toCharge(await call(() => this.stripe.paymentIntents.retrieve(chargeId, { expand: EXPAND_CHARGE })));
  }

  /**
   * Stripe's search index trails writes by up to a minute, so a charge created moments ago
   * may be missing: callers that find nothing should look again later, not conclude there
   * is no charge.
   */
  async findChargesByPaymentNo(paymentNo: string): Promise<Charge[]> {
    const query = `metadata['payment_no']:${quoted(paymentNo)}`;
    const charges: Charge[] = [];
    let page: string | undefined;
    do {
      const result = await call(() =>
        this.stripe.paymentIntents.search({
          query,
          limit: SEARCH_PAGE_SIZE,
          expand: ['data.latest_charge'],
          ...(page === undefined ? {} : { page }),
        }),
      );
      charges.push(...result.data.map(toCharge));
      page = result.has_more && result.next_page ? result.next_page : undefined;
    } while (page !== undefined);
    return charges.sort((a, b) => b.createdAt - a.createdAt);
  }

  async listOpenAuthorizations(input: { deployment: string; captureMethod: CaptureMethod; createdBefore: Date; limit: number }): Promise<Charge[]> {
    const manual = `metadata['${CAPTURE_METHOD_METADATA_KEY}']:${quoted(CaptureMethod.Manual)}`;
    const query = [
      `status:'requires_capture'`,
      `metadata['${DEPLOYMENT_METADATA_KEY}']:${quoted(input.deployment)}`,
      input.captureMethod === CaptureMethod.Manual ? manual : `-${manual}`,
      `created<${Math.floor(input.createdBefore.getTime() / 1000)}`,
    ].join(' AND ');
    const result = await call(() =>
      this.stripe.paymentIntents.search({
        query,
        limit: Math.min(input.limit, SEARCH_PAGE_SIZE),
        expand: ['data.latest_charge'],
      }),
    );
    return result.data.map(toCharge);
  }

  async refundCharge(input: RefundChargeInput): Promise<ProviderRefund> {
    return toProviderRefund(
      await call(() =>
        this.stripe.refunds.create(
          { payment_intent: input.chargeId, amount: input.amount, metadata: { ...input.metadata } },
          { idempotencyKey: input.idempotencyKey },
        ),
      ),
    );
  }

  async retrieveRefund(refundId: string): Promise<ProviderRefund> {
    return toProviderRefund(await call(() => this.stripe.refunds.retrieve(refundId)));
  }

  /** Every page, each transaction's source expanded: its metadata names the merchant and the deployment. */
  async listBalanceTransactions({ createdFrom, createdBefore }: { createdFrom: Date; createdBefore: Date }): Promise<ProviderBalanceTransaction[]> {
    const seconds = (at: Date) => Math.floor(at.getTime() / 1000);
    const found: ProviderBalanceTransaction[] = [];
    let after: string | undefined;
    for (let more = true; more; ) {
      const page = await call(() =>
        this.stripe.balanceTransactions.list({
          created: { gte: seconds(createdFrom), lt: seconds(createdBefore) },
          limit: LIST_PAGE_SIZE,
          expand: ['data.source'],
          ...(after === undefined ? {} : { starting_after: after }),
        }),
      );
      found.push(...page.data.map(toProviderBalanceTransaction));
      after = page.data.at(-1)?.id;
      more = page.has_more && after !== undefined;
    }
    return found;
  }

  async findRefundsOfCharge(chargeId: string): Promise<ProviderRefund[]> {
    const refunds: ProviderRefund[] = [];
    let after: string | undefined;
    for (let more = true; more; ) {
      const page = await call(() =>
        this.stripe.refunds.list({
          payment_intent: chargeId,
          limit: LIST_PAGE_SIZE,
          ...(after === undefined ? {} : { starting_after: after }),
        }),
      );
      refunds.push(...page.data.map(toProviderRefund));
      after = page.data.at(-1)?.id;
      more = page.has_more && after !== undefined;
    }
    return refunds;
  }

  async createPayout(input: CreatePayoutInput): Promise<ProviderPayout> {
    return toProviderPayout(
      await call(() =>
        this.stripe.payouts.create(
          {
            amount: input.amount,
            currency: input.currency.toLowerCase(),
            metadata: { ...input.metadata },
            ...(input.description === undefined ? {} : { description: input.description }),
          },
          { idempotencyKey: input.idempotencyKey },
        ),
      ),
    );
  }

  async retrievePayout(payoutId: string): Promise<ProviderPayout> {
    return toProviderPayout(await call(() => this.stripe.payouts.retrieve(payoutId)));
  }

  async findPayouts({ payoutNo, createdSince }: { payoutNo: string; createdSince: Date }): Promise<ProviderPayout[]> {
    const found: ProviderPayout[] = [];
    let after: string | undefined;
    for (let more = true; more; ) {
      const page = await call(() =>
        this.stripe.payouts.list({
          created: { gte: Math.floor(createdSince.getTime() / 1000) },
          limit: LIST_PAGE_SIZE,
          ...(after === undefined ? {} : { starting_after: after }),
        }),
      );
      found.push(...page.data.map(toProviderPayout).filter((payout) => payout.payoutNo === payoutNo));
      after = page.data.at(-1)?.id;
      more = page.has_more && after !== undefined;
    }
    return found;
  }
}

const PAYOUT_STATUSES: readonly string[] = ['pending', 'in_transit', 'paid', 'failed', 'canceled'] satisfies ProviderPayoutStatus[];

/**
 * Maps a Stripe Payout to the domain's. A status this adapter does not know is read as
 * `pending`: the payout is looked at again rather than taken as final either way, which could
 * give back money that left or keep money that came back.
 */
function toProviderPayout(payout: Stripe.Payout): ProviderPayout {
  const currency = parseCurrency(payout.currency);
  if (currency === undefined) throw new ProviderRejectedError(`Stripe returned payout ${payout.id} in unknown currency ${payout.currency}.`);
  const payoutNo = payout.metadata?.['payout_no'];
  return {
    id: payout.id,
    amount: payout.amount,
    currency,
    status: PAYOUT_STATUSES.includes(payout.status) ? (payout.status as ProviderPayoutStatus) : 'pending',
    arrivalDate: payout.arrival_date,
    ...(payout.failure_code ? { failureCode: payout.failure_code } : {}),
    ...(payoutNo === undefined ? {} : { payoutNo }),
  };
}

const REFUND_STATUSES: readonly string[] = ['pending', 'requires_action', 'succeeded', 'failed', 'canceled'] satisfies ProviderRefundStatus[];

/**
 * Maps a Stripe Refund to the domain's. A status this adapter does not know (Stripe adds
 * some now and then) is read as `pending`: the refund is looked at again rather than taken
 * as final either way, which could refund twice or never.
 */
function toProviderRefund(refund: Stripe.Refund): ProviderRefund {
  const paymentIntent = typeof refund.payment_intent === 'string' ? refund.payment_intent : refund.payment_intent?.id;
  const refundNo = refund.metadata?.['refund_no'];
  return {
    id: refund.id,
    ...(paymentIntent === undefined ? {} : { chargeId: paymentIntent }),
    amount: refund.amount,
    status: refund.status !== null && REFUND_STATUSES.includes(refund.status) ? (refund.status as ProviderRefundStatus) : 'pending',
    ...(refund.failure_reason ? { failureReason: refund.failure_reason } : {}),
    ...(refundNo === undefined ? {} : { refundNo }),
  };
}

/**
 * A balance transaction named as the ledger names its money: a charge by its PaymentIntent, a
 * refund by the refund_no in its metadata, a payout by its payout_no (the provider's own id when it has none, which no
 * ledger entry carries: it shows up as missing from the ledger), anything else by its source's id.
 */
function toProviderBalanceTransaction(bt: Stripe.BalanceTransaction): ProviderBalanceTransaction {
  const currency = parseCurrency(bt.currency);
  if (currency === undefined) {
    throw new ProviderRejectedError(`Stripe returned balance transaction ${bt.id} in unknown currency ${bt.currency}.`);
  }
  const source = typeof bt.source === 'object' && bt.source !== null ? bt.source : undefined;
  const sourceId = typeof bt.source === 'string' ? bt.source : (source?.id ?? bt.id);
  const metadata = source !== undefined && 'metadata' in source ? (source.metadata ?? {}) : {};
  const paymentIntent = source !== undefined && 'payment_intent' in source ? source.payment_intent : undefined;
  const paymentIntentId = typeof paymentIntent === 'string' ? paymentIntent : paymentIntent?.id;
  const named =
    source?.object === 'charge' && paymentIntentId !== undefined
      ? paymentIntentId
      : source?.object === 'refund'
        ? (metadata['refund_no'] ?? sourceId)
        : source?.object === 'payout'
          ? (metadata['payout_no'] ?? sourceId)
          : sourceId;
  const merchantId = metadata['merchant_id'];
  const deployment = metadata[DEPLOYMENT_METADATA_KEY];
  return {
    id: bt.id,
    type: bt.type,
    source: named,
    amount: bt.amount,
    fee: bt.fee,
    net: bt.net,
    currency,
    createdAt: new Date(bt.created * 1000).toISOString(),
    ...(merchantId === undefined ? {} : { merchantId }),
    ...(deployment === undefined ? {} : { deployment }),
  };
}

/** A search query string value: single-quoted, with backslashes and quotes escaped. */
function quoted(value: string): string {
  return `'${value.replaceAll('\\', '\\\\').replaceAll("'", "\\'")}'`;
}

async function call<T>(request: () => Promise<T>, translate: (error: unknown) => unknown = toDomainError): Promise<T> {
  try {
    return await request();
  } catch (error) {
    throw translate(error);
  }
}

/** Stripe's codes for capturing an authorization that has already lapsed. */
function isLapsedAuthorization(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return code === 'charge_expired_for_capture' || code === 'capture_charge_authorization_expired';
}

/** Maps a PaymentIntent (with `latest_charge` expanded when available) to the domain's Charge. */
function toCharge(pi: Stripe.PaymentIntent): Charge {
  const currency = parseCurrency(pi.currency);
  if (currency === undefined) {
    throw new ProviderRejectedError(`Stripe returned PaymentIntent ${pi.id} in unknown currency ${pi.currency}.`);
  }
  const latest = typeof pi.latest_charge === 'object' && pi.latest_charge !== null ? pi.latest_charge : undefined;
  const paymentNo = pi.metadata?.['payment_no'];
  const deployment = pi.metadata?.[DEPLOYMENT_METADATA_KEY];
  const captureBefore = latest?.payment_method_details?.card?.capture_before;
  const declineCode = pi.last_payment_error?.decline_code || pi.last_payment_error?.code;
  return {
    id: pi.id,
    status: pi.status as ChargeStatus,
    amount: pi.amount,
    currency,
    amountCaptured: pi.amount_received,
    amountRefunded: latest?.amount_refunded ?? 0,
    createdAt: pi.created,
    ...(paymentNo === undefined ? {} : { paymentNo }),
    ...(deployment === undefined ? {} : { deployment }),
    ...(captureBefore == null ? {} : { captureBefore }),
    ...(declineCode ? { declineCode } : {}),
  };
}
