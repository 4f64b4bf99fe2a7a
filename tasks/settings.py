"""One settings object for a run; `target` is the single mode switch (local | aws)."""

from __future__ import annotations

import ipaddress
import re
from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent

# Node types Redshift provisions today, with on-demand USD per node-hour in us-east-1.
NODE_TYPES: dict[str, float] = {
    "dc2.large": 0.25,
    "dc2.8xlarge": 4.80,
    "ra3.large": 0.543,
    "ra3.xlplus": 1.086,
    "ra3.4xlarge": 3.26,
    "ra3.16xlarge": 13.04,
}

# For the flow's signature: the UI offers these in a list.
NodeType = Literal[tuple(NODE_TYPES)]  # type: ignore[valid-type]

# AWS: 1-63 characters, lower-case letters, digits and hyphens, starting with a letter,
# no two consecutive hyphens and no trailing hyphen.
_CLUSTER_ID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")


class Settings(BaseSettings):
    """Everything a run needs to know; read from arguments, then SPARKIFY_* variables."""

    model_config = SettingsConfigDict(env_prefix="SPARKIFY_", extra="forbid")

    target: Literal["local", "aws"] = "local"
    region: str = "us-west-2"

    # Source data: a local folder in the S3 layout, uploaded to the local S3 on the local target.
    data_dir: Path = PROJECT_ROOT / "data" / "sample"
    source_bucket: str = "udacity-dend"
    song_prefix: str = "song_data"
    log_prefix: str = "log_data"
    log_jsonpaths_key: str = "log_json_path.json"

    # The warehouse.
    cluster_id: str = "sparkify-dwh"
    node_type: str = "dc2.large"
    number_of_nodes: int = Field(default=1, ge=1, le=128)
    db_name: str = "sparkify"
    master_user: str = "sparkify_admin"
    port: int = Field(default=5439, ge=1150, le=65535)
    cluster_timeout_s: int = Field(default=1200, gt=0)
    # How long to keep trying to reach the cluster's endpoint before failing.
    connect_timeout_s: int = Field(default=60, gt=0)
    keep_cluster: bool = False
    # Who may reach the cluster port; by default this machine's public IP as a /32.
    allow_cidr: str | None = None
    # The whole internet on the cluster port: only when asked for by name.
    allow_any_ip: bool = False
    max_errors: int = Field(default=0, ge=0)
    # The event days to load: start..end inclusive; the scheduled run's day; or else every day.
    start: date | None = None
    end: date | None = None
    scheduled_day: bool = False
    # The local warehouse outlives its cluster's teardown unless this is set.
    wipe_warehouse: bool = False

    # Credentials: the boto3 chain unless a prefect-aws AwsCredentials block is named.
    aws_credentials_block: str | None = None
    password_secret_block: str | None = None

    state_dir: Path = PROJECT_ROOT / ".state"
    results_dir: Path = PROJECT_ROOT / "results"

    @field_validator("cluster_id")
    @classmethod
    def _cluster_id_rules(cls, value: str) -> str:
        if not _CLUSTER_ID.match(value):
            raise ValueError(
                f"cluster id {value!r} breaks AWS's rules: use 1-63 lower-case letters, digits "
                "and hyphens, start with a letter, and avoid '--' or a trailing '-'"
            )
        return value

    @field_validator("allow_cidr")
    @classmethod
    def _valid_cidr(cls, value: str | None) -> str | None:
        if value is not None:
            try:
                return str(ipaddress.ip_network(value, strict=False))
            except ValueError:
                raise ValueError(f"--allow-cidr {value!r} is not a CIDR such as 203.0.113.7/32") from None
        return value

    @field_validator("node_type")
    @classmethod
    def _known_node_type(cls, value: str) -> str:
        if value not in NODE_TYPES:
            raise ValueError(f"unknown node type {value!r}: choose one of {', '.join(NODE_TYPES)}")
        return value

    @model_validator(mode="after")
    def _any_ip_only_when_asked(self) -> Settings:
        if self.allow_any_ip:
            if self.allow_cidr not in (None, "0.0.0.0/0"):
                raise ValueError("--allow-any-ip and --allow-cidr contradict each other: pass one of them")
            self.allow_cidr = "0.0.0.0/0"
        elif self.allow_cidr is not None and ipaddress.ip_network(self.allow_cidr).prefixlen == 0:
            raise ValueError(
                f"--allow-cidr {self.allow_cidr} admits the whole internet to the cluster port; "
                "pass --allow-any-ip instead if that is really meant"
            )
        return self

    @model_validator(mode="after")
    def _bucket_name_fits(self) -> Settings:
        # The manifest bucket is <cluster id>-manifests-<12-digit account>-<region>: S3 allows 63.
        longest = 63 - len(f"-manifests-123456789012-{self.region}")
        if len(self.cluster_id) > longest:
            raise ValueError(
                f"cluster id {self.cluster_id!r} is too long for the manifest bucket's name in {self.region}: "
                f"use at most {longest} characters"
            )
        return self

    @model_validator(mode="after")
    def _window(self) -> Settings:
        if (self.start is None) != (self.end is None):
            raise ValueError("give both --start and --end, or neither")
        if self.start and self.end and self.start > self.end:
            raise ValueError(f"--start {self.start} is after --end {self.end}")
        return self

    @model_validator(mode="after")
    def _data_dir_layout(self) -> Settings:
        if self.target == "local":
            missing = [p for p in (self.song_prefix, self.log_prefix) if not (self.data_dir / p).is_dir()]
            if missing:
                raise ValueError(
                    f"data dir {self.data_dir} lacks {' and '.join(p + '/' for p in missing)}: "
                    "point --data-dir at a folder laid out like the S3 source"
                )
        return self


def check_password_policy(password: str) -> None:
    """Raise ValueError unless `password` meets Redshift's master password policy."""
    rules = [
        (8 <= len(password) <= 64, "be 8-64 characters long"),
        (any(c.isupper() for c in password), "contain an upper-case letter"),
        (any(c.islower() for c in password), "contain a lower-case letter"),
        (any(c.isdigit() for c in password), "contain a digit"),
        (
            all(33 <= ord(c) <= 126 and c not in "'\"\\/@" for c in password),
            "use printable ASCII other than ' \" \\ / @ and space",
        ),
    ]
    broken = [rule for ok, rule in rules if not ok]
    if broken:
        # Never echo the password itself.
        raise ValueError("the master password breaks Redshift's policy: it must " + ", ".join(broken))
