import { createClass } from '../../../domain/carts/catalog.ts';
import { catalogDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { createClassBody, createdAnswer, toClassRequest } from './schemas.ts';
import { classView } from './views.ts';

/**
 * `POST /v1/classes`: 201 with a new class, all its seats remaining; 200 with the class a
 * repeated class_id names when its fields are the same; 409 `already_exists` when they are not.
 */
export const handler = apiHandler('CreateClass', async ({ event, merchantId }) => {
  const request = toClassRequest(parseBody(event, createClassBody));
  return createdAnswer(await createClass(catalogDeps(), merchantId, request), classView);
});
