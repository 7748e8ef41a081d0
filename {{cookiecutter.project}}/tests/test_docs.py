"""The documentation site: it builds with no warning (every page in the nav, no broken link or
anchor), and its params.yaml reference names every key the file holds."""

import subprocess
import sys
from pathlib import Path

import yaml

PROJECT = Path(__file__).resolve().parents[1]


def keys(mapping: dict, prefix: str = "") -> list[str]:
    """Every key of a nested mapping, dotted."""
    found = []
    for key, value in mapping.items():
        found.append(f"{prefix}{key}")
        if isinstance(value, dict):
            found += keys(value, f"{prefix}{key}.")
    return found


def test_the_site_builds_strictly_with_the_whole_params_reference(tmp_path):
    built = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path)],
                           cwd=PROJECT, capture_output=True, text=True)
    assert built.returncode == 0, built.stdout + built.stderr
    reference = (tmp_path / "params/index.html").read_text()
    params = yaml.safe_load((PROJECT / "params.yaml").read_text())
    missing = [key for key in keys(params) if f"<code>{key}</code>" not in reference]
    assert not missing, f"docs/params.md lacks {missing}"
    # The overview is the README's own, included, not a copy.
    assert "make setup" in (tmp_path / "index.html").read_text()
    assert "8&lt;" not in (tmp_path / "index.html").read_text()
