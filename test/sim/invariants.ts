import { grantNoFor } from '../../functions/domain/carts/catalog.ts';
import { payBackGrantKey, payBackRefundKey } from '../../functions/domain/carts/fulfilment.ts';
import { type Purchase, FINISHED } from '../../functions/domain/carts/model.ts';
import { paymentNoFor } from '../../functions/domain/create-payment.ts';
import type { Payment } from '../../functions/domain/payment.ts';
import { type Refund, RefundStatus, refundNoFor } from '../../functions/domain/refund.ts';
import type { Ledger } from '../../local/fake-provider/ledger.ts';
import { type Invariant, ledgerInvariants } from '../support/invariants/ledger.ts';
import { merchantLedgerViolations, providerTotalsOf } from '../support/invariants/merchant-ledger.ts';
import { type SchoolState, schoolInvariants } from '../support/invariants/school.ts';
import type { SchoolContents } from '../support/in-memory-school-store.ts';
import { type ApiAnswer, isCreateAnswer } from './api.ts';
import { MERCHANTS, MERCHANT_SETTINGS } from './school.ts';
import type { World } from './world.ts';

/** What a history is checked against: the money, the school, what the clients heard, and the world itself. */
export interface SimState {
  /** The records themselves, every field a view leaves out included. */
  readonly ledger: { readonly payments: readonly Payment[]; readonly refunds: readonly Refund[]; readonly provider: Ledger };
  readonly school: SchoolState;
  /** The school's store as it is, items the views do not show included. */
  readonly stored: SchoolContents;
  readonly answers: readonly ApiAnswer[];
  readonly world: World;
}

const on =
  <S>(part: (state: SimState) => S) =>
  (invariant: Invariant<S>): Invariant<SimState> => ({ ...invariant, check: (state) => invariant.check(part(state)) });

