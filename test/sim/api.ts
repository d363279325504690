import { idempotencyLeaseSeconds, idempotencyWaitMs } from '../../functions/config/env.ts';
import { createPayment } from '../../functions/domain/create-payment.ts';
import { ChargeonceError } from '../../functions/domain/errors.ts';
import { withFinishedKeyCache } from '../../functions/domain/finished-key-cache.ts';
import { type IdempotencyStore, type StoredResponse, runIdempotently } from '../../functions/domain/idempotency.ts';
import type { Currency } from '../../functions/domain/money.ts';
import { CaptureMethod, type PaymentRequest } from '../../functions/domain/payment.ts';
import { type CaptureRequest, decideCapture } from '../../functions/domain/manual-capture.ts';
import { type RefundRequest, createRefund, derivedRefundKey } from '../../functions/domain/refund.ts';
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { parseBody } from '../../functions/handlers/api/parse-body.ts';
import { capturePaymentBody, createPaymentBody, paymentParameters, toPaymentRequest } from '../../functions/handlers/api/payment-schema.ts';
import { paymentView } from '../../functions/handlers/api/payment-view.ts';
import { createRefundBody, refundParameters, toRefundRequest } from '../../functions/handlers/api/refund-schema.ts';
import { refundView } from '../../functions/handlers/api/refund-view.ts';
import type { Ports } from './gated-ports.ts';
import { type Actor, Killed } from './scheduler.ts';
import type { World } from './world.ts';

/** What a client saw of one of its requests. */
export type ApiAnswer = CreateAnswer | RouteAnswer;

interface AnswerFields {
  readonly merchantId: string;
  /** `lost`: the Lambda answered and the client never heard it; `killed`: the Lambda died. */
  readonly outcome: 'answered' | 'lost' | 'killed';
  readonly status?: number;
  readonly code?: string;
  readonly body?: Record<string, unknown>;
}

/** An answer of a create route, for the checks of what it made. */
export type CreateAnswer = AnswerFields &
  (
    | { readonly route: 'payments'; readonly request: PaymentRequest; readonly key: string }
    | { readonly route: 'refunds'; readonly request: RefundRequest; readonly key: string }
  );

/** Whether `answer` is a create route's (payments, refunds). */
export function isCreateAnswer(answer: ApiAnswer): answer is CreateAnswer {
  return answer.route === 'payments' || answer.route === 'refunds';
}

/** An answer of any other route: the school's, the carts'. */
export interface RouteAnswer extends AnswerFields {
  readonly route: string;
  /** The idempotency layer's key, on a route behind it. */
  readonly key?: string;
  readonly request: unknown;
}

export interface PaymentOrder {
  readonly merchantId: string;
  readonly orderNo: string;
  readonly amount: number;
  readonly currency: Currency;
  readonly paymentMethod: string;
  readonly headerKey?: string;
  /** A manual payment: it waits at authorized for the merchant's capture or cancel. */
  readonly manual?: boolean;
}

/** The merchant's capture (of `amount`, or all) or cancel of a manual payment. */
export interface DecisionOrder {
  readonly merchantId: string;
  readonly paymentNo: string;
  readonly request: CaptureRequest;
  readonly headerKey?: string;
}

export interface RefundOrder {
  readonly merchantId: string;
  readonly paymentNo: string;
  readonly amount: number;
  readonly operatorId: string;
  readonly headerKey?: string;
  readonly expectedAmountRefunded?: number;
}

/**
 * The API's create routes as their handlers run them (the route's own body validation, then the
 * idempotency layer around the domain's use case), each request a Lambda invocation on a warm
 * instance of its function, and what the clients heard.
 */
export class Api {
  readonly answers: ApiAnswer[] = [];
  /** Every request sent, in order: what a client may send again, exactly. */
  readonly sent: { readonly route: string; again(): Actor }[] = [];
  private readonly pools = new Map<string, LambdaInstance[]>();

  constructor(readonly world: World) {}

  /** `POST /v1/payments`. */
  pay(order: PaymentOrder): Actor {
    const { world } = this;
    const request: PaymentRequest = {
      orderNo: order.orderNo,
      amount: order.amount,
      currency: order.currency,
      paymentMethod: order.paymentMethod,
      ...(order.manual === true && { captureMethod: CaptureMethod.Manual }),
    };
    const body = {
      order_no: order.orderNo,
      amount: order.amount,
      currency: order.currency,
      payment_method: order.paymentMethod,
      ...(order.manual === true && { capture_method: CaptureMethod.Manual }),
    };
    return this.call({
      route: 'payments',
      fn: 'create-payment',
      merchantId: order.merchantId,
      request,
      key: layerKey(order.headerKey, request.orderNo),
      defaultKeyClaimedByRun: true,
      parse: () => toPaymentRequest(parseBody(jsonEvent(body), createPaymentBody)),
      parameters: paymentParameters,
      async run(ports, request) {
        const { firstAnswer, created } = await createPayment(
          {
            payments: ports.payments,
            workflow: ports.paymentWorkflow,
            clock: world.clock.clock,
            reconcileAfterSeconds: world.reconcileAfterSeconds,
          },
          order.merchantId,
          request,
        );
        return { status: created ? 201 : 200, body: paymentView(firstAnswer) };
      },
    });
  }

