import type { Payment } from '../../functions/domain/payment.ts';
import { USD } from './currencies.ts';

/** A card payment of 10.00 USD, captured whole and not refunded, as the saga leaves it. */
export function succeededPayment(overrides: Partial<Payment> = {}): Payment {
  return {
    paymentNo: 'pay_1',
    merchantId: 'm_1',
    orderNo: 'o-1',
    amount: 1000,
    currency: USD,
    paymentMethod: 'pm_card_visa',
    status: 'succeeded',
    version: 4,
    chargeId: 'pi_1',
    amountCaptured: 1000,
    amountRefunded: 0,
    createdAt: '2026-01-05T00:00:00.000Z',
    updatedAt: '2026-01-05T00:00:00.000Z',
    resumeCount: 0,
    ...overrides,
  };
}
