"""Rollout across environments: rollout.yaml (definition), one package digest promoted wave by wave (command),
the release manifest (manifest), the gates between waves (gates) and the generated CI (blueprint.rollout.ci)."""
