import { AlreadyRegisteredError, NotFoundError, NotRegisteredError, SoldOutError } from '../errors.ts';
import { classOf } from './catalog.ts';
import { type CartDeps, assertEditable, cartOf, holdSecondsFor, later } from './cart.ts';
import { commit } from './commit.ts';
import { type Cart, type CartItem, CartItemAction, type SeatHold, type Student, itemIdFor, seatGivenUp } from './model.ts';
import { cartRefused, lineRefused, unexplained } from './refusals.ts';
import type { CartEdit } from './store.ts';

/**
 * A cart's lines: what the customer adds (a seat held for a register or a change, a seat named
 * to give up for a cancel) and removes, each with its seats moved in the same commit.
 */

export type ItemRequest =
  | { readonly action: 'register'; readonly swimmerId: string; readonly classId: string }
  | { readonly action: 'cancel'; readonly swimmerId: string; readonly classId: string }
  | { readonly action: 'change'; readonly swimmerId: string; readonly fromClassId: string; readonly toClassId: string };

/**
 * Adds an item: a register or change holds a seat at once (refused `sold_out`,
 * `already_registered`); a cancel only records that the seat is given up at checkout. The same
 * item twice is a repeat and answers with the cart.
 */
export async function addItem(deps: CartDeps, merchantId: string, cartId: string, request: ItemRequest): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  assertEditable(cart);
  const classId = request.action === 'change' ? request.toClassId : request.classId;
  const itemId = itemIdFor(request.action, request.swimmerId, classId);
  if (cart.items.some((item) => item.itemId === itemId)) return cart;
  const givesUp = seatGivenUp({ action: request.action, classId, ...(request.action === 'change' && { fromClassId: request.fromClassId }) });
  if (givesUp !== undefined && cart.items.some((line) => line.swimmerId === request.swimmerId && seatGivenUp(line) === givesUp)) {
    // A seat is given up once: a second line giving it up (two edits racing past this read
    // are stopped at checkout) could never be fulfilled.
    throw new AlreadyRegisteredError(
      request.action === 'change' ? 'from_class_id' : 'class_id',
      `cart ${cartId} already gives up swimmer ${request.swimmerId}'s seat in class ${givesUp}`,
    );
  }
  const [swimClass, holdSeconds] = await Promise.all([
    classOf(deps, merchantId, classId, request.action === 'change' ? 'to_class_id' : 'class_id'),
    holdSecondsFor(deps, merchantId),
  ]);
  const now = deps.clock();
  const edit: CartEdit = {
    merchantId,
    cartId,
    now: now.toISOString(),
    holdsExpireAt: later(now, holdSeconds),
    currency: swimClass.currency,
  };
  try {
    if (request.action === CartItemAction.Register) {
      const item: CartItem = {
        itemId,
        action: 'register',
        swimmerId: request.swimmerId,
        classId,
        amount: swimClass.price,
        seatPrice: swimClass.price,
        heldAt: edit.now,
      };
      await holdSeat(deps, edit, cart.accountId, item, holdDueAt(deps, now, holdSeconds));
    } else if (request.action === CartItemAction.Change) {
      if (request.fromClassId === request.toClassId) {
        throw new AlreadyRegisteredError('to_class_id', 'the swimmer is already in this class');
      }
      const seat = await seatOf(deps, merchantId, request.fromClassId, cart.accountId, request.swimmerId, 'from_class_id');
      const item: CartItem = {
        itemId,
        action: 'change',
        swimmerId: request.swimmerId,
        classId,
        fromClassId: request.fromClassId,
        amount: swimClass.price - seat.paid,
        seatPrice: swimClass.price,
        paidBy: seat.purchaseKey,
        heldAt: edit.now,
      };
      await holdSeat(deps, edit, cart.accountId, item, holdDueAt(deps, now, holdSeconds));
    } else {
      const seat = await seatOf(deps, merchantId, classId, cart.accountId, request.swimmerId, 'class_id');
      const item: CartItem = {
        itemId,
        action: 'cancel',
        swimmerId: request.swimmerId,
        classId,
        amount: -seat.paid,
        paidBy: seat.purchaseKey,
      };
      await addCancel(deps, { ...edit, holdsExpireAt: undefined }, cart.accountId, item);
    }
  } catch (error) {
    // The same item added by a concurrent repeat: that repeat's cart is this one's answer.
    if (!(error instanceof AlreadyRegisteredError)) throw error;
    const now = await cartOf(deps, merchantId, cartId);
    if (now.items.some((item) => item.itemId === itemId)) return now;
    throw error;
  }
  return cartOf(deps, merchantId, cartId);
}

/**
 * register / change, in one commit: the line added (the cart `pending`), a seat of
 * `item.classId` from remaining to held, the hold written; provided the swimmer exists, is not
 * already the class's student, (change) is a student of `item.fromClassId`, and the line is
 * not in the cart yet. `holdDueAt`: when the schedule checks the hold's cart ended.
 */
