import { App } from 'aws-cdk-lib';
import { ChargeonceStack } from '../lib/chargeonce-stack.ts';

const app = new App();
new ChargeonceStack(app, 'Chargeonce', {
  env: {
    account: process.env.CDK_DEFAULT_ACCOUNT,
    region: process.env.CDK_DEFAULT_REGION,
  },
  description: 'Chargeonce: serverless checkout and payments that charge a customer exactly once.',
});
