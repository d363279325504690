/** The path parameters of the school routes, checked without zod: a route that parses no body bundles none. */
import type { APIGatewayProxyEvent } from 'aws-lambda';
import { isClientId } from '../../../domain/carts/model.ts';
import { pathParameter } from '../http.ts';

/** What a client-given id (class_id, account_id, swimmer_id) must be. */
export const CLIENT_ID = 'must be 1 to 64 letters, digits, _ or -';

export const accountIdOf = (event: APIGatewayProxyEvent) => pathParameter(event, 'account_id', isClientId, CLIENT_ID);
export const classIdOf = (event: APIGatewayProxyEvent) => pathParameter(event, 'class_id', isClientId, CLIENT_ID);
