"""The embedded local AWS: moto in server mode plus the compatibility layer it needs for this stack.

`server` is the process entry point (`python -m blueprint.localaws.server`); `compat` holds the
named patches loaded into that process only. Nothing here is imported by `blueprint render`.
"""
