import { openCart } from '../../functions/domain/carts/cart.ts';
import { accountOf, addSwimmer, createAccount, createClass, grantPoints } from '../../functions/domain/carts/catalog.ts';
import { checkout, confirmInStore, giveUpCart } from '../../functions/domain/carts/checkout.ts';
import { addItem, removeItem } from '../../functions/domain/carts/lines.ts';
import type { Currency } from '../../functions/domain/money.ts';
import { parseBody } from '../../functions/handlers/api/parse-body.ts';
import { addItemBody, checkoutBody, checkoutParameters } from '../../functions/handlers/api/carts/schemas.ts';
import { cartAnswer, cartView } from '../../functions/handlers/api/carts/views.ts';
import { cartIdOf, itemIdOf } from '../../functions/handlers/api/carts/path-parameters.ts';
import { addSwimmerBody, createAccountBody, createClassBody, createdAnswer, grantPointsBody, parseEmptyBody, toClassRequest } from '../../functions/handlers/api/school/schemas.ts';
import { accountView, classView, grantView, swimmerView } from '../../functions/handlers/api/school/views.ts';
import { accountIdOf } from '../../functions/handlers/api/school/path-parameters.ts';
import { type Api, jsonEvent } from './api.ts';
import { schoolDeps } from './school.ts';
import type { Actor } from './scheduler.ts';

export interface ClassOrder {
  readonly merchantId: string;
  readonly classId: string;
  readonly seatsTotal: number;
  readonly price: number;
  readonly currency: Currency;
}

/** What a cart route is sent: its path's ids and its JSON body. */
export interface CartOrder {
  readonly merchantId: string;
  readonly cartId: string;
  readonly body?: object;
}

/**
 * The school's and the carts' routes as their handlers run them: the route's own parsing of
 * path and body, the idempotency layer on the routes that require an Idempotency-Key (points,
 * checkout), then the domain's use case on the ports of the request's Lambda.
 */
export class CartApi {
  constructor(private readonly api: Api) {}

  /** `POST /v1/classes`. */
  createClass(order: ClassOrder): Actor {
    const body = { class_id: order.classId, name: order.classId, seats_total: order.seatsTotal, price: order.price, currency: order.currency };
    return this.route('classes', order.merchantId, body, () => toClassRequest(parseBody(jsonEvent(body), createClassBody)), async (deps, request) =>
      createdAnswer(await createClass(deps, order.merchantId, request), classView),
    );
  }

  /** `POST /v1/accounts`. */
  createAccount(merchantId: string, accountId: string): Actor {
    const body = { account_id: accountId };
    return this.route('accounts', merchantId, body, () => parseBody(jsonEvent(body), createAccountBody), async (deps, request) =>
      createdAnswer(await createAccount(deps, merchantId, request), accountView),
    );
  }

  /** `POST /v1/accounts/{account_id}/swimmers`. */
  addSwimmer(merchantId: string, accountId: string, swimmerId: string): Actor {
    const body = { swimmer_id: swimmerId, name: swimmerId };
    const event = jsonEvent(body, { account_id: accountId });
    return this.route(
      'swimmers',
      merchantId,
      body,
      () => ({ accountId: accountIdOf(event), ...parseBody(event, addSwimmerBody) }),
      async (deps, { accountId: account, ...request }) => createdAnswer(await addSwimmer(deps, merchantId, account, request), swimmerView),
    );
  }

  /** `POST /v1/accounts/{account_id}/points` with an Idempotency-Key. */
  grantPoints(merchantId: string, accountId: string, amount: number, headerKey: string): Actor {
    const body = { amount, reason: 'simulated grant' };
    const event = jsonEvent(body, { account_id: accountId });
    const key = `header:${headerKey}`;
    return this.api.call({
      route: 'points',
      fn: 'grant-points',
      merchantId,
      request: { accountId, ...body },
      key,
      parse: () => ({ accountId: accountIdOf(event), ...parseBody(event, grantPointsBody) }),
      parameters: ({ accountId: account, amount: points, reason }) => ({ account_id: account, amount: points, reason }),
      run: async (ports, { accountId: account, ...request }, actor) => {
        const deps = schoolDeps(this.api.world, actor, ports, false);
        const { created, value: grant } = await grantPoints(deps, merchantId, account, request, key);
        return { status: created ? 201 : 200, body: grantView(grant, await accountOf(deps, merchantId, account)) };
      },
    });
  }

