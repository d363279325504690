/**
 * What the API shows, apart from the zod objects of schemas.ts that describe it for the contract:
 * a route that only answers (a GET, the event publisher) then bundles no zod.
 */
import type { Account, SwimClass, Swimmer } from '../../../domain/carts/model.ts';
import type { PointsGrant } from '../../../domain/carts/store.ts';
import type { AccountObject, ClassObject, GrantObject, SwimmerObject } from './schemas.ts';

export function classView(swimClass: SwimClass): ClassObject {
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

export function accountView(account: Account): AccountObject {
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

export function swimmerView(swimmer: Swimmer): SwimmerObject {
  return { swimmer_id: swimmer.swimmerId, name: swimmer.name, class_ids: [...swimmer.classIds], created_at: swimmer.createdAt };
}

export function grantView(grant: PointsGrant, account: Account): GrantObject {
  return {
    grant_no: grant.grantNo,
    account_id: grant.accountId,
    amount: grant.amount,
    reason: grant.reason,
    created_at: grant.createdAt,
    points_balance: account.pointsBalance,
  };
}
