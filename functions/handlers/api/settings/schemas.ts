import * as z from '../../shared/zod.ts';
import { SETTINGS_BOUNDS, type SettingsChange } from '../../../domain/merchant.ts';

const bounded = ({ min, max }: { readonly min: number; readonly max: number }, unit: string) =>
  z
    .number({ error: `must be a whole number of ${unit}` })
    .check(z.int(`must be a whole number of ${unit}`), z.gte(min, `must be at least ${min}`), z.lte(max, `must be at most ${max}`));

/** `POST /v1/settings`: the settings to change, each optional; those left out keep their value. */
export const updateSettingsBody = z.strictObject({
  point_value: z.optional(bounded(SETTINGS_BOUNDS.pointValue, 'minor units')),
  cart_hold_seconds: z.optional(bounded(SETTINGS_BOUNDS.cartHoldSeconds, 'seconds')),
});

export function toSettingsChange(body: z.infer<typeof updateSettingsBody>): SettingsChange {
  return {
    ...(body.point_value !== undefined && { pointValue: body.point_value }),
    ...(body.cart_hold_seconds !== undefined && { cartHoldSeconds: body.cart_hold_seconds }),
  };
}

/** The merchant's settings as the API shows them (`settingsView`). */
export const settingsObject = z.strictObject({
  object: z.literal('settings'),
  /** Minor units one loyalty point is worth at checkout. */
  point_value: z.int(),
  /** How long a cart holds its seats. */
  cart_hold_seconds: z.int(),
});

/** What {@link settingsObject} describes. */
export type SettingsObject = z.infer<typeof settingsObject>;
