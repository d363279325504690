import type { Ledger } from '../../../local/fake-provider/ledger.ts';
import { type Invariant, ledgerOf } from './ledger.ts';

/**
 * What the school's promises are checked against: each class's seat counters with its hold and
 * student items counted, each account's points, each purchase, and the payments and provider
 * ledger that paid for them. Plain data: a simulated world and a running stack (its API's
 * views and `GET /_fake/ledger`) can both be checked.
 */
export interface SchoolState {
  readonly classes: readonly ClassSeats[];
  readonly accounts: readonly AccountPoints[];
  readonly purchases: readonly PurchaseRecord[];
  /** The payments purchases name, as recorded. */
  readonly payments: readonly { readonly paymentNo: string; readonly status: string; readonly amountCaptured: number }[];
  /** Absent where the provider's ledger cannot be read (a deployed stack on Stripe). */
  readonly provider?: Ledger;
}

export interface ClassSeats {
  readonly merchantId: string;
  readonly classId: string;
  readonly seatsTotal: number;
  readonly seatsRemain: number;
  readonly seatsHeld: number;
  readonly students: number;
  /** The hold and student items of the class, counted. */
  readonly counted: { readonly held: number; readonly students: number };
}

export interface AccountPoints {
  readonly merchantId: string;
  readonly accountId: string;
  readonly pointsBalance: number;
  readonly pointsGranted: number;
  readonly pointsSpent: number;
  readonly pointsReturned: number;
}

export interface PurchaseRecord {
  readonly merchantId: string;
  readonly accountId: string;
  readonly purchaseKey: string;
  /** The card payment that paid its card part, if a card paid. */
  readonly paymentNo?: string;
  readonly cardAmount: number;
}

/** Seats and points are never lost or made up; every card purchase was captured once, for its card part. */
export const schoolInvariants: readonly Invariant<SchoolState>[] = [
  {
    name: 'seats_remain + held + students = seats_total, and the counters are the items',
    when: 'always',
    check: ({ classes }) =>
      classes.flatMap((c) => {
        const name = `${c.merchantId}/${c.classId}`;
        const places = [c.seatsRemain, c.seatsHeld, c.students];
        if (places.some((seats) => seats < 0) || places.reduce((a, b) => a + b, 0) !== c.seatsTotal) {
          return [`${name}: ${c.seatsRemain} remain + ${c.seatsHeld} held + ${c.students} students of ${c.seatsTotal}`];
        }
        if (c.counted.held !== c.seatsHeld || c.counted.students !== c.students) {
          return [`${name}: counters ${c.seatsHeld} held, ${c.students} students; items ${c.counted.held} holds, ${c.counted.students} students`];
        }
        return [];
      }),
  },
  {
    name: 'points_granted = points_balance + points_spent - points_returned, the balance never negative',
    when: 'always',
    check: ({ accounts }) =>
      accounts
        .filter((a) => a.pointsBalance < 0 || a.pointsGranted !== a.pointsBalance + a.pointsSpent - a.pointsReturned)
        .map(
          (a) =>
            `${a.merchantId}/${a.accountId}: granted ${a.pointsGranted}, balance ${a.pointsBalance}, spent ${a.pointsSpent}, returned ${a.pointsReturned}`,
        ),
  },
  {
    name: 'every card purchase was paid by a payment that succeeded for its card part, captured once',
    when: 'settled',
    check: ({ purchases, payments, provider }) =>
      purchases.flatMap((purchase) => {
        if (purchase.paymentNo === undefined) {
          // Paid without a charge: wholly by points, in the shop, or a credit.
          return purchase.cardAmount === 0 || purchase.purchaseKey.startsWith('in_store:')
            ? []
            : [`${purchase.purchaseKey}: ${purchase.cardAmount} by card, and no payment`];
        }
        const payment = payments.find((p) => p.paymentNo === purchase.paymentNo);
        if (payment?.status !== 'succeeded' || payment.amountCaptured !== purchase.cardAmount) {
          return [`${purchase.purchaseKey}: ${purchase.cardAmount} by card; payment ${purchase.paymentNo} is ${payment?.status ?? 'missing'} with ${payment?.amountCaptured} captured`];
        }
        if (provider === undefined) return [];
        const captures = provider.paymentIntents.filter((pi) => pi.metadata['payment_no'] === purchase.paymentNo).flatMap((pi) => pi.captures);
        return captures.length === 1 && captures[0]?.amount === purchase.cardAmount
          ? []
          : [`${purchase.purchaseKey}: the provider captured ${JSON.stringify(captures.map((c) => c.amount))} for ${purchase.cardAmount}`];
      }),
  },
];

/** What a running stack's API shows of classes, accounts, purchases and the payments they name. */
export interface SchoolViews {
  readonly classes?: readonly {
    readonly class_id: string;
    readonly seats_total: number;
    readonly seats_remain: number;
    readonly held: number;
    readonly students: number;
    readonly seats_counted: { readonly held: number; readonly students: number };
  }[];
  readonly accounts?: readonly {
    readonly account_id: string;
    readonly points_balance: number;
    readonly points_granted: number;
    readonly points_spent: number;
    readonly points_returned: number;
  }[];
  readonly purchases?: readonly { readonly account_id: string; readonly purchase_key: string; readonly payment_no?: string; readonly card_amount: number }[];
  readonly payments?: readonly { readonly payment_no: string; readonly status: string; readonly amount_captured: number }[];
}

/** The API's views as the school invariants read them; `merchantId` names the merchant whose key read them. */
export function schoolStateOfViews(views: SchoolViews, merchantId: string, provider?: Ledger): SchoolState {
  const payments = (views.payments ?? []).map((p) => ({ paymentNo: p.payment_no, status: p.status, amountCaptured: p.amount_captured }));
  return {
    classes: (views.classes ?? []).map((c) => ({
      merchantId,
      classId: c.class_id,
      seatsTotal: c.seats_total,
      seatsRemain: c.seats_remain,
      seatsHeld: c.held,
      students: c.students,
      counted: c.seats_counted,
    })),
    accounts: (views.accounts ?? []).map((a) => ({
      merchantId,
      accountId: a.account_id,
      pointsBalance: a.points_balance,
      pointsGranted: a.points_granted,
      pointsSpent: a.points_spent,
      pointsReturned: a.points_returned,
    })),
    purchases: (views.purchases ?? []).map((p) => ({
      merchantId,
      accountId: p.account_id,
      purchaseKey: p.purchase_key,
      ...(p.payment_no !== undefined && { paymentNo: p.payment_no }),
      cardAmount: p.card_amount,
    })),
    payments,
    ...(provider !== undefined && { provider: ledgerOf(provider, payments.map((p) => p.paymentNo)) }),
  };
}
