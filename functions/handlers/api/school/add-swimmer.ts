import { addSwimmer } from '../../../domain/carts/catalog.ts';
import { catalogDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { addSwimmerBody, createdAnswer } from './schemas.ts';
import { swimmerView } from './views.ts';
import { accountIdOf } from './path-parameters.ts';

/** `POST /v1/accounts/{account_id}/swimmers`: 201 with a new swimmer; 200 for a repeated swimmer_id with the same name. */
export const handler = apiHandler('AddSwimmer', async ({ event, merchantId }) => {
  const accountId = accountIdOf(event);
  const request = parseBody(event, addSwimmerBody);
  const result = await addSwimmer(catalogDeps(), merchantId, accountId, request);
  return createdAnswer(result, (swimmer) => ({ account_id: accountId, ...swimmerView(swimmer) }));
});
