"""The local AWS process: moto's server on 127.0.0.1, with blueprint's patches (blueprint.local.patches) installed.

Run as `python -m blueprint.local.server --port N` (blueprint.local starts it detached). It
serves every service moto has on one port, like `moto_server`, until SIGTERM/SIGINT. The HTTP layer
keeps connections alive and routes without moto's global lock (blueprint.local.fast); moto answers.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any


def serve(host: str, port: int) -> None:
    """Install the patches, then serve moto on host:port until stopped."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from blueprint.local import fast
    from blueprint.local import patches

    applied = patches.apply()
    app = fast.fast_dispatcher(DomainDispatcherApplication)(create_backend_app)
    server = make_server(host, port, app, threaded=True, request_handler=fast.keep_alive_handler(MotoRequestHandler))

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"blueprint local AWS (moto) on http://{host}:{server.server_port}; patches: {', '.join(applied)}",
          flush=True)
    try:
        server.serve_forever()
    finally:
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blueprint.local.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind; only loopback addresses are accepted (no credentials are checked)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the local AWS checks no credentials: bind it to a loopback address only")
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(args.host, args.port)
    return 0


if __name__ == "__main__":
    sys.exit(main())
