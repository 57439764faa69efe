"""A local API Gateway (REST, v1) that serves one rendered template's API in-process.

Each module has one job:
  definition read the template's API resources into plain data (routes, methods, limits, responses)
  routing    match a request path to a resource path and its path parameters
  throttle   token buckets (usage plan per key, stage method settings) and usage-plan quotas
  vtl        the small subset of Velocity the templates' mapping templates use
  responses  API Gateway's own answers (gateway responses) and MOCK integrations (CORS preflight)
  events     the Lambda proxy event (payload 1.0) and the checks on the proxy response
  runtime    the handler, imported in-process in Lambda-like containers, with its timeouts
  accesslog  the stage's access-log format, one line per request
  core       the request pipeline that ties them together (no sockets)
  http11     HTTP/1.1 request framing on bytes: the head, the body, what cannot be served and why
  httpserver the server in front of the pipeline: one event loop for the sockets, a bounded pool of workers
"""
