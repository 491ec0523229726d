#!/usr/bin/env node
// Differential oracle: runs @cloud-copilot/iam-simulate (AGPL, test-only, installed by scripts/oracle-setup) on
// every case of a `why-task-failed simulate --cases` JSONL file and writes one line per case in the same shape:
// {"id", "decision"} or {"id", "error"}. Usage: node tests/oracle/run.cjs CASES.jsonl > oracle.jsonl
'use strict';
const fs = require('fs');
// Resolved from tests/oracle/node_modules, next to this script.
const { runSimulation } = require('@cloud-copilot/iam-simulate');

function named(doc, fallback) {
  if (doc && typeof doc === 'object' && !Array.isArray(doc) && 'policy' in doc) {
    return { name: doc.name || doc.arn || fallback, policy: doc.policy };
  }
  return { name: fallback, policy: doc };
}

function levels(list, field) {
  return (list || []).map((item, i) => {
    if (item && typeof item === 'object' && Array.isArray(item.policies)) {
      const id = item.id || item.orgIdentifier || `${field}[${i}]`;
      return { orgIdentifier: id, policies: item.policies.map((d, j) => named(d, `${id}[${j}]`)) };
    }
    return { orgIdentifier: `${field}[${i}]`, policies: [named(item, `${field}[${i}]`)] };
  });
}

function arnAccount(arn) {
  if (typeof arn !== 'string' || !arn.startsWith('arn:')) return undefined;
  const account = arn.split(':')[4];
  return account ? account : undefined;
}

function toSimulation(c) {
  const req = c.request || {};
  const action = req.action || '';
  let resourcePolicy = c.resourcePolicy || undefined;
  if (/^sts:(assumerole|tagsession$|setsourceidentity$|setcontext$)/i.test(action) && c.trustPolicy) {
    resourcePolicy = c.trustPolicy;
  }
  if (/^kms:/i.test(action) && c.kmsKeyPolicy) resourcePolicy = c.kmsKeyPolicy;
  const resource = req.resource || '*';
  const accountId = req.resourceAccount || arnAccount(resource) || arnAccount(req.principal) || '';
  const sim = {
    request: {
      principal: req.principal,
      action,
      resource: { resource, accountId },
      contextVariables: req.context || {},
    },
    identityPolicies: (c.identityPolicies || []).map((d, i) => named(d, `identityPolicies[${i}]`)),
    serviceControlPolicies: levels(c.scps, 'scps'),
    resourceControlPolicies: levels(c.rcps, 'rcps'),
    resourcePolicy: resourcePolicy ? named(resourcePolicy, 'resourcePolicy').policy : undefined,
  };
  if (c.permissionBoundaries) {
    sim.permissionBoundaryPolicies = c.permissionBoundaries.map((d, i) => named(d, `permissionBoundaries[${i}]`));
  }
  if (c.sessionPolicy) sim.sessionPolicy = named(c.sessionPolicy, 'sessionPolicy').policy;
  if (c.vpcEndpointPolicies) {
    sim.vpcEndpointPolicies = c.vpcEndpointPolicies.map((d, i) => named(d, `vpcEndpointPolicies[${i}]`));
  }
  return sim;
}

async function main() {
  const file = process.argv[2];
  if (!file) {
    process.stderr.write('usage: run.cjs CASES.jsonl\n');
    process.exit(2);
  }
  const lines = fs.readFileSync(file, 'utf8').split('\n');
  const out = [];
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim()) continue;
    let c;
    try {
      c = JSON.parse(line);
    } catch (e) {
      out.push(JSON.stringify({ id: `line ${i + 1}`, error: `not JSON: ${e.message}` }));
      continue;
    }
    const id = c.id !== undefined ? String(c.id) : `line ${i + 1}`;
    try {
      const result = await runSimulation(toSimulation(c), {});
      if (result.resultType === 'error') {
        out.push(JSON.stringify({ id, error: result.errors.message, details: result.errors }));
      } else {
        out.push(JSON.stringify({ id, decision: result.overallResult }));
      }
    } catch (e) {
      out.push(JSON.stringify({ id, error: `exception: ${e.message}` }));
    }
  }
  process.stdout.write(out.join('\n') + (out.length ? '\n' : ''));
}

main().catch((e) => {
  process.stderr.write(`oracle failed: ${e.stack || e}\n`);
  process.exit(3);
});
