"""An MkDocs hook: the params.yaml page's table of every key, its value and its comment, read from
params.yaml when the site is built, so the reference cannot drift from the file."""

import json
from pathlib import Path

import yaml

MARKER = "<!-- params.yaml reference -->"


def params_reference(path: Path) -> str:
    """A Markdown table: each key's dotted name, its value in params.yaml, and the comment it carries
    (on its line, or on the comment lines just above it)."""
    values, keys, above = yaml.safe_load(path.read_text()), [], []  # `above`: comment lines since the last key
    rows = ["| key | value | what it is |", "|---|---|---|"]
    for line in path.read_text().splitlines():
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            above = [*above, stripped.lstrip("# ")] if stripped else []
            continue
        if stripped.startswith("- ") or ":" not in stripped:
            continue  # an item of a list written in block style: shown with its key
        depth = (len(line) - len(line.lstrip())) // 2
        name, _, rest = stripped.partition(":")
        comment = rest.partition(" #")[2].strip() if " #" in rest else ""
        keys = [*keys[:depth], name.strip()]
        value = values
        for key in keys:
            value = value.get(key) if isinstance(value, dict) else None
        shown = "" if isinstance(value, dict) else f"`{json.dumps(value)}`"
        text = " ".join([*above, comment]).strip().replace("|", "\\|")
        rows.append(f"| `{'.'.join(keys)}` | {shown} | {text} |")
        above = []
    return "\n".join(rows) + "\n"


def on_page_markdown(markdown: str, page, config, files) -> str:
    if MARKER not in markdown:
        return markdown
    return markdown.replace(MARKER, params_reference(Path(config["config_file_path"]).parent / "params.yaml"))
