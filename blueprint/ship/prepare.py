"""The first step of every shipping command: the spec validated, rendered afresh, and refused when stale.

`prepare` returns one `Prepared` value — template text and its parse, stack settings, tags, the
digests of the spec files it came from, and the handler package being built beside it — that every
later step takes. Nothing after it reloads the spec or re-reads generated/ for what it knew.
"""
from __future__ import annotations

import hashlib
from concurrent.futures import Future, ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from blueprint.cfn import loader
from blueprint.errors import UserError
from blueprint.render import settings as stack_settings
from blueprint.render.files import BOOTSTRAP, stale_files, template_file
from blueprint.render.settings import StackSettings
from blueprint.render.templates import render_all
from blueprint.ship.package import Package, build_package, package_dir
from blueprint.spec.validate import load_valid


def sha256_text(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(root: Path, name: str) -> str | None:
    """The SHA-256 of a project file's bytes; None when it is missing or cannot be read."""
    try:
        return hashlib.sha256((Path(root) / name).read_bytes()).hexdigest()
    except OSError:
        return None


def spec_digests(root: Path, files: tuple[str, ...] | list[str]) -> dict[str, str]:
    """Each spec file (as the spec names it, relative to the root) -> the SHA-256 of its bytes.

    deploy hashes the same files again to tell whether the spec changed since the review; it never
    reloads or validates the spec for that.
    """
    return {name: file_sha256(root, name) or "" for name in files}


@dataclass(frozen=True)
class Prepared:
    """A rendered template that matches the spec, with what the deploy step needs beside it."""

    env: str
    stack_name: str
    settings: StackSettings
    template_text: str
    template: dict[str, Any] = field(hash=False)
    template_sha256: str
    template_file: str
    tags: dict[str, str] = field(hash=False)
    spec_files: dict[str, str] = field(default_factory=dict, hash=False)  # spec file -> SHA-256 (spec_digests)
    bootstrap: bool = False  # the account's bootstrap stack, not the environment's
    building: Future | None = field(default=None, hash=False, compare=False)

    def package(self) -> Package:
        """The handler package (waits for its build); UserError when it could not be built."""
        if self.building is None:
            raise UserError(f"internal: {self.stack_name} was prepared without its package")
        return self.building.result()

    def settle(self) -> None:
        """Wait for the package build, whatever happened: a refused command must not leave it writing."""
        if self.building is not None:
            wait([self.building])


def _start_build(root: Path, runtime: str, architecture: str) -> Future:
    """Build the handler zip in a thread while the template is rendered and AWS is asked (zlib frees the GIL)."""
    pool = ThreadPoolExecutor(max_workers=1)
    future = pool.submit(build_package, root, runtime, architecture, package_dir(root))
    pool.shutdown(wait=False)
    return future


def prepare(root: Path, env: str, bootstrap: bool = False, with_package: bool = True) -> Prepared:
    """The environment's (or, with bootstrap, the account's bootstrap) template, refused when stale."""
    root = Path(root)
    (spec,) = load_valid(root, [env])
    building = _start_build(root, spec.function.runtime, spec.function.architecture) \
        if with_package and not bootstrap else None
    try:
        outputs = render_all(root, [spec])
        stale = stale_files(root, outputs)
        if stale:
            raise UserError(f"generated/ is stale for {env}: {', '.join(stale)} differ from a fresh render of the "
                            f"spec; run `make render` (blueprint render --env {env}), review and commit it, then retry")
    except BaseException:
        if building is not None:
            wait([building])
        raise
    settings = stack_settings.from_spec(spec)
    rel = template_file(BOOTSTRAP if bootstrap else env)
    text = outputs[rel]
    # The bootstrap stack is the account's, shared by every environment: it carries no env's tags.
    tags = {"ManagedBy": "blueprint"} if bootstrap else dict(settings.tags)
    stack = settings.bootstrap_stack if bootstrap else settings.stack_name
    return Prepared(env, stack, settings, text, loader.loads(text), sha256_text(text), rel, tags,
                    spec_digests(root, spec.files), bootstrap, building)