async function holdSeat(deps: CartDeps, edit: CartEdit, accountId: string, item: CartItem, holdDueAt: string): Promise<void> {
  const { merchantId, cartId } = edit;
  const { classId, swimmerId } = item;
  const classField = item.action === CartItemAction.Change ? 'to_class_id' : 'class_id';
  const hold: SeatHold = { classId, cartId, accountId, swimmerId, itemId: item.itemId, heldAt: item.heldAt ?? edit.now };
  const what = `hold of a seat in class ${classId}`;
  const refused = await commit(deps, what, {
    cart: { kind: 'addLine', edit, item },
    class: { kind: 'moveSeat', merchantId, classId, from: 'seatsRemain', to: 'seatsHeld' },
    hold: { kind: 'putHold', merchantId, hold, dueAt: holdDueAt },
    student: { kind: 'requireStudent', merchantId, classId, accountId, swimmerId, present: false },
    swimmer: { kind: 'requireSwimmer', merchantId, accountId, swimmerId },
    fromStudent:
      item.fromClassId === undefined
        ? undefined
        : { kind: 'requireStudent', merchantId, classId: item.fromClassId, accountId, swimmerId, present: true },
  });
  if (!refused) return;
  if (refused.cart) throw lineRefused(edit, item, refused.cart.current);
  if (refused.swimmer) throw new NotFoundError(`no swimmer ${swimmerId} in account ${accountId}`, { field: 'swimmer_id' });
  if (refused.class && !refused.class.current) throw new NotFoundError(`no class ${classId}`, { field: classField });
  if (refused.student) throw new AlreadyRegisteredError('swimmer_id', `swimmer ${swimmerId} is already in class ${classId}`);
  if (refused.hold) {
    throw new AlreadyRegisteredError('swimmer_id', `cart ${cartId} already holds a seat in class ${classId} for swimmer ${swimmerId}`);
  }
  if (refused.fromStudent) throw new NotRegisteredError('from_class_id', `swimmer ${swimmerId} is not in class ${item.fromClassId}`);
  if (refused.class) throw new SoldOutError(classField, `class ${classId} has no seat left`);
  throw unexplained(what, refused);
}

/** cancel: the line added, provided the swimmer is still the class's student. */
async function addCancel(deps: CartDeps, edit: CartEdit, accountId: string, item: CartItem): Promise<void> {
  const { merchantId } = edit;
  const { classId, swimmerId } = item;
  const what = `cancel of class ${classId}`;
  const refused = await commit(deps, what, {
    cart: { kind: 'addLine', edit, item },
    student: { kind: 'requireStudent', merchantId, classId, accountId, swimmerId, present: true },
  });
  if (!refused) return;
  if (refused.cart) throw lineRefused(edit, item, refused.cart.current);
  if (refused.student) throw new NotRegisteredError('class_id', `swimmer ${swimmerId} is not in class ${classId}`);
  throw unexplained(what, refused);
}

/** Removes an item; a held seat goes back to the class at once. */
export async function removeItem(deps: CartDeps, merchantId: string, cartId: string, itemId: string): Promise<Cart> {
  const cart = await cartOf(deps, merchantId, cartId);
  assertEditable(cart);
  const item = cart.items.find((i) => i.itemId === itemId);
  const missing = () => new NotFoundError(`cart ${cartId} has no item ${itemId}`, { field: 'item_id' });
  if (!item) throw missing();
  const holdsSeat = item.action !== CartItemAction.Cancel;
  const { classId, swimmerId } = item;
  const what = `release of item ${itemId}`;
  const refused = await commit(deps, what, {
    cart: { kind: 'removeLine', merchantId, cartId, itemId, now: deps.clock().toISOString() },
    hold: holdsSeat ? { kind: 'deleteHold', merchantId, classId, cartId, swimmerId } : undefined,
    class: holdsSeat ? { kind: 'moveSeat', merchantId, classId, from: 'seatsHeld', to: 'seatsRemain' } : undefined,
  });
  if (!refused) return cartOf(deps, merchantId, cartId);
  if (refused.cart) throw cartRefused(merchantId, cartId, refused.cart.current) ?? missing();
  throw unexplained(what, refused);
}

/** The swimmer's seat in a class: what it was paid, and by which purchase, is what giving it up pays back. */
async function seatOf(
  deps: CartDeps,
  merchantId: string,
  classId: string,
  accountId: string,
  swimmerId: string,
  field: string,
): Promise<Student> {
  const student = await deps.store.getStudent(merchantId, classId, accountId, swimmerId);
  if (!student) throw new NotRegisteredError(field, `swimmer ${swimmerId} is not registered in class ${classId}`);
  return student;
}

/** The hold's own backstop: past its cart's lifetime, the schedule checks that the cart still wants it. */
function holdDueAt(deps: CartDeps, now: Date, holdSeconds: number): string {
  return later(now, holdSeconds + deps.reconcileAfterSeconds);
}