  /** `POST /v1/payments/{no}/capture` or `/cancel`: behind the layer only with a header, as the routes are. */
  decide(order: DecisionOrder): Actor {
    const { world } = this;
    const { request } = order;
    const capture = request.action === 'capture';
    const body = capture && request.amount !== undefined ? { amount_to_capture: request.amount } : {};
    return this.call({
      route: capture ? 'payment-capture' : 'payment-cancel',
      fn: capture ? 'capture-payment' : 'cancel-payment',
      merchantId: order.merchantId,
      request,
      ...(order.headerKey !== undefined && { key: `header:${order.headerKey}` }),
      describe: `${request.action} ${order.paymentNo}`,
      parse: () => {
        const parsed = parseBody(jsonEvent(body), capturePaymentBody);
        return capture ? { action: 'capture' as const, ...(parsed.amount_to_capture !== undefined && { amount: parsed.amount_to_capture }) } : request;
      },
      parameters: (input) => ({ payment_no: order.paymentNo, ...(input.action === 'capture' && { amount_to_capture: input.amount }) }),
      async run(ports, input) {
        const deps = { payments: ports.payments, workflow: ports.paymentWorkflow, clock: world.clock.clock, reconcileAfterSeconds: world.reconcileAfterSeconds };
        const { payment } = await decideCapture(deps, order.merchantId, order.paymentNo, input);
        return { status: 202, body: paymentView(payment) };
      },
    });
  }

  /** `POST /v1/refunds`: the refund_no comes from the layer's key. */
  refund(order: RefundOrder): Actor {
    const { world } = this;
    const request: RefundRequest = {
      paymentNo: order.paymentNo,
      amount: order.amount,
      operatorId: order.operatorId,
      ...(order.expectedAmountRefunded !== undefined && { expectedAmountRefunded: order.expectedAmountRefunded }),
    };
    const key = layerKey(order.headerKey, derivedRefundKey(request));
    const body = {
      payment_no: order.paymentNo,
      amount: order.amount,
      operator_id: order.operatorId,
      ...(order.expectedAmountRefunded !== undefined && { expected_amount_refunded: order.expectedAmountRefunded }),
    };
    return this.call({
      route: 'refunds',
      fn: 'create-refund',
      merchantId: order.merchantId,
      request,
      key,
      parse: () => toRefundRequest(parseBody(jsonEvent(body), createRefundBody)),
      parameters: refundParameters,
      async run(ports, request) {
        const { refund, created } = await createRefund(
          {
            refunds: ports.refunds,
            payments: ports.payments,
            workflow: ports.refundWorkflow,
            clock: world.clock.clock,
            reconcileAfterSeconds: world.reconcileAfterSeconds,
          },
          order.merchantId,
          key,
          request,
        );
        return { status: created ? 201 : 200, body: refundView(refund) };
      },
    });
  }

  /**
   * One request to a route, as a Lambda invocation of its function `fn`: the route's own
   * validation, then (on a route behind it, with a `key`) the idempotency layer, then the use
   * case; what the client heard is kept in {@link answers}.
   */
  call<I>(call: RouteCall<I>): Actor {
    const { world } = this;
    this.sent.push({ route: call.route, again: () => this.call(call) });
    const { fn } = call;
    return world.spawn(`${fn} ${call.key ?? call.describe ?? ''}`, fn, async (actor) => {
      const instance = this.instanceOf(fn);
      const ports = world.portsOf(actor);
      instance.ports = ports;
      const seen = { route: call.route, merchantId: call.merchantId, request: call.request, ...(call.key !== undefined && { key: call.key }) };
      let answer: { status: number; body: unknown; code?: string };
      try {
        // As the route does: a request its validation refuses never touches its key.
        const input = call.parse();
        if (call.key === undefined || (call.defaultKeyClaimedByRun === true && call.key.startsWith('derived:'))) {
          answer = await call.run(ports, input, actor);
        } else {
          const { response, replayed } = await runIdempotently(
            {
              store: instance.keys,
              clock: world.clock.clock,
              leaseMs: idempotencyLeaseSeconds() * 1000,
              waitMs: idempotencyWaitMs(),
              newOwner: () => `request-${world.nextNumber()}`,
              sleep: world.lambdaSleep(actor, 'a wait for another request'),
            },
            {
              merchantId: call.merchantId,
              scope: call.scope ?? call.route,
              key: call.key,
              keyName: call.key,
              // Only the refusals' wording reads it: the route's field a derived key came from.
              keyField: call.key.startsWith('header:') ? 'Idempotency-Key' : call.route === 'payments' ? 'order_no' : 'payment_no',
              parameters: call.parameters?.(input) ?? {},
            },
            () => call.run(ports, input, actor),
          );
          answer = { status: replayed ? 200 : response.status, body: response.body };
        }
      } catch (error) {
        if (actor.invocation.killed) return this.died(instance, seen);
        world.noteUnexpected(`${call.route}`, error);
        answer =
          error instanceof ChargeonceError
            ? { status: error.httpStatus, body: undefined, code: error.code }
            : { status: 500, body: undefined, code: 'internal_error' };
      }
      const decision = await world.returning(actor);
      if (decision.kind === 'crash') return this.died(instance, seen);
      instance.busy = false;
      const outcome = decision.kind === 'fault' ? 'lost' : 'answered';
      world.count(`answer ${call.route} ${answer.status}${answer.code === undefined ? '' : ` ${answer.code}`}`);
      world.log(`${actor.name} answered ${answer.status} ${answer.code ?? ''}${outcome === 'lost' ? ' (lost)' : ''}`);
      this.answers.push({
        ...seen,
        outcome,
        status: answer.status,
        ...(answer.code !== undefined && { code: answer.code }),
        ...(answer.body !== undefined && { body: answer.body as Record<string, unknown> }),
      } as ApiAnswer);
    });
  }

