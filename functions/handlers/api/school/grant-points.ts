import { accountOf, grantPoints } from '../../../domain/carts/catalog.ts';
import { catalogDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { type CreateRoute, REPLAYED_HEADER, idempotentRoute } from '../idempotent-route.ts';
import { grantPointsBody } from './schemas.ts';
import { grantView } from './views.ts';
import { accountIdOf } from './path-parameters.ts';

type GrantInput = { readonly accountId: string; readonly amount: number; readonly reason: string };

const pointsGrant: CreateRoute<GrantInput> = {
  scope: 'points',
  parse: (event) => ({ accountId: accountIdOf(event), ...parseBody(event, grantPointsBody) }),
  // No defaultKey: a grant has no natural key of its own, so the header is required.
  parameters: ({ accountId, amount, reason }) => ({ account_id: accountId, amount, reason }),
  async run({ accountId, amount, reason }, { merchantId }, key) {
    const deps = catalogDeps();
    const { created, value: grant } = await grantPoints(deps, merchantId, accountId, { amount, reason }, key);
    const body = grantView(grant, await accountOf(deps, merchantId, accountId));
    // The key granted before its record lapsed: the same grant, not a second one.
    return created ? { status: 201, body } : { status: 200, body, headers: { [REPLAYED_HEADER]: 'true' } };
  },
};

/**
 * `POST /v1/accounts/{account_id}/points` with a required Idempotency-Key: 201 with the grant
 * and the balance after it; a repeat answers 200 with the first answer and `Idempotent-Replayed: true`.
 */
export const handler = apiHandler('GrantPoints', idempotentRoute(pointsGrant));
