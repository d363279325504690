import { readFileSync } from 'node:fs';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { App } from 'aws-cdk-lib';
import { ChargeonceStack } from '../../lib/chargeonce-stack.ts';

/** A CloudFormation template as JSON. */
export type CfnTemplate = { Resources: Record<string, { Type: string; Properties?: Record<string, unknown> }> };

const projectRoot = path.resolve(import.meta.dirname, '../..');

/**
 * Synthesizes the CDK app's stack in this process, with cdk.json's context (feature flags
 * included) and without bundling: the local stack needs the template's state machine and
 * table, not the Lambda bundles, and this keeps start-up to a few seconds. The template is
 * the one `cdk deploy` deploys, so the local stack cannot drift from it.
 */
export function synthesizeTemplate(): CfnTemplate {
  const cdkJson = JSON.parse(readFileSync(path.join(projectRoot, 'cdk.json'), 'utf8')) as {
    context?: Record<string, unknown>;
  };
  const outdir = mkdtempSync(path.join(tmpdir(), 'chargeonce-synth-'));
  try {
    const app = new App({
      outdir,
      context: { ...cdkJson.context, 'aws:cdk:bundling-stacks': [] },
    });
    const stack = new ChargeonceStack(app, 'Chargeonce');
    return app.synth().getStackByName(stack.stackName).template as CfnTemplate;
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}
