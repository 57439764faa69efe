"""The routes the spec declares for the API and the routes the handler serves are one list."""
from __future__ import annotations

from handler_testing import ROOT

from blueprint.spec import load as spec
from blueprint.spec.validate import load_valid


def test_every_environment_declares_exactly_the_routes_the_handler_serves(handler_app):
    served = sorted(handler_app.ROUTES)
    for env in spec.environments(ROOT):
        (validated,) = load_valid(ROOT, [env])
        declared = sorted((route.path, method) for route in validated.api.routes for method in route.methods)
        assert declared == served, f"envs/{env}.yaml + blueprint.yaml api.routes drift from handler/app.py ROUTES"