  /** `POST /v1/accounts/{account_id}/cart`. */
  openCart(merchantId: string, accountId: string): Actor {
    const event = jsonEvent(undefined, { account_id: accountId });
    return this.route(
      'open cart',
      merchantId,
      { accountId },
      () => {
        parseEmptyBody(event);
        return accountIdOf(event);
      },
      async (deps, account) => createdAnswer(await openCart(deps, merchantId, account), cartView),
    );
  }

  /** `POST /v1/carts/{cart_id}/items`. */
  addItem(order: CartOrder): Actor {
    const event = jsonEvent(order.body, { cart_id: order.cartId });
    return this.route(
      'add item',
      order.merchantId,
      order,
      () => ({ cartId: cartIdOf(event), item: parseBody(event, addItemBody) }),
      async (deps, { cartId, item }) => cartAnswer(await addItem(deps, order.merchantId, cartId, item)),
    );
  }

  /** `DELETE /v1/carts/{cart_id}/items/{item_id}`. */
  removeItem(order: CartOrder & { readonly itemId: string }): Actor {
    const event = jsonEvent(undefined, { cart_id: order.cartId, item_id: order.itemId });
    return this.route(
      'remove item',
      order.merchantId,
      order,
      () => ({ cartId: cartIdOf(event), itemId: itemIdOf(event) }),
      async (deps, { cartId, itemId }) => cartAnswer(await removeItem(deps, order.merchantId, cartId, itemId)),
    );
  }

  /** `POST /v1/carts/{cart_id}/checkout` with an Idempotency-Key. */
  checkout(order: CartOrder & { readonly headerKey: string }): Actor {
    const event = jsonEvent(order.body, { cart_id: order.cartId });
    return this.api.call({
      route: 'checkout',
      fn: 'checkout',
      merchantId: order.merchantId,
      request: order,
      key: `header:${order.headerKey}`,
      parse: () => ({ cartId: cartIdOf(event), request: parseBody(event, checkoutBody) }),
      parameters: ({ cartId, request }) => checkoutParameters(cartId, request),
      run: async (ports, { cartId, request }, actor) =>
        cartAnswer(await checkout(schoolDeps(this.api.world, actor, ports, true), order.merchantId, cartId, request), 202),
    });
  }

  /** `POST /v1/carts/{cart_id}/confirm-in-store`. */
  confirmInStore(order: CartOrder): Actor {
    return this.cartAction('confirm in store', order, async (deps, cartId) => cartAnswer(await confirmInStore(deps, order.merchantId, cartId)));
  }

  /** `POST /v1/carts/{cart_id}/cancel`. */
  cancel(order: CartOrder): Actor {
    return this.cartAction('cancel cart', order, async (deps, cartId) => cartAnswer(await giveUpCart(deps, order.merchantId, cartId)));
  }

  /** A route whose path names the cart and whose body is empty. */
  private cartAction(route: string, order: CartOrder, run: Run<string>): Actor {
    const event = jsonEvent(undefined, { cart_id: order.cartId });
    return this.route(
      route,
      order.merchantId,
      order,
      () => {
        parseEmptyBody(event);
        return cartIdOf(event);
      },
      run,
    );
  }

  /** A route without the idempotency layer; the use case gets the deps a checkout route's Lambda builds. */
  private route<I>(route: string, merchantId: string, request: unknown, parse: () => I, run: Run<I>): Actor {
    return this.api.call({
      route,
      fn: route.replaceAll(' ', '-'),
      merchantId,
      request,
      describe: JSON.stringify(request),
      parse,
      run: (ports, input, actor) => run(schoolDeps(this.api.world, actor, ports, true), input),
    });
  }
}

type Run<I> = (deps: ReturnType<typeof schoolDeps>, input: I) => Promise<{ readonly status: number; readonly body: unknown }>;
