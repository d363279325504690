import { invalidParameter } from './api-error.ts';

/**
 * What Stripe will charge, by its currency documentation ("Supported currencies", "Minimum
 * and maximum charge amounts"): the presentment currencies of a US account, and the minimum
 * of each settlement currency in minor units (for other currencies Stripe converts to the
 * settlement currency first, which the fake cannot; it applies no minimum there). The fake
 * keeps its own copy, on purpose: a product that learned these numbers wrong must be refused
 * here as Stripe would refuse it.
 */
const SUPPORTED_CURRENCIES = new Set(
  (
    'usd aed afn all amd ang aoa ars aud awg azn bam bbd bdt bgn bif bmd bnd bob brl bsd bwp byn bzd cad cdf chf clp ' +
    'cny cop crc cve czk djf dkk dop dzd egp etb eur fjd fkp gbp gel gip gmd gnf gtq gyd hkd hnl htg huf idr ils inr ' +
    'isk jmd jpy kes kgs khr kmf krw kyd kzt lak lbp lkr lrd lsl mad mdl mga mkd mmk mnt mop mur mvr mwk mxn myr mzn ' +
    'nad ngn nio nok npr nzd pab pen pgk php pkr pln pyg qar ron rsd rub rwf sar sbd scr sek sgd shp sle sos srd std ' +
    'szl thb tjs top try ttd twd tzs uah ugx uyu uzs vnd vuv wst xaf xcd xof xpf yer zar zmw'
  ).split(' '),
);

const MINIMUM_AMOUNTS: Readonly<Record<string, number>> = {
  usd: 50, aed: 200, aud: 50, bgn: 100, brl: 50, cad: 50, chf: 50, czk: 1500, dkk: 250, eur: 50, gbp: 30, hkd: 400,
  huf: 17500, inr: 50, jpy: 50, mxn: 1000, myr: 200, nok: 300, nzd: 50, pln: 200, ron: 200, sek: 300, sgd: 50, thb: 1000,
};

/** Eight digits: $999,999.99 in a two-decimal currency. */
const MAXIMUM_AMOUNT = 99_999_999;

/** Refuses a charge Stripe would refuse for its currency or its amount, with Stripe's codes, as parameter validation. */
export function checkChargeable(amount: number, currency: string): void {
  if (!SUPPORTED_CURRENCIES.has(currency)) {
    throw invalidParameter(`Invalid currency: ${currency}. Stripe currently supports these currencies: ${[...SUPPORTED_CURRENCIES].join(', ')}`, {
      param: 'currency',
    });
  }
  const minimum = MINIMUM_AMOUNTS[currency] ?? 1;
  if (amount < minimum) {
    throw invalidParameter(`Amount must be at least ${minimum} ${currency} (in the currency's smallest unit).`, { code: 'amount_too_small', param: 'amount' });
  }
  if (amount > MAXIMUM_AMOUNT) {
    throw invalidParameter(`Amount must be no more than ${MAXIMUM_AMOUNT} ${currency} (in the currency's smallest unit).`, { code: 'amount_too_large', param: 'amount' });
  }
}
