import type { APIGatewayProxyEvent } from 'aws-lambda';
import * as z from 'zod';
import type { ClassRequest } from '../../../domain/carts/catalog.ts';
import { type Account, type SwimClass, type Swimmer, isClientId } from '../../../domain/carts/model.ts';
import type { Created, PointsGrant } from '../../../domain/carts/store.ts';
import { ValidationError } from '../../../domain/errors.ts';
import { type ApiResult, bodyText, parseBody } from '../http.ts';
import { currencyCode } from '../payment-schema.ts';
import { minorUnits } from '../refund-schema.ts';

const CLIENT_ID = 'must be 1 to 64 letters, digits, _ or -';

/** A client-given id (class_id, account_id, swimmer_id). */
export const clientId = z.string({ error: CLIENT_ID }).refine(isClientId, CLIENT_ID);

/** A name people read: not blank, at most `max` characters. */
const label = (max: number) =>
  z
    .string()
    .max(max, `must be at most ${max} characters`)
    .refine((value) => value.trim() !== '', 'must not be blank');

/** A whole number of loyalty points: more than 0 (a grant), or 0 or more (what a checkout spends). */
export const wholePoints = (positive: boolean, max: number) => {
  const points = z.number({ error: 'must be a whole number of points' }).int('must be a whole number of points');
  return (positive ? points.positive('must be greater than 0') : points.nonnegative('must be 0 or more')).max(
    max,
    `must be at most ${max}`,
  );
};

/** A path parameter, checked like a body field: a malformed one is 400 naming it, never a lookup. */
export function pathParameter(event: APIGatewayProxyEvent, name: string, valid: (value: string) => boolean, rule: string): string {
  const value = event.pathParameters?.[name];
  if (typeof value !== 'string' || !valid(value)) throw new ValidationError(name, rule);
  return value;
}

export const accountIdOf = (event: APIGatewayProxyEvent) => pathParameter(event, 'account_id', isClientId, CLIENT_ID);
export const classIdOf = (event: APIGatewayProxyEvent) => pathParameter(event, 'class_id', isClientId, CLIENT_ID);

const noFields = z.object({}).strict();

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
export const createClassBody = z
  .object({
    class_id: clientId.optional(),
    name: label(200),
    seats_total: z
      .number({ error: 'must be an integer number of seats' })
      .int('must be an integer number of seats')
      .positive('must be greater than 0')
      .max(10_000, 'must be at most 10000'),
    price: minorUnits(false),
    currency: currencyCode,
  })
  .strict();

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
export const createAccountBody = z
  .object({ account_id: clientId.optional(), email: z.email().max(254).optional() })
  .strict()
  .transform((body) => ({
    ...(body.account_id !== undefined && { accountId: body.account_id }),
    ...(body.email !== undefined && { email: body.email }),
  }));

/** `POST /v1/accounts/{account_id}/swimmers`. */
export const addSwimmerBody = z
  .object({ swimmer_id: clientId.optional(), name: label(200) })
  .strict()
  .transform((body) => ({ ...(body.swimmer_id !== undefined && { swimmerId: body.swimmer_id }), name: body.name }));

/** `POST /v1/accounts/{account_id}/points`. */
export const grantPointsBody = z
  .object({
    amount: wholePoints(true, 1_000_000_000),
    reason: z.string().min(1, 'must not be empty').max(200, 'must be at most 200 characters'),
  })
  .strict();

export function classView(swimClass: SwimClass) {
  return {
    class_id: swimClass.classId,
    name: swimClass.name,
    seats_total: swimClass.seatsTotal,
    seats_remain: swimClass.seatsRemain,
    held: swimClass.seatsHeld,
    students: swimClass.students,
    price: swimClass.price,
    currency: swimClass.currency,
    created_at: swimClass.createdAt,
  };
}

export function accountView(account: Account) {
  return {
    account_id: account.accountId,
    ...(account.email !== undefined && { email: account.email }),
    points_balance: account.pointsBalance,
    points_granted: account.pointsGranted,
    points_spent: account.pointsSpent,
    points_returned: account.pointsReturned,
    ...(account.activeCartId !== undefined && { active_cart_id: account.activeCartId }),
    created_at: account.createdAt,
  };
}

export function swimmerView(swimmer: Swimmer) {
  return { swimmer_id: swimmer.swimmerId, name: swimmer.name, class_ids: [...swimmer.classIds], created_at: swimmer.createdAt };
}

export function grantView(grant: PointsGrant, account: Account) {
  return {
    grant_no: grant.grantNo,
    account_id: grant.accountId,
    amount: grant.amount,
    reason: grant.reason,
    created_at: grant.createdAt,
    points_balance: account.pointsBalance,
  };
}
