/**
 * The gate between the functions and the local AWS services: one HTTP endpoint in front of
 * DynamoDB Local, the local Step Functions and the local Secrets Manager that, for every
 * request, finds the caller from the SigV4 signature (the access key id names a role's session,
 * and only that session's secret key makes the signature), works out what the request needs
 * (each item of a transaction on its own), evaluates the role's synthesized policies and either
 * answers the AccessDeniedException AWS answers or forwards the request unchanged.
 *
 * The seam for the local stack's function host: start it with the template and where the
 * services are, give each function instance {@link IamProxy.environmentFor} its function
 * (credentials of its role, and this endpoint for each service), and ask
 * {@link IamProxy.iam} before the state machines or the schedule invoke a function.
 */
import { randomBytes } from 'node:crypto';
import { Agent, createServer, request as httpRequest, type IncomingMessage, type ServerResponse } from 'node:http';
import { type CfnTemplate, localNameOf } from '../assembly/intrinsics.ts';
import { listen } from '../services/listen.ts';
import { jsonObjectOf, readBody, sendAwsJson } from '../services/aws-json.ts';
import { findSecret, templateSecrets } from '../services/secrets-manager-local.ts';
import { accessesOf, operationOf, type AwsService } from './aws-requests.ts';
import { parseAuthorization, signatureMatches } from './sigv4.ts';
import { TemplateIam, type RoleSession } from './template-iam.ts';

export interface StartIamProxyOptions {
  readonly template: CfnTemplate;
  /** Where each service really is (DynamoDB Local must run with `-sharedDb`); a call to a service not given is refused. */
  readonly upstreams: Readonly<Partial<Record<AwsService, string>>>;
  /** 0 or absent picks a free port. */
  readonly port?: number;
  readonly host?: string;
  /** Told every call it refused (the caller also gets the error, as from AWS). */
  readonly onDenied?: (denial: Denial) => void;
  /** Sessions whose credentials were made elsewhere (the thread that starts this proxy in a worker). */
  readonly sessions?: readonly SessionCredentials[];
}

export interface SessionCredentials {
  readonly session: RoleSession;
  readonly credentials: LocalCredentials;
}

/** A role session's temporary credentials, as Lambda puts them in a function's environment. */
export interface LocalCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken: string;
}

export interface Denial {
  readonly session: RoleSession;
  /** `DynamoDB_20120810.TransactWriteItems`, ... */
  readonly target: string;
  readonly action: string;
  readonly resource: string;
  /** What the caller was told. */
  readonly message: string;
}

export interface IamProxy {
  /** The one endpoint of all three services. */
  readonly endpoint: string;
  /** The template's IAM, for the invocations the stack makes itself (a state machine's Task, the schedule's target). */
  readonly iam: TemplateIam;
  /** Credentials that make a caller `session` (one set per session, made on first use). */
  credentialsFor(session: RoleSession): LocalCredentials;
  /**
   * What a function's instance adds to its environment to call AWS as its role, through this
   * proxy: `AWS_ACCESS_KEY_ID`, `AWS_SECRET_ACCESS_KEY`, `AWS_SESSION_TOKEN`, and
   * `AWS_ENDPOINT_URL_<SERVICE>` for each service proxied. The session is named after the
   * function, as Lambda names it.
   */
  environmentFor(functionLogicalId: string): Record<string, string>;
  close(): Promise<void>;
}

/** The SDK reads each service's endpoint from `AWS_ENDPOINT_URL_<its service id>`. */
export const endpointVariables: Readonly<Record<AwsService, string>> = {
  dynamodb: 'AWS_ENDPOINT_URL_DYNAMODB',
  sfn: 'AWS_ENDPOINT_URL_SFN',
  secretsManager: 'AWS_ENDPOINT_URL_SECRETS_MANAGER',
};

/** How each service shapes an error: its JSON protocol version, the `__type` it writes, and its message's key. */
const errorStyles: Readonly<Record<AwsService, { contentType: string; type: (name: string) => string; messageKey: string }>> = {
  dynamodb: { contentType: 'application/x-amz-json-1.0', type: (name) => `com.amazon.coral.service#${name}`, messageKey: 'Message' },
  sfn: { contentType: 'application/x-amz-json-1.0', type: (name) => `com.amazonaws.swf.service.v2.model#${name}`, messageKey: 'message' },
  secretsManager: { contentType: 'application/x-amz-json-1.1', type: (name) => name, messageKey: 'Message' },
};

const invalidToken = 'The security token included in the request is invalid.';
const invalidSignature =
  'The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details.';

