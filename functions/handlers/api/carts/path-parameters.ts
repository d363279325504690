/** The path parameters of the cart routes, checked without zod: a route that parses no body bundles none. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { pathParameter } from '../http.ts';

export const CART_ID = /^cart_[0-9a-f]{24}$/;
const ITEM_ID = /^itm_[0-9a-f]{16}$/;

export const cartIdOf = (event: APIGatewayProxyEvent) =>
  pathParameter(event, 'cart_id', (value) => CART_ID.test(value), 'must be a cart_id (cart_...)');
export const itemIdOf = (event: APIGatewayProxyEvent) =>
  pathParameter(event, 'item_id', (value) => ITEM_ID.test(value), 'must be an item_id (itm_...)');
