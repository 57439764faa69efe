"""blueprint.ship.package: a deterministic zip of handler/*.py plus pinned dependencies, named by its SHA-256."""
from __future__ import annotations

import hashlib
import os
import shutil
import socket
import subprocess
import zipfile
from argparse import Namespace
from types import SimpleNamespace
from pathlib import Path

import pytest
from handler_testing import ROOT

from blueprint.ship import package
from blueprint.errors import UserError


def make_root(tmp_path: Path, requirements: str = "fakepkg==1.0\n") -> Path:
    root = tmp_path / "project"
    (root / "handler").mkdir(parents=True)
    for src in (ROOT / "handler").glob("*.py"):
        shutil.copy2(src, root / "handler" / src.name)
    (root / "handler" / "__pycache__").mkdir()
    (root / "handler" / "__pycache__" / "app.cpython-311.pyc").write_bytes(b"junk")
    (root / "requirements").mkdir()
    (root / "requirements" / "handler.txt").write_text(requirements)
    return root


class FakePip:
    """Stands in for `pip install --target`: lays out what pip would, including what must be dropped."""

    def __init__(self, returncode=0, requires=("jmespath",)):
        self.calls = []
        self.returncode = returncode
        self.requires = requires

    def __call__(self, cmd, **_kwargs):
        self.calls.append(cmd)
        if self.returncode:
            return subprocess.CompletedProcess(cmd, self.returncode, "", "ERROR: No matching distribution found for fakepkg==1.0")
        target = Path(cmd[cmd.index("--target") + 1])
        files = {
            "fakepkg/__init__.py": "X = 1\n",
            "fakepkg/_speed.cpython-314-aarch64-linux-gnu.so": "\x7fELF",
            "fakepkg/__pycache__/__init__.cpython-314.pyc": "junk",
            "fakepkg-1.0.dist-info/METADATA": "Name: fakepkg\n" + "".join(
                f"Requires-Dist: {r}\n" for r in self.requires) + "Requires-Dist: botocore>=1.0\n"
                "Requires-Dist: pydantic; extra == 'all'\n",
            "fakepkg-1.0.dist-info/RECORD": "fakepkg/__init__.py,,\n",
            "jmespath/__init__.py": "",
            "jmespath-1.1.0.dist-info/METADATA": "Name: jmespath\n",
            "jmespath-1.1.0.dist-info/RECORD": "jmespath/__init__.py,,\n",
            "boto3/__init__.py": "",
            "boto3-1.0.dist-info/METADATA": "Name: boto3\n",
            "boto3-1.0.dist-info/RECORD": "boto3/__init__.py,,\n",
            "botocore/__init__.py": "",
            "botocore-1.0.dist-info/METADATA": "Name: botocore\n",
            "botocore-1.0.dist-info/RECORD": "botocore/__init__.py,,\n",
            "bin/fake-cli": "#!/bin/sh\n",
        }
        for name, text in files.items():
            path = target / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text(text)
        os.chmod(target / "fakepkg/__init__.py", 0o600)  # odd modes on disk must not leak into the zip
        return subprocess.CompletedProcess(cmd, 0, "", "")


@pytest.fixture
def fake_pip(monkeypatch):
    pip = FakePip()
    monkeypatch.setattr(package.subprocess, "run", pip)
    return pip


def test_two_builds_give_the_same_bytes(tmp_path, fake_pip):
    root = make_root(tmp_path)
    first = package.build_package(root, "python3.14", "arm64", tmp_path / "out1")
    os.utime(root / "handler" / "app.py", (1, 1))  # timestamps must not matter
    shutil.rmtree(root / "build" / "pip-cache")  # nor a fresh pip install
    second = package.build_package(root, "python3.14", "arm64", tmp_path / "out2")
    assert first.path.read_bytes() == second.path.read_bytes()
    assert first.sha256 == second.sha256 == hashlib.sha256(first.path.read_bytes()).hexdigest()
    assert first.path.name == second.path.name == f"handler-{first.sha256[:16]}.zip"
    assert first.size == first.path.stat().st_size
    assert len(fake_pip.calls) == 2