/** Reads the template's IAM (refusing what it cannot evaluate) and starts the proxy. */
export async function startIamProxy(options: StartIamProxyOptions): Promise<IamProxy> {
  const iam = TemplateIam.fromTemplate(options.template);
  const secrets = templateSecrets(options.template);
  const secretArnOf = (secretId: string) => findSecret(secrets, secretId)?.arn;
  const sessions = new RoleSessions(iam, options.sessions);
  const agent = new Agent({ keepAlive: true });

  async function handle(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = await readBody(request);
    const target = String(request.headers['x-amz-target'] ?? '');
    const operation = operationOf(target);
    const upstream = operation === undefined ? undefined : options.upstreams[operation.service];
    if (operation === undefined || upstream === undefined) {
      sendAwsJson(response, 400, 'application/x-amz-json-1.0', { __type: 'UnknownOperationException', message: `The local IAM proxy serves no ${target || 'request without X-Amz-Target'}` });
      return;
    }
    const style = errorStyles[operation.service];
    const refuse = (name: string, message: string) =>
      sendAwsJson(response, 400, style.contentType, { __type: style.type(name), [style.messageKey]: message });

    const authorization = parseAuthorization(request.headers.authorization);
    if (authorization === undefined) return refuse('MissingAuthenticationTokenException', 'Request is missing Authentication Token');
    const caller = sessions.byAccessKey(authorization.accessKeyId);
    if (caller === undefined || request.headers['x-amz-security-token'] !== caller.credentials.sessionToken) {
      return refuse('UnrecognizedClientException', invalidToken);
    }
    const received = { method: request.method ?? 'POST', url: request.url ?? '/', headers: request.headers, body };
    if (!signatureMatches(received, authorization, caller.credentials.secretAccessKey)) return refuse('InvalidSignatureException', invalidSignature);

    const json = jsonObjectOf(body);
    if (json === undefined) return refuse('SerializationException', 'The request body is not a JSON object');
    // Every part must be allowed: a transaction with one item the role may not write is refused whole.
    for (const access of accessesOf(operation.service, operation.operation, json, secretArnOf)) {
      const decision = iam.authorize(caller.session, access.action, access.resource, access.shownResource);
      if (!decision.allowed) {
        options.onDenied?.({ session: caller.session, target, action: access.action, resource: access.resource, message: decision.message });
        return refuse('AccessDeniedException', decision.message);
      }
    }
    forward(request, body, upstream, response, agent);
  }

  const server = createServer((request, response) => {
    handle(request, response).catch(() => response.destroy());
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  const endpoint = `http://${host}:${port}`;

  return {
    endpoint,
    iam,
    credentialsFor: (session) => sessions.credentialsFor(session),
    environmentFor: (functionLogicalId) => functionEnvironment(options, sessions, functionLogicalId, endpoint),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
      agent.destroy();
    },
  };
}

/** The credentials of each role session, made once (random, as STS makes them) and found again by their key id. */
export class RoleSessions {
  private readonly bySession = new Map<string, SessionCredentials>();
  private readonly byKeyId = new Map<string, SessionCredentials>();

  constructor(
    private readonly iam: TemplateIam,
    made: readonly SessionCredentials[] = [],
  ) {
    for (const entry of made) this.remember(entry);
  }

  credentialsFor(session: RoleSession): LocalCredentials {
    // Fails for a role the template lacks before any credentials exist for it.
    this.iam.principalArn(session);
    const known = this.known(session);
    if (known !== undefined) return known;
    const credentials = {
      // Temporary credentials' key ids start with ASIA.
      accessKeyId: `ASIA${randomBytes(10).toString('hex').toUpperCase().slice(0, 16)}`,
      secretAccessKey: randomBytes(30).toString('base64'),
      sessionToken: randomBytes(48).toString('base64'),
    };
    this.remember({ session, credentials });
    return credentials;
  }

  /** The session of each function, as Lambda names it: its role, and the function's name. */
  functionSession(template: CfnTemplate, functionLogicalId: string): RoleSession {
    return { roleLogicalId: this.iam.roleOfFunction(functionLogicalId), sessionName: localNameOf(template, functionLogicalId) };
  }

  /** The credentials already made for `session`, if any. */
  known(session: RoleSession): LocalCredentials | undefined {
    return this.bySession.get(sessionKey(session))?.credentials;
  }

  byAccessKey(accessKeyId: string): SessionCredentials | undefined {
    return this.byKeyId.get(accessKeyId);
  }

  all(): SessionCredentials[] {
    return [...this.bySession.values()];
  }

  private remember(entry: SessionCredentials): void {
    this.bySession.set(sessionKey(entry.session), entry);
    this.byKeyId.set(entry.credentials.accessKeyId, entry);
  }
}

const sessionKey = (session: RoleSession) => `${session.roleLogicalId}/${session.sessionName}`;

/** What a function's instance adds to its environment to call AWS as its role through the proxy at `endpoint`. */
export function functionEnvironment(
  options: Pick<StartIamProxyOptions, 'template' | 'upstreams'>,
  sessions: RoleSessions,
  functionLogicalId: string,
  endpoint: string,
): Record<string, string> {
  const credentials = sessions.credentialsFor(sessions.functionSession(options.template, functionLogicalId));
  const services = Object.keys(options.upstreams) as AwsService[];
  return {
    AWS_ACCESS_KEY_ID: credentials.accessKeyId,
    AWS_SECRET_ACCESS_KEY: credentials.secretAccessKey,
    AWS_SESSION_TOKEN: credentials.sessionToken,
    ...Object.fromEntries(services.map((service) => [endpointVariables[service], endpoint])),
  };
}

/**
 * Sends the request on as it came (method, path, headers, body) and its answer back as it
 * comes. A caller that gives up (its SDK timed out) abandons the upstream call too, and an
 * upstream that cannot be reached drops the caller's connection, as the service itself would.
 */
function forward(request: IncomingMessage, body: Buffer, upstream: string, response: ServerResponse, agent: Agent): void {
  const url = new URL(upstream);
  const onward = httpRequest(
    { hostname: url.hostname, port: url.port, method: request.method, path: request.url, headers: request.headers, agent },
    (answer) => {
      response.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(response);
    },
  );
  onward.once('error', () => response.destroy());
  response.once('close', () => {
    if (!response.writableFinished) onward.destroy();
  });
  onward.end(body);
}
