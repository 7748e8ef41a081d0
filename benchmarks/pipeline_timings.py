"""Wall time of the user's path through a baked project, and where the time goes.

Run from the template root with the template's virtualenv: `.venv/bin/python benchmarks/pipeline_timings.py`.
Prints a Markdown table. Every stage is compared with the bare import of the libraries it uses,
measured in the same run, so the ratio says how much of a stage is start-up rather than work.
"""

import subprocess
import sys
import tempfile
import time
from pathlib import Path

TEMPLATE = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(TEMPLATE / "tests"))
from conftest import Session  # noqa: E402

STAGES = {
    "prepare": "import pandas, sklearn.model_selection",
    "validate": "import pandas, yaml, pandera.pandas",
    "train": "import pandas, sklearn.linear_model, mlflow",
    "evaluate": "import pandas, sklearn.metrics, sklearn.inspection, mlflow",
    "drift_check": "import pandas, scipy.stats",
}


def timed(command: list[str], cwd: Path, env: dict, repeat: int = 1) -> float:
    """Best wall time of `repeat` runs, in seconds."""
    best = float("inf")
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, cwd=cwd, env=env, check=True, capture_output=True)
        best = min(best, time.perf_counter() - started)
    return best


def main() -> None:
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-m", "cookiecutter", "--no-input", "-o", tmp, str(TEMPLATE)],
                       check=True, capture_output=True)
        rows.append(("bake (cookiecutter --no-input, hooks, first commit)", time.perf_counter() - started, ""))
        project = Path(tmp) / "my-ml-project"
        env = Session.for_project(project).env  # a user's shell, the project's virtualenv first on PATH
        rows.append(("make setup (venv, uv, locked install; warm uv cache)",
                     timed(["make", "setup"], project, env), ""))
        rows.append(("first dvc repro (all five stages; Python writes the .pyc of their imports)",
                     timed(["dvc", "repro"], project, env), ""))
        rows.append(("no-op dvc repro", timed(["dvc", "repro"], project, env, repeat=3), ""))
        python = str(project / ".venv/bin/python")
        rows.append(("python start-up alone", timed([python, "-c", "pass"], project, env, repeat=3), ""))
        for stage, imports in STAGES.items():
            stage_time = timed([python, "-m", f"my_ml_project.stages.{stage}"], project, env, repeat=3)
            import_time = timed([python, "-c", imports], project, env, repeat=3)
            rows.append((f"stage {stage} alone", stage_time,
                         f"`{imports}` alone: {import_time:.1f}s ({import_time / stage_time:.0%} of the stage)"))
        train_output = subprocess.run([python, "-m", "my_ml_project.stages.train"], cwd=project, env=env,
                                      check=True, capture_output=True, text=True).stdout
        rows.append(("train: what it printed", 0.0, train_output.strip().removeprefix("train: ")))
    print("| step | wall time | notes |\n|---|---|---|")
    for name, seconds, note in rows:
        print(f"| {name} | {seconds:.2f}s | {note} |" if seconds else f"| {name} | | {note} |")


if __name__ == "__main__":
    main()
