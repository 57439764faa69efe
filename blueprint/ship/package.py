"""Build the Lambda function's zip: handler/*.py at the root plus its pinned runtime dependencies.

The zip is deterministic (sorted entries, timestamps 1980-01-01, modes 0o644/0o755, no
bytecode), so the same sources and requirements give the same bytes, and its SHA-256 names it:
build/package/handler-<sha256[:16]>.zip. A changed name is what makes CloudFormation update
the function's code. Dependencies come from requirements/handler.txt, installed by pip for the
function's runtime and architecture (manylinux wheels only), and cached per
(requirements hash, runtime, architecture) under build/pip-cache/.
"""
from __future__ import annotations

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile
import zipfile
from argparse import Namespace
from dataclasses import dataclass
from pathlib import Path

from blueprint.errors import UserError
from blueprint.spec.validate import load_valid

PYTHON_VERSIONS = {"python3.12": "3.12", "python3.13": "3.13", "python3.14": "3.14"}
PLATFORMS = {"arm64": "aarch64", "x86_64": "x86_64"}

# The Lambda Python runtime ships the AWS SDK; a second copy only adds size and version skew.
RUNTIME_PROVIDED = frozenset({"boto3", "botocore", "s3transfer"})
ZIP_DATE = (1980, 1, 1, 0, 0, 0)
LAMBDA_ZIP_LIMIT = 50 * 1024 * 1024  # direct-upload limit for a zipped deployment package
# Bump when the pip command below changes, so old cache entries are not reused.
PIP_RECIPE = "1"


@dataclass(frozen=True)
class Package:
    path: Path
    sha256: str
    size: int


def _normalise(name: str) -> str:
    return name.lower().replace("_", "-").replace(".", "-")


def _check_target(runtime: str, architecture: str) -> tuple[str, str]:
    if runtime not in PYTHON_VERSIONS:
        raise UserError(f"runtime {runtime!r} is not supported for packaging; use one of {', '.join(PYTHON_VERSIONS)}")
    if architecture not in PLATFORMS:
        raise UserError(f"architecture {architecture!r} is not supported; use one of {', '.join(PLATFORMS)}")
    return PYTHON_VERSIONS[runtime], PLATFORMS[architecture]


def _dist_names(site: Path) -> dict[str, Path]:
    """Installed distributions under `site`: normalised name -> its .dist-info folder."""
    out = {}
    for info in site.glob("*.dist-info"):
        name = info.name[: -len(".dist-info")].rsplit("-", 1)[0]
        out[_normalise(name)] = info
    return out


def _top_level(info: Path) -> set[str]:
    """The top-level paths a distribution installed, from its RECORD."""
    record = info / "RECORD"
    if not record.is_file():
        return {info.name}
    return {line.split(",", 1)[0].split("/", 1)[0] for line in record.read_text(encoding="utf-8").splitlines() if line}


def _remove_runtime_provided(site: Path) -> None:
    """Drop boto3/botocore/s3transfer even if something pulled them in transitively."""
    for name, info in _dist_names(site).items():
        if name in RUNTIME_PROVIDED:
            for top in _top_level(info) | {info.name}:
                target = site / top
                if target.is_dir():
                    shutil.rmtree(target)
                elif target.exists():
                    target.unlink()


def _check_closure(site: Path) -> None:
    """Every unconditional requirement of an installed dist is installed too (or the runtime has it).

    pip runs with --no-deps (the requirements file is the full pinned set), so a missing pin
    would otherwise surface only as an ImportError in Lambda.
    """
    installed = _dist_names(site)
    missing = []
    for name, info in sorted(installed.items()):
        metadata = (info / "METADATA").read_text(encoding="utf-8", errors="replace")
        for line in metadata.splitlines():
            if not line.startswith("Requires-Dist:") or ";" in line:
                continue  # conditional requirements (extras, markers) are not part of the base install
            match = re.match(r"[A-Za-z0-9._-]+", line.split(":", 1)[1].strip())
            dep = _normalise(match.group(0)) if match else ""
            if dep and dep not in installed and dep not in RUNTIME_PROVIDED:
                missing.append(f"{dep} (needed by {name})")
    if missing:
        raise UserError("requirements/handler.txt misses pinned dependencies: " + ", ".join(missing)
                        + "; add them with exact versions (==)")


def install_dependencies(requirements: Path, runtime: str, architecture: str, cache_root: Path) -> Path:
    """pip install the requirements for the target into a cached folder and return it."""
    pyver, platform = _check_target(runtime, architecture)
    text = requirements.read_bytes()
    key = hashlib.sha256(b"\0".join([text, runtime.encode(), architecture.encode(), PIP_RECIPE.encode()])).hexdigest()
    target = cache_root / f"{runtime}-{architecture}-{key[:16]}"
    if (target / ".complete").is_file():
        return target
    lines = [ln.split("#", 1)[0].strip() for ln in text.decode("utf-8").splitlines()]
    staging = cache_root / f".tmp-{target.name}-{os.getpid()}"
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    if any(lines):
        cmd = [
            sys.executable, "-m", "pip", "install",
            "--target", str(staging),
            "--platform", f"manylinux2014_{platform}",
            "--implementation", "cp",
            "--python-version", pyver,
            "--only-binary=:all:",
            # The file holds the full pinned set, so pip resolves nothing: boto3/botocore (which
            # aws-xray-sdk asks for) stay out, and the build is what the file says.
            "--no-deps",
            "--no-compile",
            "--disable-pip-version-check",
            "--no-input",
            "--quiet",
            "-r", str(requirements),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True)
        if proc.returncode != 0:
            shutil.rmtree(staging, ignore_errors=True)
            tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-15:])
            raise UserError(f"pip could not install {requirements} for {runtime}/{architecture} "
                            f"(manylinux2014_{platform}, cp{pyver.replace('.', '')}):\n{tail}")
        _remove_runtime_provided(staging)
        shutil.rmtree(staging / "bin", ignore_errors=True)
        _check_closure(staging)
    (staging / ".complete").write_text("ok\n")
    try:
        staging.rename(target)  # atomic: a cache entry is either complete or absent
    except OSError:
        # A parallel build (pytest -n, two terminals) finished the same entry first: use it.
        shutil.rmtree(staging, ignore_errors=True)
        if not (target / ".complete").is_file():
            raise UserError(f"{target} is in the way of the pip cache: delete it and build again") from None
    return target


