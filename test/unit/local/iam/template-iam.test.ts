/**
 * The IAM of the synthesized template as the local stack reads it: every function's and state
 * machine's role, what each may do and may not, the schedule's and the API's permissions to
 * invoke, and the refusals of what the evaluator does not implement.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { localArnOf } from '../../../../local/assembly/intrinsics.ts';
import { UnsupportedPolicyError } from '../../../../local/iam/policy-evaluator.ts';
import { TemplateIam } from '../../../../local/iam/template-iam.ts';
import type { CfnTemplate } from '../../../../local/assembly/intrinsics.ts';
import { synthesizeTemplate } from '../../../../local/assembly/synthesize.ts';
import { functionOf, idOf, policyOf, roleOf, withoutGrant } from '../../../support/synthesized-template.ts';

let template: CfnTemplate;
let iam: TemplateIam;
let tableArn: string;
let paymentSagaArn: string;
let refundSagaArn: string;
const session = (functionName: string) => ({ roleLogicalId: roleOf(template, functionName), sessionName: functionName });

// Synthesizing takes seconds, more on a loaded machine.
beforeAll(() => {
  template = synthesizeTemplate();
  iam = TemplateIam.fromTemplate(template);
  tableArn = localArnOf(template, idOf(template, 'AWS::DynamoDB::Table', 'PaymentsTable'));
  paymentSagaArn = localArnOf(template, idOf(template, 'AWS::StepFunctions::StateMachine', 'PaymentSagaStateMachine'));
  refundSagaArn = localArnOf(template, idOf(template, 'AWS::StepFunctions::StateMachine', 'RefundSagaStateMachine'));
}, 60_000);

describe("the synthesized template's IAM", () => {
  it('gives every function and every state machine a role that trusts their service', () => {
    // Prepare
    const functions = Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === 'AWS::Lambda::Function');
    const machines = Object.keys(template.Resources).filter((id) => template.Resources[id]!.Type === 'AWS::StepFunctions::StateMachine');

    // Act
    const functionRoles = functions.map((id) => iam.roleOfFunction(id));
    const machineRoles = machines.map((id) => iam.roleOfStateMachine(id));

    // Assess
    // Each function a role of its own (the infra tests hold the functions to the catalog).
    expect(functions.length).toBeGreaterThan(0);
    expect(new Set(functionRoles).size).toBe(functions.length);
    // The three sagas and the webhook delivery.
    expect(machineRoles).toHaveLength(4);
  });

  it("allows a route exactly its table actions, on its table, and starting its own saga", () => {
    // Prepare
    const createPayment = session('CreatePayment');

    // Act & Assess
    expect(iam.authorize(createPayment, 'dynamodb:PutItem', tableArn)).toEqual({ allowed: true });
    expect(iam.authorize(createPayment, 'dynamodb:PutItem', `${tableArn}-other`).allowed).toBe(false);
    expect(iam.authorize(createPayment, 'dynamodb:Scan', tableArn).allowed).toBe(false);
    expect(iam.authorize(createPayment, 'states:StartExecution', paymentSagaArn)).toEqual({ allowed: true });
    expect(iam.authorize(createPayment, 'states:StartExecution', refundSagaArn)).toEqual({
      allowed: false,
      message: `User: arn:aws:sts::000000000000:assumed-role/${roleOf(template, 'CreatePayment')}/CreatePayment is not authorized to perform: states:StartExecution on resource: ${refundSagaArn} because no identity-based policy allows the states:StartExecution action`,
    });
  });

  it("lets only the reconciler query the by_due index and read the sagas' executions", () => {
    // Prepare
    const byDue = `${tableArn}/index/by_due`;
    const execution = `${paymentSagaArn.replace(':stateMachine:', ':execution:')}:p-1`;

    // Act & Assess
    expect(iam.authorize(session('Reconciler'), 'dynamodb:Query', byDue).allowed).toBe(true);
    expect(iam.authorize(session('GetPayment'), 'dynamodb:Query', tableArn).allowed).toBe(true);
    expect(iam.authorize(session('GetPayment'), 'dynamodb:Query', byDue).allowed).toBe(false);
    expect(iam.authorize(session('Reconciler'), 'states:DescribeExecution', execution).allowed).toBe(true);
    expect(iam.authorize(session('Reconciler'), 'states:DescribeExecution', paymentSagaArn).allowed).toBe(false);
    expect(iam.authorize(session('CreatePayment'), 'states:DescribeExecution', execution).allowed).toBe(false);
  });

  it('lets the functions that call the provider, and no others, read the Stripe secret', () => {
    // Prepare
    const secretArn = localArnOf(template, idOf(template, 'AWS::SecretsManager::Secret', 'StripeSecretKey'));

    // Act & Assess
    for (const name of ['Authorize', 'Capture', 'VoidAuthorization', 'SubmitRefund', 'CheckRefund', 'Reconciler']) {
      expect(iam.authorize(session(name), 'secretsmanager:GetSecretValue', secretArn).allowed).toBe(true);
    }
    for (const name of ['MarkSucceeded', 'CreatePayment', 'Authorizer']) {
      expect(iam.authorize(session(name), 'secretsmanager:GetSecretValue', secretArn).allowed).toBe(false);
    }
  });

  it("lets each state machine's role invoke its own steps and no other function", () => {
    // Prepare
    const paymentRole = { roleLogicalId: iam.roleOfStateMachine(idOf(template, 'AWS::StepFunctions::StateMachine', 'PaymentSagaStateMachine')), sessionName: 's' };
    const refundRole = { roleLogicalId: iam.roleOfStateMachine(idOf(template, 'AWS::StepFunctions::StateMachine', 'RefundSagaStateMachine')), sessionName: 's' };
    const arnOf = (name: string) => localArnOf(template, functionOf(template, name));

    // Act & Assess
    expect(iam.authorize(paymentRole, 'lambda:InvokeFunction', arnOf('Authorize')).allowed).toBe(true);
    expect(iam.authorize(paymentRole, 'lambda:InvokeFunction', `${arnOf('SettleCart')}:$LATEST`).allowed).toBe(true);
    expect(iam.authorize(paymentRole, 'lambda:InvokeFunction', arnOf('Reconciler')).allowed).toBe(false);
    expect(iam.authorize(paymentRole, 'lambda:InvokeFunction', arnOf('SubmitRefund')).allowed).toBe(false);
    expect(iam.authorize(refundRole, 'lambda:InvokeFunction', arnOf('SubmitRefund')).allowed).toBe(true);
    expect(iam.authorize(refundRole, 'lambda:InvokeFunction', arnOf('Capture')).allowed).toBe(false);
  });

  it("lets the schedule's rule invoke the reconciler, and API Gateway each route's function from its method, through their permissions", () => {
    // Prepare
    const ruleArn = localArnOf(template, idOf(template, 'AWS::Events::Rule', 'ReconcileScheduleRule'));
    const reconciler = localArnOf(template, functionOf(template, 'Reconciler'));
    const createPayment = localArnOf(template, functionOf(template, 'CreatePayment'));
    const api = idOf(template, 'AWS::ApiGateway::RestApi', 'PaymentsApi');
    const method = (verb: string, path: string) => `arn:aws:execute-api:us-east-1:000000000000:${api}/api/${verb}${path}`;

    // Act & Assess
    expect(iam.authorizeServiceInvoke('events.amazonaws.com', ruleArn, reconciler)).toEqual({ allowed: true });
    expect(iam.authorizeServiceInvoke('events.amazonaws.com', `${ruleArn}-other`, reconciler).allowed).toBe(false);
    expect(iam.authorizeServiceInvoke('events.amazonaws.com', ruleArn, createPayment).allowed).toBe(false);
    expect(iam.authorizeServiceInvoke('apigateway.amazonaws.com', ruleArn, reconciler).allowed).toBe(false);
    expect(iam.authorizeServiceInvoke('apigateway.amazonaws.com', method('POST', '/v1/payments'), createPayment).allowed).toBe(true);
    expect(iam.authorizeServiceInvoke('apigateway.amazonaws.com', method('GET', '/v1/payments'), createPayment).allowed).toBe(false);
  });

  it('refuses a grant once the template no longer has it, and still allows the grants beside it', () => {
    // Prepare
    const removed = TemplateIam.fromTemplate(withoutGrant(template, roleOf(template, 'CreatePayment'), 'dynamodb:PutItem'));

    // Act & Assess
    expect(removed.authorize(session('CreatePayment'), 'dynamodb:PutItem', tableArn).allowed).toBe(false);
    expect(removed.authorize(session('CreatePayment'), 'dynamodb:UpdateItem', tableArn).allowed).toBe(true);
    expect(iam.authorize(session('CreatePayment'), 'dynamodb:PutItem', tableArn).allowed).toBe(true);
  });

  describe('refuses a template that uses what it does not evaluate, naming where', () => {
    /** A template whose copy a test edits in place. */
    type Editable = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };
    const changed = (change: (copy: Editable) => void): CfnTemplate => {
      const copy = structuredClone(template) as Editable;
      change(copy);
      return copy;
    };
    const policyOfFunction = (copy: CfnTemplate, functionName: string) => copy.Resources[policyOf(copy, roleOf(copy, functionName))]!;

    it('a Condition on a statement', () => {
      // Prepare
      const copy = changed((t) => {
        const document = policyOfFunction(t, 'CreatePayment').Properties!['PolicyDocument'] as { Statement: Record<string, unknown>[] };
        document.Statement[1]!['Condition'] = { StringEquals: { 'aws:RequestedRegion': 'us-east-1' } };
      });

      // Act & Assess
      expect(() => TemplateIam.fromTemplate(copy)).toThrow(UnsupportedPolicyError);
      expect(() => TemplateIam.fromTemplate(copy)).toThrow(new RegExp(`^${policyOf(template, roleOf(template, 'CreatePayment'))}, statement 2 uses Condition`));
    });

    it('an AWS managed policy it does not know', () => {
      // Prepare
      const copy = changed((t) => {
        t.Resources[roleOf(t, 'Capture')]!.Properties!['ManagedPolicyArns'] = ['arn:aws:iam::aws:policy/AdministratorAccess'];
      });

      // Act & Assess
      expect(() => TemplateIam.fromTemplate(copy)).toThrow('managed policy arn:aws:iam::aws:policy/AdministratorAccess is not known to the local IAM');
    });

    it('a permissions boundary, a managed policy of the stack, a resource policy on the table', () => {
      // Prepare
      const boundary = changed((t) => (t.Resources[roleOf(t, 'Capture')]!.Properties!['PermissionsBoundary'] = 'arn:aws:iam::000000000000:policy/b'));
      const managed = changed((t) => (t.Resources['Extra'] = { Type: 'AWS::IAM::ManagedPolicy', Properties: {} }));
      const tablePolicy = changed((t) => (t.Resources[idOf(t, 'AWS::DynamoDB::Table', 'PaymentsTable')]!.Properties!['ResourcePolicy'] = {}));

      // Act & Assess
      expect(() => TemplateIam.fromTemplate(boundary)).toThrow('property PermissionsBoundary is not evaluated by the local IAM');
      expect(() => TemplateIam.fromTemplate(managed)).toThrow('Extra: AWS::IAM::ManagedPolicy is not evaluated by the local IAM');
      expect(() => TemplateIam.fromTemplate(tablePolicy)).toThrow('property ResourcePolicy is not evaluated by the local IAM');
    });

    it("a function whose role Lambda could not assume", () => {
      // Prepare
      const copy = changed((t) => {
        const trust = t.Resources[roleOf(t, 'Capture')]!.Properties!['AssumeRolePolicyDocument'] as { Statement: { Principal: { Service: string } }[] };
        trust.Statement[0]!.Principal.Service = 'states.amazonaws.com';
      });

      // Act & Assess
      expect(() => TemplateIam.fromTemplate(copy).roleOfFunction(functionOf(copy, 'Capture'))).toThrow('does not trust lambda.amazonaws.com');
    });

    it('a state machine whose role trusts Step Functions only on behalf of another state machine', () => {
      // Prepare: the confused-deputy condition CDK writes, pointed elsewhere.
      const machine = idOf(template, 'AWS::StepFunctions::StateMachine', 'PaymentSagaStateMachine');
      const copy = changed((t) => {
        const trust = t.Resources[iam.roleOfStateMachine(machine)]!.Properties!['AssumeRolePolicyDocument'] as {
          Statement: { Condition: { ArnLike: Record<string, unknown> } }[];
        };
        trust.Statement[0]!.Condition.ArnLike['aws:SourceArn'] = 'arn:aws:states:us-east-1:000000000000:stateMachine:Other';
      });

      // Act & Assess
      expect(() => TemplateIam.fromTemplate(copy).roleOfStateMachine(machine)).toThrow(`does not trust states.amazonaws.com to assume it for ${paymentSagaArn}`);
    });
  });
});
