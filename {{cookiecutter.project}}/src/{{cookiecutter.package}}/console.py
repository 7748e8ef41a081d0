"""What stages and commands print: tables aligned to read well in a terminal and in a CI log, and what
a command tells the GitHub Actions job it runs in."""

import os


def text_table(rows: list[tuple]) -> str:
    """Rows as aligned columns, the first row the header."""
    cells = [[str(cell) for cell in row] for row in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(cells[0]))]
    return "\n".join("  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in cells)


def short_number(value: float | None) -> str:
    """Four significant digits, or `-` for no value."""
    return "-" if value is None else f"{value:.4g}"


def to_github(variable: str, text: str) -> None:
    """Append to the file a GitHub Actions variable names (GITHUB_OUTPUT: the step's outputs,
    GITHUB_STEP_SUMMARY: the job summary); outside a job there is none, and nothing is written."""
    if path := os.environ.get(variable):
        with open(path, "a", encoding="utf-8") as file:
            file.write(text)
