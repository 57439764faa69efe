"""Stage 2 of the pipeline: validated specs in, checked CloudFormation text out (generated/<env>/).

  toolkit    how a value reaches the YAML (quoting, blocks, tags, checkov skips) and the Jinja environment
  context    what the templates are given beside the spec: names, subnets, the API's resource tree
  alarms     the alarms' fixed names and thresholds, the health alarm's rule, the dashboard's body
  templates  render an environment's template (and the bootstrap one) through templates/*.j2
  settings   generated/<env>/stack.json: what the deploy step adds beside the template
  check      the rendered text parsed back and reference-checked before it is written
  files      where generated files live, writing them, finding stale ones
  command    the `render` command
"""
