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


def test_the_spec_reads_the_handlers_own_list_of_the_attributes_it_writes():
    # The spec's TTL rule parses handler/config.py instead of importing the handler; here, with the
    # handler imported, the parsed list must be the live one and the one the store actually writes.
    import config
    from store import ItemStore

    from blueprint.spec.pysource import constant
    from blueprint.spec.rules.ttl_attribute_free import HANDLER_CONFIG, MANAGED

    assert constant(HANDLER_CONFIG, MANAGED) == config.MANAGED_ATTRIBUTES

    class Recorder:
        def put_item(self, **kwargs):
            self.item = kwargs["Item"]

    client = Recorder()
    ItemStore(client, "t", "expiresAt", 30).create({"name": "x"})
    assert set(client.item) == config.MANAGED_ATTRIBUTES | {"expiresAt"}
