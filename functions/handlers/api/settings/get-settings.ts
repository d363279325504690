import { merchantSettings } from '../../../domain/merchant.ts';
import { settingsDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { refuseUnknownParameters } from '../list-query.ts';
import { settingsView } from './view.ts';

/** `GET /v1/settings`: the caller's own settings, a hold window it never set shown as the deployment's. */
export const handler = apiHandler('GetSettings', async ({ event, merchantId }) => {
  refuseUnknownParameters(event, []);
  return { status: 200, body: settingsView(await merchantSettings(settingsDeps(), merchantId)) };
});