def test_zip_layout(tmp_path, fake_pip):
    root = make_root(tmp_path)
    pkg = package.build_package(root, "python3.14", "arm64", tmp_path / "out")
    with zipfile.ZipFile(pkg.path) as zf:
        infos = zf.infolist()
    names = [i.filename for i in infos]
    assert names == sorted(names)
    for module in ("app.py", "config.py", "cors.py", "errors.py", "parsing.py", "store.py"):
        assert module in names
    assert "fakepkg/__init__.py" in names and "jmespath/__init__.py" in names
    assert not [n for n in names if "__pycache__" in n or n.endswith(".pyc")]
    assert not [n for n in names if n.split("/")[0].startswith(("boto3", "botocore", "bin"))]
    assert not [n for n in names if n.startswith("handler/") or n.endswith(".complete")]
    for info in infos:
        assert info.date_time == (1980, 1, 1, 0, 0, 0)
        mode = (info.external_attr >> 16) & 0o777
        assert mode == (0o755 if info.filename.endswith(".so") else 0o644), info.filename


def test_pip_gets_the_target_platform(tmp_path, fake_pip):
    root = make_root(tmp_path)
    package.build_package(root, "python3.12", "x86_64", tmp_path / "out")
    package.build_package(root, "python3.13", "arm64", tmp_path / "out")
    (x86, arm) = fake_pip.calls
    assert x86[x86.index("--platform") + 1] == "manylinux2014_x86_64"
    assert x86[x86.index("--python-version") + 1] == "3.12"
    assert arm[arm.index("--platform") + 1] == "manylinux2014_aarch64"
    assert arm[arm.index("--python-version") + 1] == "3.13"
    for cmd in (x86, arm):
        assert "--only-binary=:all:" in cmd and "--implementation" in cmd and "--no-deps" in cmd


def test_pip_result_is_cached_per_requirements_runtime_and_arch(tmp_path, fake_pip):
    root = make_root(tmp_path)
    package.build_package(root, "python3.14", "arm64", tmp_path / "out")
    package.build_package(root, "python3.14", "arm64", tmp_path / "out")
    assert len(fake_pip.calls) == 1
    package.build_package(root, "python3.14", "x86_64", tmp_path / "out")
    assert len(fake_pip.calls) == 2
    (root / "requirements" / "handler.txt").write_text("fakepkg==1.1\n")
    package.build_package(root, "python3.14", "arm64", tmp_path / "out")
    assert len(fake_pip.calls) == 3
    assert len(list((root / "build" / "pip-cache").iterdir())) == 3


def test_a_changed_handler_changes_the_name(tmp_path, fake_pip):
    root = make_root(tmp_path)
    a = package.build_package(root, "python3.14", "arm64", tmp_path / "out")
    (root / "handler" / "app.py").write_text((root / "handler" / "app.py").read_text() + "\n# changed\n")
    b = package.build_package(root, "python3.14", "arm64", tmp_path / "out")
    assert a.sha256 != b.sha256 and a.path != b.path


def test_missing_pin_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setattr(package.subprocess, "run", FakePip(requires=("jmespath", "wrapt")))
    with pytest.raises(UserError, match="wrapt"):
        package.build_package(make_root(tmp_path), "python3.14", "arm64", tmp_path / "out")


def test_pip_failure_is_a_user_error(tmp_path, monkeypatch):
    monkeypatch.setattr(package.subprocess, "run", FakePip(returncode=1))
    with pytest.raises(UserError, match="No matching distribution"):
        package.build_package(make_root(tmp_path), "python3.14", "arm64", tmp_path / "out")


