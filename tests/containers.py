"""A Docker engine of the tests' own, and a base image with Python built without a registry.

The engine runs with no bridge network (`--bridge=none --iptables=false`): containers get no address of
their own and run on the host's network (`--network host`), so all their traffic stays on 127.0.0.1.
No image registry is reachable here, so the base image is Debian with Python, made by debootstrap and
imported; it trusts this machine's certificates, which package downloads need (they pass a TLS proxy).
The generated Dockerfile itself starts from `python:<version>-slim`; the tests pass this one as
BASE_IMAGE.
"""

import os
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

ENGINE_FLAGS = ("--bridge=none", "--iptables=false", "--ip6tables=false")
BASE_IMAGE = "template-tests/debian-python:latest"
CERTIFICATES = Path("/etc/ssl/certs/ca-certificates.crt")


class CannotStart(Exception):
    """Docker cannot run on this machine at all: the tests that need it are skipped, saying why."""


@dataclass
class Engine:
    daemon: subprocess.Popen
    root: Path  # its data, state and socket
    env: dict  # the environment whose DOCKER_HOST is this engine

    def run(self, *args: str, cwd: Path | None = None, check: bool = True) -> subprocess.CompletedProcess:
        result = subprocess.run(["docker", *args], cwd=cwd, env=self.env, capture_output=True, text=True)
        if check:
            assert result.returncode == 0, f"docker {' '.join(args)} failed:\n{result.stdout[-3000:]}{result.stderr}"
        return result

    def stop(self) -> None:
        self.daemon.terminate()
        self.daemon.wait(timeout=60)
        # dockerd leaves the host's network namespace mounted in its state folder: unmounted, the
        # folder can be deleted with the test's temporary files.
        for mount in reversed(Path("/proc/mounts").read_text().splitlines()):
            point = mount.split()[1]
            if point.startswith(f"{self.root}/"):
                subprocess.run(["umount", point], check=False, capture_output=True)


def start_engine(root: Path) -> Engine:
    """dockerd with its data under `root`, once it answers; CannotStart when it cannot run here."""
    for program in ("dockerd", "docker", "debootstrap"):
        if not shutil.which(program):
            raise CannotStart(f"{program} is not installed (.ci/run installs docker.io and debootstrap)")
    socket, log = root / "docker.sock", root / "dockerd.log"
    daemon = subprocess.Popen(["dockerd", *ENGINE_FLAGS, "--data-root", str(root / "data"),
                               "--exec-root", str(root / "exec"), "--pidfile", str(root / "dockerd.pid"),
                               "--host", f"unix://{socket}"], stdout=log.open("w"), stderr=subprocess.STDOUT)
    # Legacy builder: its output names each step and whether it came from the cache.
    engine = Engine(daemon, root, {**os.environ, "DOCKER_HOST": f"unix://{socket}", "DOCKER_BUILDKIT": "0"})
    deadline = time.monotonic() + 60
    while engine.run("info", check=False).returncode != 0:
        if daemon.poll() is not None or time.monotonic() > deadline:
            engine.daemon.kill()
            raise CannotStart(f"dockerd did not start: {log.read_text()[-500:]}")
        time.sleep(0.5)
    return engine


def build_base_image(engine: Engine, root: Path) -> str:
    """Debian (this machine's release) with Python, imported as BASE_IMAGE; its name."""
    release = next(line.split("=", 1)[1].strip('"') for line in Path("/etc/os-release").read_text().splitlines()
                   if line.startswith("VERSION_CODENAME="))
    tree = root / "base"
    subprocess.run(["debootstrap", "--variant=minbase", "--include=python3,python3-venv,ca-certificates", release,
                    str(tree), "http://deb.debian.org/debian"], check=True, capture_output=True)
    (tree / "usr/bin/python").symlink_to("python3")  # as the python images have it
    shutil.copy(CERTIFICATES, tree / "etc/ssl/certs/ca-certificates.crt")
    archive = subprocess.Popen(["tar", "-C", str(tree), "-c", "."], stdout=subprocess.PIPE)
    subprocess.run(["docker", "import", "--change", f"ENV SSL_CERT_FILE={CERTIFICATES} PIP_CERT={CERTIFICATES}",
                    "-", BASE_IMAGE], stdin=archive.stdout, env=engine.env, check=True, capture_output=True)
    archive.wait()
    return BASE_IMAGE
