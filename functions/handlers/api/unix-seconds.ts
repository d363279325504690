/** An instant in Unix seconds, as Stripe-shaped objects (payouts, balance transactions, events) show their times. */
export const unixSeconds = (iso: string): number => Math.floor(Date.parse(iso) / 1000);
