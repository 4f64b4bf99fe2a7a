"""One settings object for a run, and the one declaration of every run parameter.

Each setting is declared once, here: its type, default, limits and one-line description. Those
marked `RUN_PARAMETER` are also the command line's flags (flows/cli.py) and the flow's parameters,
and through them the Prefect UI's run form (flows/sparkify.py). Every setting can come from a
SPARKIFY_* environment variable; a flag or a flow parameter overrides it. `target` is the single
mode switch (local | aws).
"""

from __future__ import annotations

import difflib
import ipaddress
import re
from dataclasses import dataclass
from datetime import date
from functools import cache
from pathlib import Path
from typing import Annotated, Any, Literal

import botocore.session
from pydantic import Field, field_validator, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

from core.resources import manifest_bucket_name

PROJECT_ROOT = Path(__file__).resolve().parent.parent
ENV_PREFIX = "SPARKIFY_"


@dataclass(frozen=True)
class NodeTypeSpec:
    """A node type AWS sells for new clusters: its price and what CreateCluster accepts for it."""

    price: float  # on-demand USD per node-hour, see PRICES
    single_node: bool  # whether a cluster of one node exists (ClusterType single-node)
    max_nodes: int  # the most nodes a new multi-node cluster may have
    ports: tuple[tuple[int, int], ...]  # the ports a new cluster may listen on


# botocore's CreateCluster documentation of Port: "For clusters with RG or RA3 nodes - Select a port
# within the ranges 5431-5455 or 8191-8215" (dc2's 1150-65535 applies to no type sold today).
_RA3_PORTS = ((5431, 5455), (8191, 8215))
# botocore's CreateCluster documentation of NumberOfNodes: "at least 1 and no more than 100".
MAX_NODES = 100
PRICES = "on-demand, us-east-1, as aws.amazon.com/redshift/pricing/ listed them in 2026 (read 2026-12-01)"
# The RA3 types, the ones AWS sells for new provisioned clusters (it stopped selling DC2 in 2025,
# after DC1 and DS2). Node ranges at creation from the Redshift Management Guide's "Node type
# details" (ra3.16xlarge: 2-128 there, but CreateCluster takes at most 100); that table predates
# ra3.large, which is taken to range as ra3.xlplus does, and AWS's own SDK example creates it
# single-node. DescribeOrderableClusterOptions has the last word before a cluster is created. The RG
# types are left out: no published price was found, and they come multi-node only.
NODE_TYPES: dict[str, NodeTypeSpec] = {
    "ra3.large": NodeTypeSpec(0.543, single_node=True, max_nodes=16, ports=_RA3_PORTS),
    "ra3.xlplus": NodeTypeSpec(1.086, single_node=True, max_nodes=16, ports=_RA3_PORTS),
    "ra3.4xlarge": NodeTypeSpec(3.26, single_node=False, max_nodes=32, ports=_RA3_PORTS),
    "ra3.16xlarge": NodeTypeSpec(13.04, single_node=False, max_nodes=MAX_NODES, ports=_RA3_PORTS),
}
# Node types AWS no longer sells for new clusters (with their previous names, which the API still
# accepts), and the RA3 type AWS's upgrade guide points each to.
RETIRED_NODE_TYPES: dict[str, str] = {
    "dc2.large": "ra3.large",
    "dc2.8xlarge": "ra3.4xlarge",
    "dc1.large": "ra3.large",
    "dw2.large": "ra3.large",
    "dc1.8xlarge": "ra3.4xlarge",
    "dw2.8xlarge": "ra3.4xlarge",
    "ds2.xlarge": "ra3.xlplus",
    "ds1.xlarge": "ra3.xlplus",
    "dw1.xlarge": "ra3.xlplus",
    "dw.hs1.xlarge": "ra3.xlplus",
    "ds2.8xlarge": "ra3.4xlarge",
    "ds1.8xlarge": "ra3.4xlarge",
    "dw1.8xlarge": "ra3.4xlarge",
    "dw.hs1.8xlarge": "ra3.4xlarge",
}

# For the flow's parameter: the UI offers these in a list.
NodeType = Literal[tuple(NODE_TYPES)]  # type: ignore[valid-type]


@cache
def redshift_regions() -> frozenset[str]:
    """The regions of AWS's standard partition where botocore's endpoint data has Redshift.

    A misspelt region builds a client happily and fails only on its first call, so the region is
    checked against these before anything is contacted. The ARNs the project builds are `arn:aws:`.
    """
    return frozenset(botocore.session.get_session().get_available_regions("redshift"))


