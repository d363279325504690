import { DescribeSecretCommand, GetSecretValueCommand, SecretsManagerClient } from '@aws-sdk/client-secrets-manager';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { localClientConfig } from '../../../../local/services/dynamodb-local.ts';
import { startSecretsManagerLocal, type SecretsManagerLocal } from '../../../../local/services/secrets-manager-local.ts';

/** Secrets as `cdk synth` writes them: one generated, one with a literal value. */
const template = {
  Resources: {
    StripeSecretKeyA7F6217B: { Type: 'AWS::SecretsManager::Secret', Properties: { Description: 'the Stripe key', GenerateSecretString: {} } },
    Generated: { Type: 'AWS::SecretsManager::Secret', Properties: { GenerateSecretString: {} } },
    Literal: { Type: 'AWS::SecretsManager::Secret', Properties: { Name: 'literal', SecretString: '{"apiKey":"sk_test_literal"}' } },
  },
};

describe('the local Secrets Manager', () => {
  let secrets: SecretsManagerLocal;
  let client: SecretsManagerClient;
  const get = (SecretId: string, extra: object = {}) => client.send(new GetSecretValueCommand({ SecretId, ...extra }));

  beforeAll(async () => {
    secrets = await startSecretsManagerLocal({ template, values: { StripeSecretKeyA7F6217B: 'sk_test_seeded' } });
    client = new SecretsManagerClient({ ...localClientConfig, endpoint: secrets.endpoint, maxAttempts: 1 });
  });
  afterAll(async () => {
    client?.destroy();
    await secrets?.close();
  });

  it("serves a secret's value to the SDK by its name, its ARN or its partial ARN", async () => {
    // Prepare
    const stripe = secrets.secrets.find((secret) => secret.logicalId === 'StripeSecretKeyA7F6217B')!;

    // Act
    const answers = await Promise.all([stripe.name, stripe.arn, stripe.arn.slice(0, -7)].map((id) => get(id)));

    // Assess
    expect(stripe.arn).toMatch(/^arn:aws:secretsmanager:us-east-1:000000000000:secret:StripeSecretKeyA7F6217B-[0-9a-f]{6}$/);
    for (const answer of answers) {
      expect(answer).toMatchObject({ ARN: stripe.arn, Name: 'StripeSecretKeyA7F6217B', SecretString: 'sk_test_seeded', VersionStages: ['AWSCURRENT'] });
      expect(answer.CreatedDate).toBeInstanceOf(Date);
    }
  });

  it("gives a secret it was given no value for the template's SecretString, else a generated one", async () => {
    // Act
    const literal = await get('literal');
    const generated = await get('Generated');

    // Assess
    expect(literal.SecretString).toBe('{"apiKey":"sk_test_literal"}');
    expect(generated.SecretString).toMatch(/^[A-Za-z0-9_-]{32}$/);
  });

  it('describes a secret, as the read grant also allows', async () => {
    // Act
    const described = await client.send(new DescribeSecretCommand({ SecretId: 'StripeSecretKeyA7F6217B' }));

    // Assess
    expect(described).toMatchObject({ Name: 'StripeSecretKeyA7F6217B', Description: 'the Stripe key' });
    expect(Object.values(described.VersionIdsToStages ?? {})).toEqual([['AWSCURRENT']]);
  });

  it('answers ResourceNotFoundException for a secret or a version it does not have', async () => {
    // Act & Assess
    await expect(get('missing')).rejects.toMatchObject({ name: 'ResourceNotFoundException', message: "Secrets Manager can't find the specified secret." });
    await expect(get('literal', { VersionStage: 'AWSPREVIOUS' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
    await expect(get('literal', { VersionId: 'f0f0f0f0-0000-4000-8000-000000000000' })).rejects.toMatchObject({ name: 'ResourceNotFoundException' });
  });

  it('refuses at startup a value for a secret the template does not have', async () => {
    // Act & Assess
    await expect(startSecretsManagerLocal({ template, values: { Stripe: 'sk_test_x' } })).rejects.toThrow('values name no secret of the template: Stripe');
  });
});
