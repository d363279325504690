/**
 * cdk-nag's AwsSolutions checks on the stack: what they find is fixed, or acknowledged next to
 * the construct it concerns with the reason it stays (`lib/nag.ts`).
 */
import { Validations } from 'aws-cdk-lib';
import { AwsSolutionsChecks } from 'cdk-nag';
import type { IConstruct } from 'constructs';
import { beforeAll, describe, expect, it } from 'vitest';
import { apiRoutes } from '../../functions/catalog.ts';
import { WILDCARD_ONLY_ACTIONS, synthesize, type Synthesized } from './synth.ts';

let synth: Synthesized;
beforeAll(() => {
  synth = synthesize();
});

interface Finding {
  readonly rule: string;
  readonly severity: string;
  readonly path: string;
}

interface Acknowledgment {
  readonly construct: IConstruct;
  /** The rule as cdk-nag names it (`AwsSolutions-IAM5[Resource::*]`). */
  readonly rule: string;
  readonly reason: string;
  /** The metadata entry that holds it, and its key there. */
  readonly entry: Record<string, string>;
  readonly key: string;
}

/** What the checks find on the stack that no acknowledgment covers, one per rule and resource. */
function findings(): Finding[] {
  const report = new AwsSolutionsChecks().validateScope(synth.stack);
  return report.violations.flatMap((violation) =>
    violation.violatingResources.map((resource) => ({
      rule: violation.ruleName,
      severity: violation.severity ?? 'error',
      path: resource.constructPath ?? '',
    })),
  );
}

/** Every acknowledgment in the app. */
function acknowledgments(): Acknowledgment[] {
  return synth.stack.node.root.node.findAll().flatMap((construct) =>
    construct.node.metadata
      .filter((entry) => entry.type === Validations.ACKNOWLEDGED_RULES_METADATA_KEY)
      .flatMap((metadata) => {
        const entry = metadata.data as Record<string, string>;
        // CDK files a rule id of no plugin it knows under its annotations (`Annotation::`).
        return Object.entries(entry).map(([key, reason]) => ({ construct, rule: key.replace(/^annotation::/i, ''), reason, entry, key }));
      }),
  );
}

/** {@link findings} with some acknowledgments withdrawn (put back afterwards). */
function findingsWithout(withdrawn: readonly Acknowledgment[]): Finding[] {
  for (const ack of withdrawn) delete ack.entry[ack.key];
  try {
    return findings();
  } finally {
    for (const ack of withdrawn) ack.entry[ack.key] = ack.reason;
  }
}

/** `path` is the construct's or one below it. */
const within = (path: string, construct: IConstruct) => path === construct.node.path || path.startsWith(`${construct.node.path}/`);

type TemplateJson = { Resources: Record<string, { Type: string; Properties: any }> };

/** Each action some policy of the template allows on the resource `*`, with the policy's logical id. */
function actionsOnEveryResource(template: TemplateJson): string[] {
  return Object.entries(template.Resources)
    .filter(([, resource]) => resource.Type === 'AWS::IAM::Policy')
    .flatMap(([id, policy]) =>
      (policy.Properties.PolicyDocument.Statement as { Effect: string; Action: string | string[]; Resource: unknown }[])
        .filter((s) => s.Effect === 'Allow' && ([] as unknown[]).concat(s.Resource).includes('*'))
        .flatMap((s) => ([] as string[]).concat(s.Action).map((action) => `${id} ${action}`)),
    );
}

describe('cdk-nag AwsSolutions checks', () => {
  it('find nothing unacknowledged, error or warning', () => {
    // Act
    const found = findings();

    // Assess
    expect(found).toEqual([]);
  });

  it('find each method again once the Cognito acknowledgment is removed', () => {
    // Prepare
    const cognito = acknowledgments().filter((ack) => ack.rule === 'AwsSolutions-COG4');

    // Act
    const found = findingsWithout(cognito);

    // Assess
    expect(cognito).toHaveLength(1);
    expect(found.filter((finding) => finding.rule === 'AwsSolutions-COG4')).toHaveLength(apiRoutes.length);
    expect(found.every((finding) => finding.rule === 'AwsSolutions-COG4')).toBe(true);
  });

  it('are acknowledged next to the construct concerned, with a reason, and only for what they find there', () => {
    // Prepare
    const all = acknowledgments();

    // Act
    const unacknowledged = findingsWithout(all);

    // Assess
    expect(all.length).toBeGreaterThan(0);
    for (const ack of all) {
      const where = `${ack.rule} on ${ack.construct.node.path}`;
      // Not the app or the stack: a rule waved through there would hide every later finding.
      expect(ack.construct.node.scopes.length, where).toBeGreaterThan(2);
      expect(ack.reason.length, where).toBeGreaterThan(60);
      expect(
        unacknowledged.some((finding) => finding.rule === ack.rule && within(finding.path, ack.construct)),
        `${where} acknowledges nothing found there`,
      ).toBe(true);
    }
  });

  it('see * as a resource only for the actions that take nothing narrower (what the IAM5 acknowledgments of * rely on)', () => {
    // Prepare: the same check on a template that grants a table action on *, to see it can fail.
    const template = synth.template.toJSON() as TemplateJson;
    const mutated = structuredClone(template);
    const [somePolicy] = Object.values(mutated.Resources).filter((r) => r.Type === 'AWS::IAM::Policy');
    somePolicy!.Properties.PolicyDocument.Statement.push({ Effect: 'Allow', Action: 'dynamodb:PutItem', Resource: '*' });

    // Act
    const granted = actionsOnEveryResource(template);
    const mutatedGranted = actionsOnEveryResource(mutated);

    // Assess
    expect(granted.length).toBeGreaterThan(0);
    expect(granted.filter((grant) => !WILDCARD_ONLY_ACTIONS.has(grant.split(' ')[1]!))).toEqual([]);
    expect(mutatedGranted.filter((grant) => !WILDCARD_ONLY_ACTIONS.has(grant.split(' ')[1]!))).toHaveLength(1);
  });
});
