"""The project's DVC remote: its settings as DVC merges them, and why an S3 bucket cannot be used.

DVC reports a missing S3 bucket or missing credentials as an "unexpected error" quoting botocore; these
functions name the remote, its URL and what to change. Other kinds of remote are left to DVC.
"""

from urllib.parse import urlparse

from .errors import UserError


def remote_config(name: str | None) -> tuple[str, dict]:
    """The remote's name and settings, as DVC merges them from .dvc/config and .dvc/config.local."""
    from dvc.config import Config

    config = Config.from_cwd()
    name = name or config["core"].get("remote")
    if not name or name not in config["remote"]:
        raise UserError(f".dvc/config: expected a remote named {name or '(default)'}, found "
                        f"{', '.join(config['remote']) or 'none'}; add one with `dvc remote add --default`")
    return name, config["remote"][name]


def s3_credentials_found(settings: dict, session=None) -> bool:
    """Whether AWS credentials are at hand for this S3 remote: in .dvc/config.local, or wherever botocore
    looks (the environment, a profile, a web identity, an instance role). A profile named but absent
    counts as found: `s3_problem` names it."""
    import botocore.exceptions
    import botocore.session

    if settings.get("access_key_id") and settings.get("secret_access_key"):
        return True
    try:
        session = session or botocore.session.Session(profile=settings.get("profile"))
        return session.get_credentials() is not None
    except botocore.exceptions.ProfileNotFound:
        return True


def s3_problem(name: str, settings: dict) -> str | None:
    """Why the S3 bucket of this remote cannot be used with the credentials at hand, or None."""
    import botocore.exceptions
    import botocore.session

    session = botocore.session.Session(profile=settings.get("profile"))  # it keeps the credentials it finds
    if not s3_credentials_found(settings, session):
        return ("no AWS credentials found; set AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, or AWS_PROFILE, or "
                f"run `dvc remote modify --local {name} access_key_id ...` (the git-ignored .dvc/config.local)")
    bucket = urlparse(settings["url"]).netloc
    keys = {"aws_access_key_id": settings.get("access_key_id"),
            "aws_secret_access_key": settings.get("secret_access_key")}
    endpoint = settings.get("endpointurl")
    try:
        client = session.create_client("s3", endpoint_url=endpoint, region_name=settings.get("region"),
                                       **{key: value for key, value in keys.items() if value})
    except botocore.exceptions.ProfileNotFound as error:
        return f"{error}; name a profile from ~/.aws/config"
    where = endpoint or "AWS"
    try:
        client.head_bucket(Bucket=bucket)
    except botocore.exceptions.ClientError as error:
        code = error.response.get("Error", {}).get("Code")
        if code in ("404", "NoSuchBucket"):
            return (f"bucket '{bucket}' does not exist at {where}; create it, or change the URL "
                    f"(`dvc remote modify {name} url s3://BUCKET/PREFIX`)")
        if code in ("403", "AccessDenied"):
            return f"access to bucket '{bucket}' denied for these credentials at {where}"
        return f"{where} answered {code}: {error}"
    except botocore.exceptions.BotoCoreError as error:
        return str(error)
    return None


def require_usable(name: str, settings: dict) -> None:
    """Fail with one line when the remote is an S3 bucket that cannot be used as things are."""
    if urlparse(settings["url"]).scheme == "s3" and (problem := s3_problem(name, settings)):
        raise UserError(f"remote '{name}' ({settings['url']}): {problem}")
