import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from '../../shared/zod.ts';
import type { ClassRequest } from '../../../domain/carts/catalog.ts';
import { isClientId } from '../../../domain/carts/model.ts';
import type { Created } from '../../../domain/carts/store.ts';
import { type ApiResult, bodyText } from '../http.ts';
import { parseBody } from '../parse-body.ts';
import { currencyCode } from '../payment-schema.ts';
import { minorUnits } from '../refund-schema.ts';
import { currencyOut, isoInstant, minorAmount } from '../response-schema.ts';
import { CLIENT_ID } from './path-parameters.ts';

/** A client-given id (class_id, account_id, swimmer_id). */
export const clientId = z.string({ error: CLIENT_ID }).check(z.refine(isClientId, CLIENT_ID));

/** A name people read: not blank, at most `max` characters. */
const label = (max: number) =>
  z.string().check(
    z.maxLength(max, `must be at most ${max} characters`),
    z.refine((value) => value.trim() !== '', 'must not be blank'),
  );

/** A whole number of loyalty points: more than 0 (a grant), or 0 or more (what a checkout spends). */
export const wholePoints = (positive: boolean, max: number) =>
  z
    .number({ error: 'must be a whole number of points' })
    .check(
      z.int('must be a whole number of points'),
      positive ? z.positive('must be greater than 0') : z.nonnegative('must be 0 or more'),
      z.lte(max, `must be at most ${max}`),
    );

const noFields = z.strictObject({});

/** A route whose path says it all: no body, or `{}`; anything else is 400. */
export function parseEmptyBody(event: APIGatewayProxyEvent): void {
  const text = bodyText(event);
  if (text === null || text === undefined || text.trim() === '') return;
  parseBody(event, noFields);
}

/** 201 with what was just made, 200 with what the id already named. */
export function createdAnswer<T>(result: Created<T>, view: (value: T) => unknown): ApiResult {
  return { status: result.created ? 201 : 200, body: view(result.value) };
}

/** `POST /v1/classes`. */
export const createClassBody = z.strictObject({
  class_id: z.optional(clientId),
  name: label(200),
  seats_total: z
    .number({ error: 'must be an integer number of seats' })
    .check(z.int('must be an integer number of seats'), z.positive('must be greater than 0'), z.lte(10_000, 'must be at most 10000')),
  price: minorUnits(false),
  currency: currencyCode,
});

export function toClassRequest(body: z.infer<typeof createClassBody>): ClassRequest {
  return {
    ...(body.class_id !== undefined && { classId: body.class_id }),
    name: body.name,
    seatsTotal: body.seats_total,
    price: body.price,
    currency: body.currency,
  };
}

/** `POST /v1/accounts`. */
export const createAccountBody = z.pipe(
  z.strictObject({ account_id: z.optional(clientId), email: z.optional(z.email().check(z.maxLength(254))) }),
  z.transform((body: { account_id?: string | undefined; email?: string | undefined }) => ({
    ...(body.account_id !== undefined && { accountId: body.account_id }),
    ...(body.email !== undefined && { email: body.email }),
  })),
);

/** `POST /v1/accounts/{account_id}/swimmers`. */
export const addSwimmerBody = z.pipe(
  z.strictObject({ swimmer_id: z.optional(clientId), name: label(200) }),
  z.transform((body: { swimmer_id?: string | undefined; name: string }) => ({
    ...(body.swimmer_id !== undefined && { swimmerId: body.swimmer_id }),
    name: body.name,
  })),
);

/** `POST /v1/accounts/{account_id}/points`. */
export const grantPointsBody = z.strictObject({
  amount: wholePoints(true, 1_000_000_000),
  reason: z.string().check(z.minLength(1, 'must not be empty'), z.maxLength(200, 'must be at most 200 characters')),
});

/** A class as the API shows it (`classView`). */
export const classObject = z.strictObject({
  class_id: z.string(),
  name: z.string(),
  seats_total: z.int(),
  seats_remain: z.int(),
  held: z.int(),
  students: z.int(),
  price: minorAmount,
  currency: currencyOut,
  created_at: isoInstant,
});

/** `GET /v1/classes/{class_id}`: the class, and its hold and student items counted. */
export const classWithCounts = z.extend(classObject, { seats_counted: z.strictObject({ held: z.int(), students: z.int() }) });

/** An account as the API shows it (`accountView`). */
export const accountObject = z.strictObject({
  account_id: z.string(),
  email: z.optional(z.string()),
  points_balance: z.int(),
  points_granted: z.int(),
  points_spent: z.int(),
  points_returned: z.int(),
  active_cart_id: z.optional(z.string()),
  created_at: isoInstant,
});

/** A swimmer as the API shows it (`swimmerView`). */
export const swimmerObject = z.strictObject({ swimmer_id: z.string(), name: z.string(), class_ids: z.array(z.string()), created_at: isoInstant });

/** `GET /v1/accounts/{account_id}`: the account with its swimmers. */
export const accountWithSwimmers = z.extend(accountObject, { swimmers: z.array(swimmerObject) });

/** `POST /v1/accounts/{account_id}/swimmers`: the swimmer, and whose it is. */
export const accountSwimmer = z.extend(swimmerObject, { account_id: z.string() });

/** A points grant, with the account's balance after it (`grantView`). */
export const grantObject = z.strictObject({
  grant_no: z.string(),
  account_id: z.string(),
  amount: z.int(),
  reason: z.string(),
  created_at: isoInstant,
  points_balance: z.int(),
});

/** What {@link classObject} describes. */
export type ClassObject = z.infer<typeof classObject>;

/** What {@link accountObject} describes. */
export type AccountObject = z.infer<typeof accountObject>;

/** What {@link swimmerObject} describes. */
export type SwimmerObject = z.infer<typeof swimmerObject>;

/** What {@link grantObject} describes. */
export type GrantObject = z.infer<typeof grantObject>;
