import { payoutSteps, refundSteps, sagaSteps, webhookSteps } from '../../functions/catalog.ts';
import type { CfnTemplate } from '../../local/assembly/intrinsics.ts';
import { type LocalStreamMapping, streamMappingsOf } from '../../local/assembly/resources.ts';
import { stateMachineDefinitions } from '../../local/assembly/state-machine-definition.ts';
import { synthesizeTemplate } from '../../local/assembly/synthesize.ts';
import { type AslDefinition, requireModelled } from './interpreter.ts';

export interface Machines {
  readonly payment: AslDefinition;
  readonly refund: AslDefinition;
}

/** What the simulation takes from the deployed stack rather than restating it. */
export interface Deployment {
  /** The payment and refund sagas, told apart by their Task states (the catalog's steps). */
  readonly machines: Machines;
  /** How long a Lambda runs before Lambda stops it: the longest of the stack's functions. */
  readonly lambdaTimeoutMs: number;
  /** The ledger poster's event source mapping on the table's stream: its batch size, retries, bisection and filter. */
  readonly ledgerMapping: LocalStreamMapping;
}

let deployment: Deployment | undefined;

/**
 * The stack as the CDK app synthesizes it (the same template `cdk deploy` deploys and the local
 * stack runs). Synthesized once per process: a few seconds.
 */
export function loadDeployment(): Deployment {
  if (deployment === undefined) {
    const template = synthesizeTemplate();
    deployment = { machines: machinesOf(template), lambdaTimeoutMs: 1000 * longestTimeout(template), ledgerMapping: onlyMapping(template) };
  }
  return deployment;
}

function machinesOf(template: CfnTemplate): Machines {
  const definitions = stateMachineDefinitions(template).map(({ definition }) => definition as unknown as AslDefinition);
  const runs = (steps: object) => (definition: AslDefinition) =>
    Object.entries(definition.States).some(([name, state]) => state.Type === 'Task' && name in steps);
  const payment = definitions.find(runs(sagaSteps));
  const refund = definitions.find(runs(refundSteps));
  // The payout saga and the webhook delivery are deployed too; the simulated histories make no
  // payouts and register no endpoints, so neither is run here.
  const payout = definitions.find(runs(payoutSteps));
  const delivery = definitions.find(runs(webhookSteps));
  if (payment === undefined || refund === undefined || payout === undefined || delivery === undefined || definitions.length !== 4) {
    throw new Error('the stack should have four state machines: the payment, refund and payout sagas, and the webhook delivery');
  }
  requireModelled(payment);
  requireModelled(refund);
  return { payment, refund };
}

function longestTimeout(template: CfnTemplate): number {
  const timeouts = Object.values(template.Resources)
    .filter((resource) => resource.Type === 'AWS::Lambda::Function')
    // Lambda's default when a function sets none.
    .map((resource) => Number(resource.Properties?.['Timeout'] ?? 3));
  if (timeouts.length === 0) throw new Error('the stack has no Lambda function');
  return Math.max(...timeouts);
}

/** The ledger poster's mapping (construct `Functions/LedgerPoster`); the event publisher's is not simulated. */
function onlyMapping(template: CfnTemplate): LocalStreamMapping {
  const mappings = streamMappingsOf(template).filter((mapping) => mapping.functionLogicalId.startsWith('FunctionsLedgerPoster'));
  if (mappings.length !== 1 || mappings[0] === undefined) throw new Error(`the stack should have one stream mapping to the ledger poster; it has ${mappings.length}`);
  return mappings[0];
}
