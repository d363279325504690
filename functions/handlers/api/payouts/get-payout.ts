import { NotFoundError } from '../../../domain/errors.ts';
import { isPayoutNo } from '../../../domain/payout.ts';
import { payoutStore } from '../../shared/persistence.ts';
import { apiHandler } from '../http.ts';
import { payoutView } from './payout-view.ts';

/** `GET /v1/payouts/{payout_no}`: another merchant's payout is as absent as a missing one. */
export const handler = apiHandler('GetPayout', async ({ event, merchantId }) => {
  const payoutNo = event.pathParameters?.payout_no ?? '';
  const payout = isPayoutNo(payoutNo) ? await payoutStore().get(payoutNo) : undefined;
  if (!payout || payout.merchantId !== merchantId) throw new NotFoundError(`no payout ${payoutNo}`, { field: 'payout_no' });
  return { status: 200, body: payoutView(payout) };
});