@pytest.mark.parametrize("runtime, arch", [("python3.9", "arm64"), ("python3.14", "aarch64"), ("nodejs22.x", "x86_64")])
def test_bad_target_is_a_user_error(tmp_path, runtime, arch):
    with pytest.raises(UserError):
        package.build_package(make_root(tmp_path), runtime, arch, tmp_path / "out")


def test_missing_requirements_is_a_user_error(tmp_path):
    root = make_root(tmp_path)
    (root / "requirements" / "handler.txt").unlink()
    with pytest.raises(UserError, match="handler.txt"):
        package.build_package(root, "python3.14", "arm64", tmp_path / "out")


def test_main_prints_path_sha_and_size(tmp_path, fake_pip, monkeypatch, capsys):
    root = make_root(tmp_path)
    spec = SimpleNamespace(function=SimpleNamespace(runtime="python3.14", architecture="arm64"))
    monkeypatch.setattr(package, "load_valid", lambda _root, envs: [spec])
    assert package.main(Namespace(env="dev", root=root)) == 0
    out = capsys.readouterr().out
    (zip_path,) = (root / "build" / "package").glob("handler-*.zip")
    assert str(zip_path.relative_to(root)) in out
    assert hashlib.sha256(zip_path.read_bytes()).hexdigest() in out
    assert f"{zip_path.stat().st_size} bytes" in out


def test_requirements_pin_everything_and_leave_out_the_sdk():
    lines = [ln.split("#")[0].strip() for ln in (ROOT / "requirements" / "handler.txt").read_text().splitlines()]
    pins = dict(ln.split("==") for ln in lines if ln)
    assert pins["aws-lambda-powertools"] == "3.37.0" and pins["aws-xray-sdk"] == "2.15.0"
    assert not {"boto3", "botocore", "s3transfer"} & set(pins)


def _pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=3).close()
        return True
    except OSError:
        return False


@pytest.mark.skipif(not _pypi_reachable(), reason="PyPI not reachable: the real pip build needs the package index")
def test_real_build_is_deterministic_and_lambda_shaped(tmp_path):
    """The real requirements through real pip, twice from scratch: same bytes, aarch64 wheels, no SDK."""
    builds = []
    for n in (1, 2):
        root = tmp_path / f"p{n}"
        shutil.copytree(ROOT / "handler", root / "handler", ignore=shutil.ignore_patterns("__pycache__"))
        shutil.copytree(ROOT / "requirements", root / "requirements")
        builds.append(package.build_package(root, "python3.14", "arm64", root / "build" / "package"))
    assert builds[0].path.read_bytes() == builds[1].path.read_bytes()
    with zipfile.ZipFile(builds[0].path) as zf:
        names = zf.namelist()
    assert "app.py" in names and "aws_lambda_powertools/__init__.py" in names and "aws_xray_sdk/__init__.py" in names
    assert any(n.startswith("wrapt/") and n.endswith("aarch64-linux-gnu.so") for n in names)
    assert not [n for n in names if n.split("/")[0].split("-")[0] in ("boto3", "botocore", "s3transfer")]
    assert builds[0].size < 5 * 1024 * 1024


def test_same_inputs_reuse_the_zip_and_a_changed_handler_builds_a_new_one(tmp_path, fake_pip):
    root = make_root(tmp_path)
    out = tmp_path / "out"
    first = package.build_package(root, "python3.14", "arm64", out)
    mtime = first.path.stat().st_mtime_ns
    again = package.build_package(root, "python3.14", "arm64", out)
    assert again == first and first.path.stat().st_mtime_ns == mtime  # not rewritten
    first.path.write_bytes(b"tampered")
    rebuilt = package.build_package(root, "python3.14", "arm64", out)
    assert rebuilt.sha256 == first.sha256 and hashlib.sha256(rebuilt.path.read_bytes()).hexdigest() == first.sha256
    (root / "handler" / "app.py").write_text((root / "handler" / "app.py").read_text() + "\n# changed\n")
    changed = package.build_package(root, "python3.14", "arm64", out)
    assert changed.sha256 != first.sha256
