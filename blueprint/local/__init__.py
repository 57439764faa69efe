"""Beside the pipeline: the embedded local AWS and the local API, so everything runs with no AWS account.

  process   start, find and stop the local AWS (moto in server mode on 127.0.0.1); the `local` command
  server    the local AWS's process: moto's server with the patches installed and a faster HTTP layer
  timing    the local AWS's timing option (off, or aws with a time scale), as every part spells it
  fast      that HTTP layer (keep-alive, lock-free backend dispatch)
  patches   where moto falls short for this stack, one file per service, installed by `patches.apply()`
  gateway   a local API Gateway (REST) serving a rendered template's API in-process
  serve     the `serve` command: the gateway pointed at what the local AWS deployed
"""
