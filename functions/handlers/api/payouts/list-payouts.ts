import { ValidationError } from '../../../domain/errors.ts';
import { isPayoutNo } from '../../../domain/payout.ts';
import { payoutStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { PAGE_PARAMETERS, listBody, pageOf, refuseUnknownParameters } from '../list-query.ts';
import { payoutView } from './payout-view.ts';

/**
 * `GET /v1/payouts?limit=&starting_after=`: the merchant's payouts, newest first, from its own
 * partition only. A cursor that names none of its payouts (another merchant's among them) is a
 * 400 naming `starting_after`.
 */
export const handler = apiHandler('ListPayouts', async ({ event, merchantId }) => {
  const { limit, startingAfter } = pageOf(refuseUnknownParameters(event, PAGE_PARAMETERS), 'a payout');
  const payouts = payoutStore();
  const after = startingAfter === undefined || !isPayoutNo(startingAfter) ? undefined : await payouts.get(startingAfter);
  if (startingAfter !== undefined && after?.merchantId !== merchantId) {
    throw new ValidationError('starting_after', `names no payout of yours: ${startingAfter}`);
  }
  const page = await payouts.list(merchantId, { limit, ...(after !== undefined && { startingAfter: after }) });
  return { status: 200, body: listBody('/v1/payouts', page, payoutView) };
});
