"""Reject bad answers before cookiecutter writes anything (cookiecutter itself refuses a choice that is
not one of the list in cookiecutter.json).

Each problem is reported on one line naming the prompt, the value and the rule, then the hook exits
non-zero, which makes cookiecutter stop and remove the half-made project folder.
"""

import json
import keyword
import re
import sys

# Import names that differ from the name of the distribution that brings them, and the project's own
# folders: a package of one of these names would shadow them. (The post-generation hook refuses the name
# of every distribution in requirements.lock as well: only the generated project holds that file.)
OTHER_IMPORTS = {"sklearn", "yaml", "dateutil", "google", "jwt", "git", "attr", "pkg_resources", "test", "tests", "src"}
# PEP 508 project names; also a safe folder name.
PROJECT_RE = re.compile(r"^[A-Za-z0-9]([A-Za-z0-9._-]*[A-Za-z0-9])?$")
# S3 bucket naming rules: 3-63 characters, lower case letters, digits, dots and hyphens,
# starting and ending with a letter or digit, no '..', and not shaped like an IP address.
BUCKET_RE = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
IP_RE = re.compile(r"^\d+\.\d+\.\d+\.\d+$")
ENDPOINT_RE = re.compile(r"^https?://[^\s/]+(/\S*)?$")
PREFIX_RE = re.compile(r"^[A-Za-z0-9!_.*'()/-]*$")
# AWS region names (us-east-1, eu-central-2, us-gov-west-1, ...); S3-compatible stores accept them too.
REGION_RE = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
# A URI with a user name (and password) before the host: `http://user:secret@host`.
CREDENTIALS_RE = re.compile(r"^[a-z][a-z0-9+.-]*://[^/@\s]+@")


def package_problem(name: str) -> str | None:
    if not name.isidentifier() or not name.isascii():
        return "must be a Python identifier (ASCII letters, digits and underscores, not starting with a digit)"
    if keyword.iskeyword(name) or keyword.issoftkeyword(name):
        return "must not be a Python keyword"
    if name in sys.stdlib_module_names:
        return "must not shadow a standard-library module"
    if name.lower() in OTHER_IMPORTS:
        return "must not shadow a dependency or a test folder"
    if name != name.lower():
        return "must be lower case (PEP 8 package names)"
    return None


def bucket_problem(name: str) -> str | None:
    if not BUCKET_RE.match(name) or ".." in name or IP_RE.match(name):
        return (
            "must be 3-63 lower-case letters, digits, dots or hyphens, start and end with a letter"
            " or digit, and not look like an IP address"
        )
    return None


def problems(answers: dict) -> list[str]:
    found = []

    def check(prompt: str, problem: str | None) -> None:
        if problem:
            found.append(f"{prompt}={answers[prompt]!r}: {problem}")

    check("project", None if PROJECT_RE.match(answers["project"]) else
          "must be letters, digits, '.', '_' or '-', starting and ending with a letter or digit")
    check("package", package_problem(answers["package"]))
    if not answers["project_name"].strip():
        check("project_name", "must not be empty")
    if not answers["mlflow_tracking_uri"].strip() or any(c.isspace() for c in answers["mlflow_tracking_uri"]):
        check("mlflow_tracking_uri", "must be a non-empty URI without spaces")
    elif CREDENTIALS_RE.match(answers["mlflow_tracking_uri"]):
        check("mlflow_tracking_uri", "must not hold a user name or password (it is written into params.yaml, which "
              "git keeps): set MLFLOW_TRACKING_USERNAME and MLFLOW_TRACKING_PASSWORD instead")
    if answers["dvc_remote"] == "s3":
        check("s3_bucket", bucket_problem(answers["s3_bucket"]))
        check("s3_prefix", None if PREFIX_RE.match(answers["s3_prefix"]) else
              "must use only letters, digits and !_.*'()/- (S3 safe key characters)")
        if {".", ".."} & set(answers["s3_prefix"].split("/")):
            check("s3_prefix", "must not have '.' or '..' as a part: a key cannot step out of the prefix")
        check("s3_region", None if REGION_RE.match(answers["s3_region"]) else
              "must be a region name such as us-east-1 or eu-central-1")
        endpoint = answers["s3_endpoint_url"]
        check("s3_endpoint_url", None if not endpoint or ENDPOINT_RE.match(endpoint) else
              "must be empty or an http(s):// URL without spaces")
    return found


def main(answers: dict) -> int:
    found = problems(answers)
    for problem in found:
        print(f"ERROR: {problem}", file=sys.stderr)
    return 1 if found else 0


if __name__ == "__main__":
    # The answers arrive as a JSON string literal, so no answer can become code here.
    sys.exit(main(json.loads({{ cookiecutter | tojson | tojson }})))
