"""Stage 3 of the pipeline: a rendered template shipped to AWS as a reviewed change set, executed, watched.

  prepare        validate + render afresh, refuse a stale generated/, build the package: one Prepared value
  package        the handler zip, deterministic, named by its SHA-256
  aws            the one place sessions and clients are made; AWS's errors as messages for people
  upload         the artifacts bucket, the package and large templates in S3
  stacks         the one stack lookup, whether a stack can take a change set, poll pacing
  concurrency    reserved concurrency against the account's Lambda quota, before a change set
  changeset      create, wait, describe, review; the `changeset` command (--revert-drift: drift-aware)
  review         the review as data (change set or plan); report prints it (text, JSON)
  records        what a review leaves for its deploy (.blueprint/<target>/<env>/), and the outputs file
  protect        a protected stack's policy and termination protection
  events         a stack operation's events followed to its end
  execute        the replacement guard, then ExecuteChangeSet, followed
  drift          drift detection, its table (text, JSON); the `drift` command and deploy's guard
  deploy         the `deploy` command: exactly the reviewed change set, or a refusal
  bootstrap      the `bootstrap` command (the per-account stack)
  plan           the `plan` command (offline diff)
  stack_commands `status`, `outputs`, `destroy`
"""
