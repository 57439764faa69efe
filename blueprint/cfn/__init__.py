"""CloudFormation knowledge every stage shares: the template loader, the one reference walker, the one
structural diff and the reader of the resource provider schemas cfn-lint ships.

Nothing here knows the spec, AWS sessions or the local AWS: render, ship and local all use it, and it
uses none of them.
"""
