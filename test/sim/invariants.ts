import { paymentNoFor } from '../../functions/domain/create-payment.ts';
import type { PaymentRequest } from '../../functions/domain/payment.ts';
import { type RefundRequest, refundNoFor } from '../../functions/domain/refund.ts';
import { type Invariant, type LedgerState, ledgerInvariants } from '../support/invariants/ledger.ts';
import type { ApiAnswer } from './api.ts';
import type { World } from './world.ts';

/** What a history is checked against: the money, what the clients heard, and the world itself. */
export interface SimState {
  readonly ledger: LedgerState;
  readonly answers: readonly ApiAnswer[];
  readonly world: World;
}

const on =
  (invariant: Invariant<LedgerState>): Invariant<SimState> => ({ ...invariant, check: (state) => invariant.check(state.ledger) });

/** The shared money promises, then what only a simulation can see. */
export const simInvariants: readonly Invariant<SimState>[] = [
  ...ledgerInvariants.map(on),
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
      answers.filter(accepted).flatMap((answer) => {
        if (answer.route === 'payments') {
          const request = answer.request as PaymentRequest;
          const paymentNo = paymentNoFor(answer.merchantId, request.orderNo);
          const payment = ledger.payments.find((p) => p.paymentNo === paymentNo);
          if (answer.body?.['payment_no'] !== paymentNo) return [`${answer.key} answered payment ${String(answer.body?.['payment_no'])}, not ${paymentNo}`];
          if (payment?.amount !== request.amount || payment.paymentMethod !== request.paymentMethod) {
            return [`${answer.key} accepted ${request.amount} by ${request.paymentMethod}; ${paymentNo} is ${payment?.amount} by ${payment?.paymentMethod}`];
          }
          return [];
        }
        const request = answer.request as RefundRequest;
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
        .filter((a) => a.outcome !== 'killed' && a.status === 201)
        .map((a) => String(a.body?.[a.route === 'payments' ? 'payment_no' : 'refund_no']));
      return [...new Set(created.filter((name, i) => created.indexOf(name) !== i))].map((name) => `${name} was answered 201 more than once`);
    },
  },
];

function accepted(answer: ApiAnswer): boolean {
  return answer.outcome !== 'killed' && answer.status !== undefined && answer.status >= 200 && answer.status < 300;
}
