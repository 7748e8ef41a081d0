"""The generated compose.yaml, run for real on the tests' own engine (tests/containers.py).

That engine has no bridge network, so every service runs on the host's network, on loopback ports the
test chooses: from a copy of compose.yaml without its published ports (Compose merges lists, so no
override can take them away) and an override file that sets the network and the ports, names each
service 127.0.0.1 (so the services still call each other by name, as on the stack's own network), and
stands in for the images no registry here can give: for MinIO, moto's S3 server from PyPI, and for
nginx, Debian's, both installed into the project's image. On one network the API's two replicas cannot
share a port, so they are two services, `api` and `api-2`, on ports of their own, and the proxy runs
the project's proxy.conf with those two in its upstream. The project is then pointed at the stack as
its README says.
"""

import copy
import re
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import yaml

from conftest import free_port
from containers import Engine

MOTO = "moto[server]==5.2.5"  # as requirements-dev.txt pins it
OVERRIDE = """
x-names: &names  # the services' names, as the stack's own network would resolve them
  extra_hosts: ["objects:127.0.0.1", "mlflow:127.0.0.1", "api:127.0.0.1"]
services:
  objects:
    image: {stand_ins}
    command: ["moto_server", "-H", "127.0.0.1", "-p", "{s3}"]
    network_mode: host
    healthcheck:
      test: ["CMD", "python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:{s3}/moto-api/')"]
  bucket:
    <<: *names
    network_mode: host
    environment: {{AWS_ENDPOINT_URL: "http://objects:{s3}"}}
  mlflow:
    <<: *names
    network_mode: host
    command: ["mlflow", "server", "--host", "127.0.0.1", "--port", "{mlflow}",
              "--backend-store-uri", "sqlite:////var/lib/mlflow/mlflow.db", "--artifacts-destination", "s3://{bucket}/mlflow"]
    environment: {{AWS_ENDPOINT_URL: "http://objects:{s3}", PORT: "{mlflow}"}}
  api:  # and api-2, the same on port {api_2} (override() adds it)
    <<: *names
    network_mode: host
    environment: {{AWS_ENDPOINT_URL: "http://objects:{s3}", MLFLOW_TRACKING_URI: "http://mlflow:{mlflow}",
                  HOST: "127.0.0.1", PORT: "{api}"}}
  proxy:
    image: {stand_ins}
    user: "0:0"  # nginx's master process, as in nginx's image
    command: ["nginx", "-g", "daemon off;"]
    network_mode: host
    volumes: ["{proxy_conf}:/etc/nginx/conf.d/default.conf:ro"]
    depends_on:
      api-2: {{condition: service_healthy}}
"""
# Into the project's image, as root: moto's S3 server, and Debian's nginx without its default site.
STAND_INS = f"""USER 0
RUN /opt/venv/bin/python -m pip install --quiet '{MOTO}'
RUN apt-get update --quiet && apt-get install --quiet --yes --no-install-recommends nginx \\
    && rm -rf /var/lib/apt/lists/* /etc/nginx/sites-enabled/default
USER 10001
"""


def override(**values) -> dict:
    """OVERRIDE with `values` filled in, and api-2 as api on its own port."""
    services = yaml.safe_load(OVERRIDE.format(**values))["services"]
    api = services["api"]
    services["api-2"] = {**api, "environment": {**api["environment"], "PORT": str(values["api_2"])}}
    return {"services": services}


def proxy_conf(project: Path, port: int, replicas: list[int]) -> str:
    """The project's proxy.conf, listening on `port`, in front of replicas on the given loopback ports."""
    conf, listens = re.subn(r"listen 8000;", f"listen 127.0.0.1:{port};", (project / "proxy.conf").read_text())
    servers = "".join(f"server 127.0.0.1:{replica};\n    " for replica in replicas)
    conf, upstreams = re.subn(r"server api:8000 resolve;\n    ", servers, conf)
    assert listens == upstreams == 1, f"proxy.conf has no `listen 8000;` or `server api:8000 resolve;`:\n{conf}"
    return conf


def compose_command(engine: Engine) -> list[str]:
    """Docker's Compose plugin where it is installed, else Debian's docker-compose."""
    if engine.run("compose", "version", check=False).returncode == 0:
        return ["docker", "compose"]
    assert shutil.which("docker-compose"), "no `docker compose`, no docker-compose (.ci/run installs it)"
    return ["docker-compose"]


@dataclass
class Stack:
    command: list[str]  # docker compose with this stack's files
    env: dict  # its environment: the engine, the image's name, the bucket's, the S3 keys
    s3: str  # the URLs of the object store, the tracking server and the API
    mlflow: str
    api: str  # the proxy, the API's one address
    replicas: list[str]  # each replica of the API

    def compose(self, *args: str) -> str:
        done = subprocess.run([*self.command, *args], env=self.env, capture_output=True, text=True)
        assert done.returncode == 0, f"{' '.join(args)}:\n{done.stdout[-4000:]}{done.stderr[-4000:]}"
        return done.stdout + done.stderr

    def wait(self, uri: str, timeout: float = 120) -> None:
        """Until `uri` answers 200."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                with urllib.request.urlopen(uri, timeout=5):
                    return
            except OSError:
                assert time.monotonic() < deadline, f"{uri} did not answer:\n{self.compose('logs', '--tail', '40')}"
                time.sleep(0.5)


@contextmanager
def stack(engine: Engine, project: Path, image: str, bucket: str, root: Path, env: dict) -> Iterator[Stack]:
    """The stack of `project`'s compose.yaml, its services on the host's network; down at the end."""
    stand_ins = "template-tests/stand-ins:latest"
    built = subprocess.run(["docker", "build", "--network", "host", "--tag", stand_ins, "-"],
                           input=f"FROM {image}\n{STAND_INS}", env=engine.env, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout[-3000:] + built.stderr
    compose = yaml.safe_load((project / "compose.yaml").read_text())
    for service in compose["services"].values():
        service.pop("ports", None)
    compose["services"]["proxy"].pop("volumes")  # the proxy.conf written below instead
    compose["services"]["api"].pop("deploy")  # one replica a service: `api` and `api-2`
    compose["services"]["api-2"] = copy.deepcopy(compose["services"]["api"])
    files = {"compose.yaml": compose}
    ports = {"s3": free_port(), "mlflow": free_port(), "api": free_port(), "api_2": free_port(), "proxy": free_port()}
    (root / "proxy.conf").write_text(proxy_conf(project, ports["proxy"], [ports["api"], ports["api_2"]]))
    files["override.yaml"] = override(stand_ins=stand_ins, bucket=bucket, proxy_conf=root / "proxy.conf", **ports)
    for name, content in files.items():
        (root / name).write_text(yaml.safe_dump(content, sort_keys=False))
    command = [*compose_command(engine), "--project-directory", str(project), "--project-name", "stack",
               *(option for name in files for option in ("--file", str(root / name)))]
    env = {**env, **engine.env, "IMAGE": image, "BUCKET": bucket, "PATH": env["PATH"]}
    urls = {name: f"http://127.0.0.1:{port}" for name, port in ports.items()}
    running = Stack(command, env, urls["s3"], urls["mlflow"], api=urls["proxy"], replicas=[urls["api"], urls["api_2"]])
    try:
        yield running
    finally:
        running.compose("down", "--volumes")
