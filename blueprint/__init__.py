"""blueprint: one YAML spec of a serverless service -> per-environment CloudFormation -> change sets."""
