import { settleCartOfPayment } from '../../domain/carts/checkout.ts';
import { settlementDeps } from '../shared/school.ts';
import { sagaStepHandler } from './step.ts';

/** After a cart's payment succeeded or failed: the cart applied and fulfilled, or reopened. */
export const handler = sagaStepHandler('SettleCart', settlementDeps, async (deps, state) => {
  if (state.cart_id !== undefined) await settleCartOfPayment(deps, state.payment_no, state.cart_id);
  return state;
});
