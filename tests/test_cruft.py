"""cruft: a project created from the template takes in the template's later changes with `cruft update`."""

import shutil
import subprocess
import sys
from pathlib import Path

from conftest import TEMPLATE

CRUFT = str(Path(sys.executable).parent / "cruft")
PROJECT = "{{cookiecutter.project}}"


def run(cwd: Path, *command: str) -> str:
    result = subprocess.run(command, cwd=cwd, capture_output=True, text=True)
    assert result.returncode == 0, f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}"
    return result.stdout


def edit(path: Path, old: str, new: str) -> None:
    text = path.read_text()
    assert old in text, f"{path} no longer holds {old!r}"
    path.write_text(text.replace(old, new, 1))


def test_cruft_update_brings_template_changes_into_a_project_with_changes_of_its_own(tmp_path):
    # The template as a git repository of its own (cruft follows templates by commit).
    template = tmp_path / "template"
    files = run(TEMPLATE, "git", "ls-files", "--cached", "--others", "--exclude-standard", "-z").split("\0")
    for name in filter(None, files):
        if (TEMPLATE / name).is_file():  # files deleted from the working tree are no part of it
            (template / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(TEMPLATE / name, template / name)
    run(template, "git", "init", "--quiet")
    run(template, "git", "add", "--all")
    run(template, "git", "commit", "--quiet", "-m", "Template, first version")

    run(tmp_path, CRUFT, "create", "--no-input", "--output-dir", str(tmp_path / "out"), str(template))
    project = tmp_path / "out/my-ml-project"
    run(project, "git", "add", ".cruft.json")
    run(project, "git", "commit", "--quiet", "-m", "Record the template version")
    # The team's own change, in a file the template changes too.
    edit(project / "params.yaml", "      C: 1.0\n", "      C: 0.3\n")
    run(project, "git", "commit", "--quiet", "--all", "-m", "Less regularisation")

    # The template improves: a changed file, a new file, and another line of the same params.yaml.
    with open(template / PROJECT / "README.md", "a") as readme:
        readme.write("\nA note the template added later.\n")
    (template / PROJECT / "NOTES.md").write_text("Notes for {{ cookiecutter.project_name }}.\n")
    edit(template / PROJECT / "params.yaml", "    n_iter: 10 ", "    n_iter: 20 ")
    run(template, "git", "add", "--all")
    run(template, "git", "commit", "--quiet", "-m", "Template, second version")
    latest = run(template, "git", "rev-parse", "HEAD").strip()

    run(project, CRUFT, "update", "--skip-apply-ask")
    assert (project / "README.md").read_text().endswith("A note the template added later.\n")
    assert (project / "NOTES.md").read_text() == "Notes for My ML Project.\n"
    params = (project / "params.yaml").read_text()
    assert "      C: 0.3\n" in params and "    n_iter: 20 " in params  # both changes, merged
    assert not list(project.rglob("*.rej"))
    assert f'"commit": "{latest}"' in (project / ".cruft.json").read_text()
    assert "up to date" in run(project, CRUFT, "check")