def ports_text(ranges: tuple[tuple[int, int], ...]) -> str:
    return " or ".join(f"{low}-{high}" for low, high in ranges)


# AWS: 1-63 characters, lower-case letters, digits and hyphens, starting with a letter,
# no two consecutive hyphens and no trailing hyphen.
_CLUSTER_ID = re.compile(r"^[a-z](?!.*--)[a-z0-9-]{0,62}(?<!-)$")


@dataclass(frozen=True)
class RunParameter:
    """Marks a setting as a run parameter: a flow parameter and, if `flag`, a command-line flag."""

    flag: bool = True


RUN_PARAMETER = RunParameter()
# Meaningful only for a run that Prefect scheduled.
FLOW_PARAMETER = RunParameter(flag=False)


class Settings(BaseSettings):
    """Everything a run needs to know; read from arguments, then SPARKIFY_* variables."""

    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, extra="forbid")

    target: Annotated[Literal["local", "aws"], RUN_PARAMETER] = Field(
        "local", description="where to run: local (moto and an embedded PostgreSQL) or aws (your account)"
    )
    region: str = Field(
        "us-west-2", description="the AWS region of the cluster (the manifest bucket is in the source bucket's region)"
    )

    # Source data: a local folder in the S3 layout, put into the local S3 on the local target.
    data_dir: Annotated[Path, RUN_PARAMETER] = Field(
        PROJECT_ROOT / "data" / "sample",
        description="local target: a folder laid out like the S3 source (song_data/..., log_data/YYYY/MM/...)",
    )
    source_bucket: str = Field("udacity-dend", description="the S3 bucket holding the source data")
    song_prefix: str = Field("song_data", description="the key prefix of the song files")
    log_prefix: str = Field("log_data", description="the key prefix of the event files")
    log_jsonpaths_key: str | None = Field(
        None,
        description="the key, in the source bucket, of your own JSONPaths file for the events "
        "(if empty: the project's sql/staging/staging_events_jsonpaths.json)",
    )

    # The warehouse.
    cluster_id: Annotated[str, RUN_PARAMETER] = Field(
        "sparkify-dwh",
        max_length=63,
        description="the cluster identifier, new or existing; resource names derive from it",
    )
    node_type: Annotated[NodeType, RUN_PARAMETER] = Field(
        "ra3.large", description="the Redshift node type of a new cluster (an RA3 type)"
    )
    number_of_nodes: Annotated[int, RUN_PARAMETER] = Field(
        1, ge=1, le=MAX_NODES, description="nodes in a new cluster, within the node type's range"
    )
    db_name: str = Field("sparkify", description="the warehouse's database")
    master_user: str = Field("sparkify_admin", description="the cluster's master user")
    port: Annotated[int, RUN_PARAMETER] = Field(
        5439, ge=1150, le=65535, description=f"the cluster port: {ports_text(_RA3_PORTS)} for RA3 clusters"
    )
    cluster_timeout_s: Annotated[int, RUN_PARAMETER] = Field(
        1200, gt=0, description="seconds to wait for the cluster to become available"
    )
    connect_timeout_s: Annotated[int, RUN_PARAMETER] = Field(
        60, gt=0, description="seconds to keep trying the cluster's endpoint before failing"
    )
    keep_cluster: Annotated[bool, RUN_PARAMETER] = Field(
        False, description="leave the warehouse up to query it; prints how to connect and how to tear down"
    )
    allow_cidr: Annotated[str | None, RUN_PARAMETER] = Field(
        None, description="aws target: the CIDR admitted on the cluster port (default: this machine's public IP/32)"
    )
    allow_any_ip: Annotated[bool, RUN_PARAMETER] = Field(
        False, description="admit 0.0.0.0/0 on the cluster port (logged as a warning)"
    )
    max_errors: Annotated[int, RUN_PARAMETER] = Field(0, ge=0, description="records each COPY may reject (MAXERROR)")
    # The event days to load: start..end inclusive; the scheduled run's day; or else every day.
    start: Annotated[date | None, RUN_PARAMETER] = Field(
        None, description="the first event day to load, YYYY-MM-DD (with end; default: every day)"
    )
    end: Annotated[date | None, RUN_PARAMETER] = Field(
        None, description="the last event day to load, inclusive, YYYY-MM-DD (with start)"
    )
    scheduled_day: Annotated[bool, FLOW_PARAMETER] = Field(
        False, description="load the complete UTC day schedule_lag_days before the run's scheduled start"
    )
    schedule_lag_days: Annotated[int, FLOW_PARAMETER] = Field(
        1, ge=0, le=366, description="with scheduled_day: how many days back to load; 1 is the previous day"
    )
    require_existing_cluster: Annotated[bool, RUN_PARAMETER] = Field(
        False, description="use cluster_id's existing cluster and never create or delete one; fail if it is missing"
    )
    cluster_lock_timeout_s: Annotated[int, RUN_PARAMETER] = Field(
        3600, gt=0, description="seconds to wait while another run uses the same cluster"
    )
    # The local warehouse outlives its cluster's teardown unless this is set.
    wipe_warehouse: bool = Field(False, description="local target: teardown also deletes the warehouse's data")

    # Credentials: the boto3 chain unless a prefect-aws AwsCredentials block is named.
    aws_credentials_block: Annotated[str | None, RUN_PARAMETER] = Field(
        None, description="a prefect-aws AwsCredentials block (default: boto3's credential chain)"
    )
    password_secret_block: Annotated[str | None, RUN_PARAMETER] = Field(
        None, description="a Prefect Secret block holding the master password (default: one generated per run)"
    )

    state_dir: Path = Field(PROJECT_ROOT / ".state", description="local target: the warehouse's data and run state")
    results_dir: Path = Field(PROJECT_ROOT / "results", description="where the report's charts are written")

    @field_validator("cluster_id", mode="before")
    @classmethod
    def _cluster_id_rules(cls, value: Any) -> Any:
        if isinstance(value, str) and not _CLUSTER_ID.match(value):
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

    @field_validator("node_type", mode="before")
    @classmethod
    def _node_type_sold_today(cls, value: Any) -> Any:
        if value in RETIRED_NODE_TYPES:
            raise ValueError(f"{value} can no longer be ordered for new clusters: use {RETIRED_NODE_TYPES[value]}")
        if value not in NODE_TYPES:
            raise ValueError(f"unknown node type {value!r}: choose one of {', '.join(NODE_TYPES)}")
        return value

    @field_validator("region")
    @classmethod
    def _known_region(cls, value: str) -> str:
        known = redshift_regions()
        if value not in known:
            close = difflib.get_close_matches(value, known, n=2)
            hint = f"did you mean {' or '.join(close)}?" if close else f"choose one of {', '.join(sorted(known))}"
            raise ValueError(
                f"region {value!r} is not a region where botocore knows Redshift (upgrade boto3 if it is new): {hint}"
            )
        return value

    @model_validator(mode="after")
    def _nodes_and_port_suit_the_node_type(self) -> Settings:
        spec = NODE_TYPES[self.node_type]
        if self.number_of_nodes == 1 and not spec.single_node:
            raise ValueError(f"{self.node_type} clusters have at least 2 nodes: pass --number-of-nodes 2 or more")
        if self.number_of_nodes > spec.max_nodes:
            raise ValueError(f"a new {self.node_type} cluster has at most {spec.max_nodes} nodes")
        if not any(low <= self.port <= high for low, high in spec.ports):
            allowed = ports_text(spec.ports)
            raise ValueError(f"port {self.port} is not allowed for {self.node_type} clusters: use {allowed}")
        return self

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
        # The manifest bucket is sparkify-dwh-<12-digit account>-<region>-<cluster id>: S3 allows 63.
        longest = 63 - len(manifest_bucket_name("", "123456789012", self.region))
        if len(self.cluster_id) > longest:
            raise ValueError(
                f"cluster id {self.cluster_id!r} is too long for the manifest bucket's name in {self.region}: "
                f"use at most {longest} characters"
            )
        if self.cluster_id.endswith("-s3alias"):
            raise ValueError(f"cluster id {self.cluster_id!r} would make the manifest bucket's name end in -s3alias")
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


def run_parameters(flags: bool = False) -> dict[str, FieldInfo]:
    """The settings that are run parameters (only those that are also flags, if `flags`), in declaration order."""
    return {
        name: field
        for name, field in Settings.model_fields.items()
        if any(isinstance(m, RunParameter) and (m.flag or not flags) for m in field.metadata)
    }


def settings_from(parameters: dict[str, Any]) -> Settings:
    """Settings from run parameters; one left as None falls back to its SPARKIFY_* variable or the default."""
    return Settings(**{k: v for k, v in parameters.items() if v is not None})
