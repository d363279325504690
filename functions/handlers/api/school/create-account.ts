import { createAccount } from '../../../domain/carts/catalog.ts';
import { catalogDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { createAccountBody, createdAnswer } from './schemas.ts';
import { accountView } from './views.ts';

/** `POST /v1/accounts`: 201 with a new account, no points; 200 for a repeated account_id with the same email. */
export const handler = apiHandler('CreateAccount', async ({ event, merchantId }) =>
  createdAnswer(await createAccount(catalogDeps(), merchantId, parseBody(event, createAccountBody)), accountView),
);
