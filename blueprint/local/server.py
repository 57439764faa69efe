"""The local AWS process: moto's server on 127.0.0.1, with blueprint's patches (blueprint.local.patches) installed.

Run as `python -m blueprint.local.server --port N [--timing off|aws] [--time-scale F]` (blueprint.local
starts it detached). It serves every service moto has on one port, like `moto_server`, until
SIGTERM/SIGINT, which also ends the CloudFormation engine's background operations. The HTTP layer keeps
connections alive and routes without moto's global lock (blueprint.local.fast); moto answers. The
timing (blueprint.local.timing) is the engine's: off answers every stack operation within its request.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
from typing import Any

from blueprint.local import timing as timing_option


def serve(host: str, port: int, timing: timing_option.Timing = timing_option.Timing()) -> None:
    """Install the patches, then serve moto on host:port until stopped."""
    from moto.moto_server.werkzeug_app import DomainDispatcherApplication, MotoRequestHandler, create_backend_app
    from werkzeug.serving import make_server

    from blueprint.local import fast
    from blueprint.local import patches
    from blueprint.local.patches.cloudformation import clock

    clock.configure(timing)
    applied = patches.apply()
    app = fast.fast_dispatcher(DomainDispatcherApplication)(create_backend_app)
    server = make_server(host, port, app, threaded=True, request_handler=fast.keep_alive_handler(MotoRequestHandler))

    def stop(signum: int, frame: Any) -> None:
        raise SystemExit(0)

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print(f"blueprint local AWS (moto) on http://{host}:{server.server_port} ({timing.describe()}); "
          f"patches: {', '.join(applied)}", flush=True)
    try:
        server.serve_forever()
    finally:
        clock.stop()  # background stack operations end with the server
        server.server_close()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m blueprint.local.server", description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--host", default="127.0.0.1",
                        help="address to bind; only loopback addresses are accepted (no credentials are checked)")
    parser.add_argument("--timing", choices=timing_option.MODES, default="off",
                        help="off: every stack operation is done within its request; aws: they take AWS's time")
    parser.add_argument("--time-scale", default="1", help="multiplies every wait of the timing model (e.g. 0.05)")
    args = parser.parse_args(argv)
    if args.host not in ("127.0.0.1", "localhost", "::1"):
        parser.error("the local AWS checks no credentials: bind it to a loopback address only")
    try:
        timing = timing_option.parse(args.timing, args.time_scale)
    except ValueError as exc:
        parser.error(str(exc))
    logging.basicConfig(level=logging.WARNING, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    serve(args.host, args.port, timing)
    return 0


if __name__ == "__main__":
    sys.exit(main())
