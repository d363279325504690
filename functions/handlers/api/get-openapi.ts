import type { APIGatewayProxyResult } from 'aws-lambda';
import document from '../../../openapi.json' with { type: 'json' };

// The committed document, bundled: the test that regenerates it keeps it the code's.
const body = JSON.stringify(document);

/**
 * `GET /v1/openapi.json`, without an API key: the public contract, which reads nothing of any
 * merchant's. Every request gets the same document, so it needs neither the route wrapper's
 * merchant nor its error mapping.
 */
export const handler = async (): Promise<APIGatewayProxyResult> => ({
  statusCode: 200,
  headers: { 'Content-Type': 'application/json', 'Cache-Control': 'public, max-age=300' },
  body,
});
