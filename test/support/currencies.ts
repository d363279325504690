import type { Currency } from '../../functions/domain/money.ts';

/** The currency most tests charge in. */
export const USD = 'USD' as Currency;
