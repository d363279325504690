import { classWithSeatsCounted } from '../../../domain/carts/catalog.ts';
import { catalogDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { classView } from './views.ts';
import { classIdOf } from './path-parameters.ts';

/**
 * `GET /v1/classes/{class_id}`: the class with its counters, and `seats_counted`, the hold and
 * student items counted, which the counters must always agree with.
 */
export const handler = apiHandler('GetClass', async ({ event, merchantId }) => {
  const { swimClass, counted } = await classWithSeatsCounted(catalogDeps(), merchantId, classIdOf(event));
  return { status: 200, body: { ...classView(swimClass), seats_counted: { held: counted.held, students: counted.students } } };
});
