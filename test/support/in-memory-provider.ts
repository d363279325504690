import { CardDeclinedError, ProviderRejectedError, ProviderUnavailableError } from '../../functions/domain/errors.ts';
import type { Currency } from '../../functions/domain/money.ts';
import {
  type AuthorizeChargeInput,
  type Charge,
  DEPLOYMENT_METADATA_KEY,
  type PaymentProvider,
  type ProviderRefund,
  type RefundChargeInput,
} from '../../functions/domain/provider.ts';

const declines: Record<string, string> = {
  pm_card_chargeDeclined: 'generic_decline',
  pm_card_chargeDeclinedInsufficientFunds: 'insufficient_funds',
};

/**
 * A provider port in memory, for domain tests: honours idempotency keys like Stripe and
 * records every call, so a test can count captures.
 */
export class InMemoryProvider implements PaymentProvider {
  readonly charges = new Map<string, Charge>();
  readonly calls: { op: string; key?: string; chargeId?: string }[] = [];
  /** Answers to replay for an idempotency key already seen. */
  private readonly replies = new Map<string, Charge | Error>();
  /** Fail the next N calls as unavailable. */
  failNext = 0;
  /** Seconds since the epoch, for `createdAt` and `captureBefore`. */
  nowSeconds = () => 0;
  /** How long new authorizations last; unset, the provider does not say. */
  authorizationWindowSeconds: number | undefined;
  private seq = 0;

  /** What the provider does after 24 hours: a repeated key is a new request. */
  forgetIdempotencyKeys() {
    this.replies.clear();
    this.refundReplies.clear();
  }

  captureCount(chargeId: string) {
    return this.calls.filter((c) => c.op === 'capture-executed' && c.chargeId === chargeId).length;
  }

  async authorizeCharge(input: AuthorizeChargeInput): Promise<Charge> {
    return this.once('authorize', input.idempotencyKey, undefined, () => {
      const id = `pi_${++this.seq}`;
      const code = declines[input.paymentMethod];
      const createdAt = this.nowSeconds();
      const deployment = input.metadata[DEPLOYMENT_METADATA_KEY];
      const charge: Charge = {
        id,
        status: code ? 'requires_payment_method' : 'requires_capture',
        amount: input.amount,
        currency: input.currency,
        amountCaptured: 0,
        amountRefunded: 0,
        paymentNo: input.paymentNo,
        ...(deployment !== undefined && { deployment }),
        createdAt,
        ...(this.authorizationWindowSeconds !== undefined && { captureBefore: createdAt + this.authorizationWindowSeconds }),
        ...(code && { declineCode: code }),
      };
      this.charges.set(id, charge);
      if (code) throw new CardDeclinedError(code, 'declined', id);
      return charge;
    });
  }

  async captureCharge({ chargeId, idempotencyKey }: { chargeId: string; idempotencyKey: string }) {
    return this.once('capture', idempotencyKey, chargeId, () => {
      const charge = this.must(chargeId);
      if (charge.status !== 'requires_capture') throw new ProviderRejectedError(`cannot capture ${charge.status}`);
      this.calls.push({ op: 'capture-executed', chargeId });
      return this.put({ ...charge, status: 'succeeded', amountCaptured: charge.amount });
    });
  }

  async voidCharge({ chargeId, idempotencyKey }: { chargeId: string; idempotencyKey: string }) {
    return this.once('void', idempotencyKey, chargeId, () => {
      const charge = this.must(chargeId);
      if (charge.status === 'succeeded') throw new ProviderRejectedError('captured');
      return this.put({ ...charge, status: 'canceled' });
    });
  }

  async retrieveCharge(chargeId: string) {
    return this.must(chargeId);
  }

  async findChargesByPaymentNo(paymentNo: string) {
    return [...this.charges.values()].filter((c) => c.paymentNo === paymentNo).reverse();
  }

  async listOpenAuthorizations({ deployment, createdBefore, limit }: { deployment: string; createdBefore: Date; limit: number }) {
    return [...this.charges.values()]
      .filter((c) => c.status === 'requires_capture' && c.deployment === deployment)
      .filter((c) => c.createdAt * 1000 < createdBefore.getTime())
      .slice(0, limit);
  }

  /** What the provider does when an authorization lapses. */
  lapse(chargeId: string) {
    this.put({ ...this.must(chargeId), status: 'canceled' });
  }

  /** Refunds made, by id, as they are now. */
  readonly refunds = new Map<string, ProviderRefund>();
  /** The first answer to each refund's idempotency key, replayed as it was (status included), as Stripe does. */
  private readonly refundReplies = new Map<string, ProviderRefund>();
  /** How new refunds start: settled at once, or `pending` until {@link settleRefund}. */
  refundsStart: 'succeeded' | 'pending' = 'succeeded';

  async refundCharge(input: RefundChargeInput): Promise<ProviderRefund> {
    this.calls.push({ op: 'refund', key: input.idempotencyKey, chargeId: input.chargeId });
    const seen = this.refundReplies.get(input.idempotencyKey);
    if (seen) return seen;
    const refundNo = input.metadata['refund_no'];
    const refund: ProviderRefund = {
      id: `re_${++this.seq}`,
      chargeId: input.chargeId,
      amount: input.amount,
      status: this.refundsStart,
      ...(refundNo !== undefined && { refundNo }),
    };
    this.refunds.set(refund.id, refund);
    this.refundReplies.set(input.idempotencyKey, refund);
    return refund;
  }

  async retrieveRefund(refundId: string): Promise<ProviderRefund> {
    const refund = this.refunds.get(refundId);
    if (!refund) throw new ProviderRejectedError(`no refund ${refundId}`);
    return refund;
  }

  async findRefundsOfCharge(chargeId: string) {
    return [...this.refunds.values()].filter((refund) => refund.chargeId === chargeId).reverse();
  }

  /** What the provider does to a pending refund, in its own time. */
  settleRefund(refundId: string, status: 'succeeded' | 'failed' | 'canceled', failureReason?: string) {
    const refund = this.refunds.get(refundId);
    if (refund?.status !== 'pending') throw new Error(`refund ${refundId} is not pending`);
    this.refunds.set(refundId, { ...refund, status, ...(failureReason !== undefined && { failureReason }) });
  }

  private once(op: string, key: string, chargeId: string | undefined, run: () => Charge): Charge {
    this.calls.push({ op, key, ...(chargeId && { chargeId }) });
    if (this.failNext > 0) {
      this.failNext--;
      throw new ProviderUnavailableError('injected');
    }
    const seen = this.replies.get(key);
    if (seen instanceof Error) throw seen;
    if (seen) return seen;
    try {
      const charge = run();
      this.replies.set(key, charge);
      return charge;
    } catch (error) {
      this.replies.set(key, error as Error);
      throw error;
    }
  }

  private must(chargeId: string): Charge {
    const charge = this.charges.get(chargeId);
    if (!charge) throw new ProviderRejectedError(`no charge ${chargeId}`);
    return charge;
  }

  private put(charge: Charge): Charge {
    this.charges.set(charge.id, charge);
    return charge;
  }
}

export const USD = 'USD' as Currency;
