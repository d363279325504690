import { changeSettings } from '../../../domain/merchant.ts';
import { settingsDeps } from '../../shared/school.ts';
import { apiHandler } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { toSettingsChange, updateSettingsBody } from './schemas.ts';
import { settingsView } from './view.ts';

/**
 * `POST /v1/settings`: changes the settings the body names, the caller's own only; a value out
 * of range is 400 naming its field, nothing changed. 200 with all the settings after the change.
 * Cart routes keep a merchant's settings for a minute (shared/school.ts): a change reaches every
 * cart within one.
 */
export const handler = apiHandler('UpdateSettings', async ({ event, merchantId }) => {
  const change = toSettingsChange(parseBody(event, updateSettingsBody));
  return { status: 200, body: settingsView(await changeSettings(settingsDeps(), merchantId, change)) };
});
