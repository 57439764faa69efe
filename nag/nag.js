// cdk-nag's AwsSolutions pack on rendered templates: `node nag.js <template.yaml>...` (make nag).
// Each template is brought into an empty CDK stack with CfnInclude, so cdk-nag sees exactly the
// resources CloudFormation deploys; suppressions are the resources' own Metadata (cdk_nag).
// Prints one line per finding, `<template> <rule> <resource> <message>`; exit 1 on any error.
"use strict";
const path = require("path");
const { App, Aspects, Stack } = require("aws-cdk-lib");
const { CfnInclude } = require("aws-cdk-lib/cloudformation-include");
const { AwsSolutionsChecks } = require("cdk-nag");

let errors = 0;
for (const file of process.argv.slice(2)) {
  const app = new App();
  const stack = new Stack(app, "Nag" + path.basename(path.dirname(file)).replace(/[^A-Za-z0-9]/g, ""));
  new CfnInclude(stack, "Template", { templateFile: file });
  Aspects.of(app).add(new AwsSolutionsChecks({ verbose: false }));
  const assembly = app.synth();
  const messages = assembly.getStackArtifact(stack.artifactId).messages;
  for (const m of messages) {
    if (m.level !== "error" && m.level !== "warning") continue;
    if (m.level === "error") errors += 1;
    const text = String(m.entry.data).split("\n")[0];
    console.log(`${file} ${m.level} ${m.id.replace(/^\/[^/]+\/Template\//, "")} ${text}`);
  }
}
process.exit(errors ? 1 : 0);
