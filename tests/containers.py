"""A Docker engine of the tests' own, and a base image with Python built without a registry.

The engine runs with no bridge network (`--bridge=none --iptables=false`): containers get no address of
their own and run on the host's network (`--network host`), so all their traffic stays on 127.0.0.1.
No image registry is reachable here, so the base image is Debian with Python, made by debootstrap and
imported; it trusts this machine's certificates, which package downloads need (they pass a TLS proxy).
The generated Dockerfile itself starts from `python:<version>-slim`; the tests pass this one as
BASE_IMAGE.
"""

import fcntl
import hashlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

ENGINE_FLAGS = ("--bridge=none", "--iptables=false", "--ip6tables=false")
BASE_IMAGE = "template-tests/debian-python:latest"
CERTIFICATES = Path("/etc/ssl/certs/ca-certificates.crt")


class CannotStart(Exception):
    """Docker cannot run on this machine at all: the tests that need it are skipped, saying why."""


@dataclass
class Engine:
    root: Path  # its data, state, socket and log
    env: dict  # the environment whose DOCKER_HOST is this engine

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["docker", *args], cwd=cwd, env=self.env, capture_output=True, text=True)
        if check:
            assert result.returncode == 0, f"docker {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr}"
        return result


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """An exclusive lock on `path` between the test processes of one run (pytest-xdist's workers)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def shared_engine(root: Path) -> tuple[Engine, str]:
    """The run's one engine under `root` and the base image on it, started by whichever test process asks
    first (the others wait on the lock, then use it); CannotStart, for every one, when it cannot run here.
    The engine outlives the process that started it: stop_engine(root) at the end of the run stops it."""
    with locked(root / "engine.lock"):
        refusal = root / "cannot-start"
        if refusal.exists():
            raise CannotStart(refusal.read_text())
        # Legacy builder: its output names each step and whether it came from the cache.
        engine = Engine(root, {**os.environ, "DOCKER_HOST": f"unix://{root / 'docker.sock'}", "DOCKER_BUILDKIT": "0"})
        if not (root / "dockerd.pid").exists():
            try:
                start_engine(engine)
                build_base_image(engine, root)
            except CannotStart as reason:
                refusal.write_text(str(reason))
                raise
        return engine, BASE_IMAGE


def start_engine(engine: Engine) -> None:
    """dockerd with its data under the engine's root, once it answers; CannotStart when it cannot run here."""
    for program in ("dockerd", "docker", "debootstrap"):
        if not shutil.which(program):
            raise CannotStart(f"{program} is not installed (.ci/run installs docker.io and debootstrap)")
    root = engine.root
    log = root / "dockerd.log"
    # A session of its own: the engine serves every test process of the run, whichever started it.
    daemon = subprocess.Popen(["dockerd", *ENGINE_FLAGS, "--data-root", str(root / "data"),
                               "--exec-root", str(root / "exec"), "--pidfile", str(root / "dockerd.pid"),
                               "--host", engine.env["DOCKER_HOST"]], stdout=log.open("w"), stderr=subprocess.STDOUT,
                              start_new_session=True)
    deadline = time.monotonic() + 60
    while engine.run("info", check=False).returncode != 0:
        if daemon.poll() is not None or time.monotonic() > deadline:
            daemon.kill()
            (root / "dockerd.pid").unlink(missing_ok=True)
            raise CannotStart(f"dockerd did not start: {log.read_text()[-500:]}")
        time.sleep(0.5)


def stop_engine(root: Path) -> None:
    """Stop the engine shared_engine started under `root`, if it did."""
    pidfile = root / "dockerd.pid"
    if not pidfile.exists():
        return
    pid = int(pidfile.read_text())
    os.kill(pid, signal.SIGTERM)
    deadline = time.monotonic() + 60
    while pidfile.exists() and Path(f"/proc/{pid}").exists() and time.monotonic() < deadline:
        time.sleep(0.2)  # dockerd removes its pidfile as it exits
    # dockerd leaves the host's network namespace mounted in its state folder: unmounted, the
    # folder can be deleted with the test's temporary files.
    for mount in reversed(Path("/proc/mounts").read_text().splitlines()):
        point = mount.split()[1]
        if point.startswith(f"{root}/"):
            subprocess.run(["umount", point], check=False, capture_output=True)


def base_image_archive() -> tuple[Path, list[str]]:
    """Where the base image's file tree is kept between runs, named by what it is made from (the release,
    the packages and this machine's certificates), and the debootstrap command that makes it."""
    release = next(line.split("=", 1)[1].strip('"') for line in Path("/etc/os-release").read_text().splitlines()
                   if line.startswith("VERSION_CODENAME="))
    command = ["debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates", release]
    made_from = hashlib.sha256(" ".join([*command, os.uname().machine]).encode() + CERTIFICATES.read_bytes())
    cache = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "ml-template-tests"
    return cache / f"debian-python-{release}-{made_from.hexdigest()[:16]}.tar", command


def build_base_image(engine: Engine, root: Path) -> None:
    """Debian (this machine's release) with Python, imported as BASE_IMAGE. debootstrap makes
    the tree once: later runs import the archive kept in the cache (made again when missing)."""
    archive, command = base_image_archive()
    if not archive.is_file():
        tree = root / "base"
        subprocess.run([*command, str(tree), "http://deb.debian.org/debian"], check=True, capture_output=True)
        (tree / "usr/bin/python").symlink_to("python3")  # as the python images have it
        shutil.copy(CERTIFICATES, tree / "etc/ssl/certs/ca-certificates.crt")
        archive.parent.mkdir(parents=True, exist_ok=True)
        partial = archive.with_suffix(f".{os.getpid()}.partial")
        subprocess.run(["tar", "-C", str(tree), "-cf", str(partial), "."], check=True, capture_output=True)
        partial.rename(archive)  # whole or not at all: a run stopped part way leaves no archive
        shutil.rmtree(tree)
    with open(archive, "rb") as stream:
        subprocess.run(["docker", "import", "--change", f"ENV SSL_CERT_FILE={CERTIFICATES} PIP_CERT={CERTIFICATES}",
                        "-", BASE_IMAGE], stdin=stream, env=engine.env, check=True, capture_output=True)