  private died(instance: LambdaInstance, seen: Omit<AnswerFields, 'outcome'> & { readonly route: string }): void {
    // A dead process takes its memory with it: the instance and its cache of finished keys.
    const pool = this.pools.get(instance.fn) ?? [];
    pool.splice(pool.indexOf(instance), 1);
    this.world.count(`request died: ${seen.route}`);
    this.answers.push({ ...seen, outcome: 'killed' } as ApiAnswer);
  }

  /** An idle warm instance of `fn`, or a new one (Lambda scales out rather than queue). */
  private instanceOf(fn: string): LambdaInstance {
    const pool = this.pools.get(fn) ?? [];
    this.pools.set(fn, pool);
    const idle = pool.find((instance) => !instance.busy);
    if (idle !== undefined) {
      idle.busy = true;
      return idle;
    }
    const serving = (): IdempotencyStore => {
      if (instance.ports === undefined) throw new Error(`${fn} instance serves no request`);
      return instance.ports.keys;
    };
    const instance: LambdaInstance = {
      fn,
      busy: true,
      ports: undefined,
      keys: withFinishedKeyCache(
        {
          get: (id) => serving().get(id),
          claim: (record, now) => serving().claim(record, now),
          takeOver: (id, lapsed, lease, parameters) => serving().takeOver(id, lapsed, lease, parameters),
          complete: (id, owner, response) => serving().complete(id, owner, response),
          release: (id, owner) => serving().release(id, owner),
        },
        FINISHED_KEYS_KEPT,
      ),
    };
    pool.push(instance);
    return instance;
  }
}

/** As the route names keys: a client's header and a key derived from the request never collide. */
function layerKey(header: string | undefined, derived: string): string {
  return header === undefined ? `derived:${derived}` : `header:${header}`;
}

export interface RouteCall<I> {
  readonly route: string;
  /** The Lambda function that serves the route. */
  readonly fn: string;
  readonly merchantId: string;
  /** The request as the client meant it, for the checks of what it was answered. */
  readonly request: unknown;
  /** The idempotency layer's key, on a route behind it; its scope is the route's unless `scope` says. */
  readonly key?: string;
  readonly scope?: string;
  /** As the route's `defaultKeyClaimedByRun`: a derived key goes around the layer, the run's own write being its claim. */
  readonly defaultKeyClaimedByRun?: true;
  /** What the trace names the request by, when it has no key. */
  readonly describe?: string;
  /** The route's validation of what the client sent. */
  parse(): I;
  parameters?(input: I): Record<string, unknown>;
  run(ports: Ports, input: I, actor: Actor): Promise<StoredResponse & { readonly code?: string }>;
}

/** The API Gateway event of a JSON body and path, as far as a route's parsing reads it. */
export function jsonEvent(body: object | undefined, pathParameters: Record<string, string> = {}): APIGatewayProxyEvent {
  return {
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    pathParameters,
  } as unknown as APIGatewayProxyEvent;
}

/** A warm Lambda instance of a route: one request at a time, keeping finished keys in its memory. */
interface LambdaInstance {
  readonly fn: string;
  busy: boolean;
  /** The ports of the request it is serving. */
  ports: Ports | undefined;
  readonly keys: IdempotencyStore;
}

/** Finished keys an instance keeps; more than a history makes, so none is evicted. */
const FINISHED_KEYS_KEPT = 1000;