/** The shared promises about money and about the school, then what only a simulation can see. */
export const simInvariants: readonly Invariant<SimState>[] = [
  ...ledgerInvariants.map(on((state) => state.ledger)),
  ...schoolInvariants.map(on((state) => state.school)),
  {
    name: "a swimmer's classes are the classes it is a student of, each seat paid by a purchase",
    when: 'always',
    check: ({ stored }) => [
      ...stored.swimmers.flatMap((swimmer) => {
        const studentOf = stored.students
          .filter((s) => s.merchantId === swimmer.merchantId && s.accountId === swimmer.accountId && s.swimmerId === swimmer.swimmerId)
          .map((s) => s.classId)
          .sort();
        return JSON.stringify(studentOf) === JSON.stringify([...swimmer.classIds].sort())
          ? []
          : [`${swimmer.merchantId}/${swimmer.accountId}/${swimmer.swimmerId} lists ${JSON.stringify(swimmer.classIds)}, is a student of ${JSON.stringify(studentOf)}`];
      }),
      ...stored.students
        .filter((s) => !stored.purchases.some((p) => p.merchantId === s.merchantId && p.accountId === s.accountId && p.purchaseKey === s.purchaseKey))
        .map((s) => `${s.merchantId}/${s.classId}/${s.swimmerId}'s seat names purchase ${s.purchaseKey}, which does not exist`),
    ],
  },
  {
    name: 'every cart is finished at rest, no seat left held',
    when: 'settled',
    check: ({ stored }) => [
      ...stored.carts.filter((cart) => !FINISHED.has(cart.status)).map((cart) => `${cart.cartId} is ${cart.status}`),
      ...stored.holds.map((hold) => `cart ${hold.cartId} still holds a seat in ${hold.merchantId}/${hold.classId}`),
    ],
  },
  {
    name: 'points spent on a checkout come back unless it paid; only a cart that gives back more than it buys adds points, at most that much',
    when: 'settled',
    check: ({ stored }) =>
      stored.accounts.flatMap((account) => {
        const purchases = stored.purchases.filter((p) => p.merchantId === account.merchantId && p.accountId === account.accountId);
        const credits = sumOf(purchases, (p) => p.points) - (account.pointsSpent - account.pointsReturned);
        const value = MERCHANT_SETTINGS[account.merchantId as keyof typeof MERCHANT_SETTINGS].pointValue;
        const creditors = purchases.filter((p) => p.total < 0);
        // Each line's share rounded up to whole points, in the customer's favour.
        const most = sumOf(creditors, (p) => Math.ceil(-p.total / value) + p.items.length);
        return credits >= 0 && credits <= most
          ? []
          : [`${account.merchantId}/${account.accountId}: ${credits} points credited back (at most ${most}): spent ${account.pointsSpent}, returned ${account.pointsReturned}, purchases paid ${sumOf(purchases, (p) => p.points)}`];
      }),
  },
  {
    name: "a cart's difference paid back to a card is refunded, or else comes back as points",
    when: 'settled',
    check: ({ stored, ledger }) =>
      stored.purchases.filter((p) => p.total < 0).flatMap((purchase) =>
        differenceRefundNos(purchase).flatMap((refundNo) => {
          const refund = ledger.refunds.find((r) => r.refundNo === refundNo);
          const grantNo = grantNoFor(purchase.merchantId, purchase.accountId, payBackGrantKey(refundNo));
          const credited = stored.grants.some((g) => g.merchantId === purchase.merchantId && g.grantNo === grantNo);
          return refund?.status === RefundStatus.Failed && !credited
            ? [`${purchase.cartId} paid ${refund.amount} back through ${refundNo}, which failed (${refund.failureReason}), and no points came back`]
            : [];
        }),
      ),
  },
  {
    name: "every merchant's ledger adds up, to the provider's cent, once the stream is delivered",
    when: 'settled',
    check: ({ world, ledger }) => {
      const merchants = new Set([...MERCHANTS, ...world.ledger.merchants(), ...ledger.provider.paymentIntents.flatMap((pi) => pi.metadata['merchant_id'] ?? [])]);
      return [
        ...world.ledgerGivenUp.map((given) => `the ledger's mapping gave up on records ${given.sequences.join(', ')} of shard ${given.shard} (${given.error})`),
        ...[...merchants].flatMap((merchantId) =>
          merchantLedgerViolations(
            { merchantId, ...world.ledger.ledgerOf(merchantId) },
            providerTotalsOf(ledger.provider, merchantId),
            world.merchants.ledgerSettings(merchantId),
          ),
        ),
      ];
    },
  },
  {
    name: 'no code path fails unexpectedly',
    when: 'always',
    check: ({ world }) => [
      ...world.unexpected,
      ...world.scheduler.broken.map((error) => `the simulation itself: ${error instanceof Error ? error.stack : String(error)}`),
    ],
  },
  {
    name: 'nothing is left running',
    when: 'settled',
    check: ({ world }) => [
      ...world.scheduler.actors().map((actor) => `${actor.name} is still running`),
      ...world.executions
        .filter(({ saga, execution }) => (saga === 'payment' ? world.paymentWorkflow : world.refundWorkflow).statusOf(execution) === 'RUNNING')
        .map(({ execution }) => `execution ${execution.name} is still RUNNING`),
      ...(world.stripe.inFlightCount > 0 ? [`${world.stripe.inFlightCount} requests still in flight at the provider`] : []),
    ],
  },
  {
    name: 'no request is answered 500',
    when: 'settled',
    check: ({ answers }) => answers.filter((a) => a.status === 500).map((a) => `${a.route} ${a.key} answered 500`),
  },
  {
    name: 'an accepted request names the record its key makes, and that record exists as asked',
    when: 'settled',
    check: ({ answers, ledger }) =>
      answers.filter(accepted).filter(isCreateAnswer).flatMap((answer) => {
        if (answer.route === 'payments') {
          const { request } = answer;
          const paymentNo = paymentNoFor(answer.merchantId, request.orderNo);
          const payment = ledger.payments.find((p) => p.paymentNo === paymentNo);
          if (answer.body?.['payment_no'] !== paymentNo) return [`${answer.key} answered payment ${String(answer.body?.['payment_no'])}, not ${paymentNo}`];
          if (payment?.amount !== request.amount || payment.paymentMethod !== request.paymentMethod) {
            return [`${answer.key} accepted ${request.amount} by ${request.paymentMethod}; ${paymentNo} is ${payment?.amount} by ${payment?.paymentMethod}`];
          }
          return [];
        }
        const { request } = answer;
        const refundNo = refundNoFor(answer.merchantId, answer.key);
        const refund = ledger.refunds.find((r) => r.refundNo === refundNo);
        if (answer.body?.['refund_no'] !== refundNo) return [`${answer.key} answered refund ${String(answer.body?.['refund_no'])}, not ${refundNo}`];
        if (refund?.amount !== request.amount || refund.paymentNo !== request.paymentNo) {
          return [`${answer.key} accepted ${request.amount} of ${request.paymentNo}; ${refundNo} is ${refund?.amount} of ${refund?.paymentNo}`];
        }
        return [];
      }),
  },
  {
    name: 'a record is created once: at most one 201 names it',
    when: 'settled',
    check: ({ answers }) => {
      const created = answers
        .filter(isCreateAnswer)
        .filter((a) => a.outcome !== 'killed' && a.status === 201)
        .map((a) => String(a.body?.[a.route === 'payments' ? 'payment_no' : 'refund_no']));
      return [...new Set(created.filter((name, i) => created.indexOf(name) !== i))].map((name) => `${name} was answered 201 more than once`);
    },
  },
];

function accepted(answer: ApiAnswer): boolean {
  return answer.outcome !== 'killed' && answer.status !== undefined && answer.status >= 200 && answer.status < 300;
}

function sumOf<T>(items: readonly T[], of: (item: T) => number): number {
  return items.reduce((total, item) => total + of(item), 0);
}

/** The refund_no each line a purchase gives up would be paid back by (the key the cart's fulfilment gives it). */
function differenceRefundNos(purchase: Purchase): string[] {
  return purchase.items
    .filter((item) => item.amount < 0)
    .map((item) => refundNoFor(purchase.merchantId, payBackRefundKey(purchase.cartId, purchase.attempt, item.itemId)));
}
