/**
 * What the API shows, apart from the zod objects of schemas.ts that describe it for the contract:
 * a route that only answers (a GET, the event publisher) then bundles no zod.
 */
import type { EffectiveSettings } from '../../../domain/merchant.ts';
import type { SettingsObject } from './schemas.ts';

export function settingsView(settings: EffectiveSettings): SettingsObject {
  return { object: 'settings', point_value: settings.pointValue, cart_hold_seconds: settings.cartHoldSeconds };
}
