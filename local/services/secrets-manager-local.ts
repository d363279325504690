/**
 * A local Secrets Manager: the template's `AWS::SecretsManager::Secret` resources served through
 * the service's JSON 1.1 API (`X-Amz-Target: secretsmanager.<Op>`), so the real
 * `@aws-sdk/client-secrets-manager` reads them unchanged (`AWS_ENDPOINT_URL_SECRETS_MANAGER`).
 * Operations: GetSecretValue (the current version) and DescribeSecret, the two a read grant
 * (`secret.grantRead`) allows. It checks no caller: the IAM proxy in front of it does.
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { createServer } from 'node:http';
import { type CfnTemplate, localArnOf, localNameOf } from '../assembly/intrinsics.ts';
import { listen } from './listen.ts';
import { jsonObjectOf, readBody, sendAwsJson } from './aws-json.ts';

/** A secret of the template, named as the local stack names it. */
export interface TemplateSecret {
  readonly logicalId: string;
  readonly name: string;
  readonly arn: string;
}

/** Every secret of `template`. */
export function templateSecrets(template: CfnTemplate): TemplateSecret[] {
  return Object.entries(template.Resources ?? {})
    .filter(([, resource]) => resource.Type === 'AWS::SecretsManager::Secret')
    .map(([logicalId]) => ({ logicalId, name: localNameOf(template, logicalId), arn: localArnOf(template, logicalId) }));
}

/**
 * The secret a `SecretId` names, as Secrets Manager finds it: by its name, its ARN, or its ARN
 * without the six random characters Secrets Manager appends (a partial ARN).
 */
export function findSecret<T extends TemplateSecret>(secrets: readonly T[], secretId: string): T | undefined {
  return secrets.find((secret) => secretId === secret.name || secretId === secret.arn || secretId === secret.arn.slice(0, -'-xxxxxx'.length));
}

export interface StartSecretsManagerLocalOptions {
  readonly template: CfnTemplate;
  /**
   * Each secret's value, by logical id (the Stripe secret: the local test key). A secret given
   * none has its template's `SecretString`, else a random one, as `GenerateSecretString` makes.
   */
  readonly values?: Readonly<Record<string, string>>;
  /** 0 or absent picks a free port. */
  readonly port?: number;
  readonly host?: string;
}

export interface SecretsManagerLocal {
  /** `http://<host>:<port>`, for `AWS_ENDPOINT_URL_SECRETS_MANAGER` (through the IAM proxy for the functions). */
  readonly endpoint: string;
  readonly secrets: readonly TemplateSecret[];
  close(): Promise<void>;
}

interface StoredSecret extends TemplateSecret {
  readonly value: string;
  readonly versionId: string;
  readonly description?: string;
  /** Epoch seconds, as the JSON protocol sends timestamps. */
  readonly createdDate: number;
}

const contentType = 'application/x-amz-json-1.1';

class SecretsManagerError extends Error {
  constructor(
    readonly type: string,
    message: string,
  ) {
    super(message);
    this.name = type;
  }
}

export async function startSecretsManagerLocal(options: StartSecretsManagerLocalOptions): Promise<SecretsManagerLocal> {
  const createdDate = Date.now() / 1000;
  const secrets: StoredSecret[] = templateSecrets(options.template).map((secret) => {
    const properties = options.template.Resources?.[secret.logicalId]?.Properties ?? {};
    const literal = properties['SecretString'];
    const description = properties['Description'];
    return {
      ...secret,
      value: options.values?.[secret.logicalId] ?? (typeof literal === 'string' ? literal : randomBytes(24).toString('base64url')),
      versionId: randomUUID(),
      createdDate,
      ...(typeof description === 'string' && { description }),
    };
  });
  const unknown = Object.keys(options.values ?? {}).filter((logicalId) => !secrets.some((secret) => secret.logicalId === logicalId));
  if (unknown.length > 0) throw new Error(`values name no secret of the template: ${unknown.join(', ')}`);

  const secretOf = (body: Record<string, unknown>): StoredSecret => {
    const secretId = body['SecretId'];
    if (typeof secretId !== 'string' || secretId === '') {
      throw new SecretsManagerError('ValidationException', "1 validation error detected: Value null at 'secretId' failed to satisfy constraint: Member must not be null");
    }
    const secret = findSecret(secrets, secretId);
    if (secret === undefined) throw new SecretsManagerError('ResourceNotFoundException', "Secrets Manager can't find the specified secret.");
    return secret;
  };

  const operations: Record<string, (body: Record<string, unknown>) => Record<string, unknown>> = {
    GetSecretValue(body) {
      const secret = secretOf(body);
      const { VersionId, VersionStage } = body;
      // Only the current version exists locally.
      if (VersionId !== undefined && VersionId !== secret.versionId) {
        throw new SecretsManagerError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for VersionId: ${String(VersionId)}`);
      }
      if (VersionStage !== undefined && VersionStage !== 'AWSCURRENT') {
        throw new SecretsManagerError('ResourceNotFoundException', `Secrets Manager can't find the specified secret value for staging label: ${String(VersionStage)}`);
      }
      return {
        ARN: secret.arn,
        Name: secret.name,
        VersionId: secret.versionId,
        SecretString: secret.value,
        VersionStages: ['AWSCURRENT'],
        CreatedDate: secret.createdDate,
      };
    },
    DescribeSecret(body) {
      const secret = secretOf(body);
      return {
        ARN: secret.arn,
        Name: secret.name,
        ...(secret.description !== undefined && { Description: secret.description }),
        CreatedDate: secret.createdDate,
        LastChangedDate: secret.createdDate,
        VersionIdsToStages: { [secret.versionId]: ['AWSCURRENT'] },
      };
    },
  };

  const server = createServer((request, response) => {
    void (async () => {
      try {
        const body = jsonObjectOf(await readBody(request));
        const target = String(request.headers['x-amz-target'] ?? '');
        const operation = target.startsWith('secretsmanager.') ? operations[target.slice('secretsmanager.'.length)] : undefined;
        if (request.method !== 'POST' || operation === undefined) throw new SecretsManagerError('UnknownOperationException', `Unknown operation: '${target}'`);
        if (body === undefined) throw new SecretsManagerError('SerializationException', 'The request body is not a JSON object');
        sendAwsJson(response, 200, contentType, operation(body));
      } catch (error) {
        if (error instanceof SecretsManagerError) sendAwsJson(response, 400, contentType, { __type: error.type, Message: error.message });
        else sendAwsJson(response, 500, contentType, { __type: 'InternalServiceError', Message: String(error) });
      }
    })();
  });
  const host = options.host ?? '127.0.0.1';
  const port = await listen(server, options.port ?? 0, host);
  return {
    endpoint: `http://${host}:${port}`,
    secrets: secrets.map(({ logicalId, name, arn }) => ({ logicalId, name, arn })),
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
