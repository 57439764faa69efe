"""Stage 1 of the pipeline: the spec files in, validated data classes out.

  load      read blueprint.yaml and envs/<env>.yaml, deep-merge them, remember every value's file:line
  yamlread  one file's YAML as data, with the limits (depth, aliases, documents) checked as it is read
  scalars   what a YAML scalar means, so that this tool and the editor (YAML 1.2) read it alike
  schema    the JSON Schema of the merged spec, its errors told as people read them
  ecma      ECMA-262 regular expressions on Python's `re`: what the schema's patterns mean
  rules     the cross-field rules, one a file
  validate  both, located: `FILE:LINE: key: what is wrong (what is allowed)`; the `validate` command
  model     the validated spec as frozen data classes: what every later stage reads
  pysource  constants read from other parts of the project's source without importing them
  runtimes  the offered Lambda runtimes, from cfn-lint's data and the package step's targets
  docs      the README's spec reference, the override schema and the schema's runtimes (`make docs`)
"""