def _files(base: Path) -> list[tuple[str, Path]]:
    """(name in the zip, file) for everything under `base` except bytecode and the cache marker."""
    out = []
    for path in base.rglob("*"):
        rel = path.relative_to(base)
        if path.is_dir() or "__pycache__" in rel.parts or path.suffix == ".pyc" or rel.name == ".complete":
            continue
        out.append((rel.as_posix(), path))
    return out


def _write_zip(dest: Path, entries: list[tuple[str, Path]]) -> None:
    with zipfile.ZipFile(dest, "w") as zf:
        for name, path in sorted(entries):
            info = zipfile.ZipInfo(name, date_time=ZIP_DATE)
            # Fixed modes, whatever the umask of the machine that built it: shared objects 0o755.
            mode = 0o755 if name.endswith(".so") or ".so." in name else 0o644
            info.external_attr = (0o100000 | mode) << 16
            info.create_system = 3  # unix, so the modes above are what unzip applies
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes(), compress_type=zipfile.ZIP_DEFLATED, compresslevel=9)


def build_package(root: Path, runtime: str, architecture: str, out_dir: Path) -> Package:
    """Build (or rebuild, byte for byte) the function's zip and return where it is."""
    _check_target(runtime, architecture)
    root = Path(root)
    sources = sorted((root / "handler").glob("*.py"))
    if not sources:
        raise UserError(f"{root / 'handler'}: no *.py files to package")
    requirements = root / "requirements" / "handler.txt"
    if not requirements.is_file():
        raise UserError(f"{requirements} is missing: it lists the handler's pinned runtime dependencies")
    site = install_dependencies(requirements, runtime, architecture, root / "build" / "pip-cache")

    out_dir = Path(out_dir)
    inputs = hashlib.sha256(site.name.encode())  # the pip cache entry is immutable once complete
    for path in sources:
        inputs.update(b"\0" + path.name.encode() + b"\0" + path.read_bytes())
    index = out_dir / f"inputs-{inputs.hexdigest()[:32]}.txt"
    cached = _cached(out_dir, index)
    if cached:
        return cached

    entries = [(p.name, p) for p in sources]
    dep_entries = _files(site)
    clashes = sorted({p.name[:-3] for p in sources} & {n.split("/", 1)[0].removesuffix(".py") for n, _ in dep_entries})
    if clashes:
        raise UserError(f"handler module names clash with dependencies at the zip root: {', '.join(clashes)}")
    entries += dep_entries

    out_dir.mkdir(parents=True, exist_ok=True)
    # A unique name: two builds in one process (threads) or in two must not share it.
    with tempfile.NamedTemporaryFile(dir=out_dir, prefix=".handler-", suffix=".zip.tmp", delete=False) as tmp:
        staging = Path(tmp.name)
    try:
        _write_zip(staging, entries)
        data = staging.read_bytes()
    except OSError as exc:
        staging.unlink(missing_ok=True)
        raise UserError(f"could not write the package in {out_dir}: {exc}") from exc
    digest = hashlib.sha256(data).hexdigest()
    if len(data) > LAMBDA_ZIP_LIMIT:
        staging.unlink(missing_ok=True)
        raise UserError(f"the package is {len(data)} bytes, over Lambda's {LAMBDA_ZIP_LIMIT} byte zip limit")
    final = out_dir / f"handler-{digest[:16]}.zip"
    staging.replace(final)
    index.write_text(f"{final.name} {digest}\n")
    return Package(path=final, sha256=digest, size=len(data))


def _cached(out_dir: Path, index: Path) -> Package | None:
    """The zip an earlier build made from the same inputs, if it is still there and intact.

    Zipping ~500 files costs ~0.3 s on every change set and deploy; the bytes would be the same.
    """
    try:
        name, digest = index.read_text().split()
        data = (out_dir / name).read_bytes()
    except (OSError, ValueError):
        return None
    if hashlib.sha256(data).hexdigest() != digest:
        return None
    return Package(path=out_dir / name, sha256=digest, size=len(data))


def package_dir(root: Path) -> Path:
    """Where built packages are kept: build/package/ of the project."""
    return Path(root) / "build" / "package"


def main(args: Namespace) -> int:
    """`blueprint package --env E`: build the zip for the environment's runtime and architecture."""
    root = Path(getattr(args, "root", None) or ".")
    (spec,) = load_valid(root, [args.env])
    runtime, architecture = spec.function.runtime, spec.function.architecture
    package = build_package(root, runtime, architecture, package_dir(root))
    shown = package.path.relative_to(root) if package.path.is_relative_to(root) else package.path
    print(f"package: {shown}")
    print(f"sha256:  {package.sha256}")
    print(f"size:    {package.size} bytes ({runtime}, {architecture})")
    return 0
