"""The mode switch: what the local and AWS targets do differently, and nothing else.

Both targets run the same provisioning code against an AWS API. They differ in the endpoint of
that API, in the engine that runs Redshift SQL, and in how a cluster's endpoint is reached.
"""

from __future__ import annotations

import copy
import logging
import urllib.request
from dataclasses import dataclass
from typing import Any

from prefect_aws import AwsCredentials
from pydantic import SecretStr

from tasks import aws
from tasks.dialect import LocalPostgres, Redshift
from tasks.local_stack import LocalStack, data_files
from tasks.settings import Settings
from tasks.warehouse import Dsn

PROJECT_TAG = "sparkify-dwh"

logger = logging.getLogger(__name__)


def tagged_by_project(tags: list[dict[str, str]]) -> bool:
    """Whether AWS tags mark a resource as this project's: only such resources are adopted or deleted."""
    return {"Key": "Project", "Value": PROJECT_TAG} in tags


@dataclass(frozen=True)
class Endpoint:
    """Where a cluster listens, and the security groups that decide who may connect."""

    address: str
    port: int
    security_groups: str


def detect_public_cidr() -> str:
    """This machine's public IP as a /32, as AWS sees it."""
    try:
        with urllib.request.urlopen("https://checkip.amazonaws.com", timeout=5) as response:
            ip = response.read().decode().strip()
    except OSError as exc:
        raise RuntimeError(
            f"could not detect this machine's public IP ({exc}); pass --allow-cidr with the CIDR "
            "that may reach the cluster"
        ) from None
    return f"{ip}/32"


class Target:
    """The AWS target: boto3's defaults (or a credentials block) and Redshift itself."""

    name = "aws"

    def __init__(self, settings: Settings, creds: AwsCredentials, engine: Redshift) -> None:
        self.settings = settings
        self.creds = creds
        self.engine = engine
        self._cidr: str | None = None

    def client(self, service: str) -> Any:
        return aws.client(self.creds, service)

    def with_settings(self, **changes: Any) -> Target:
        """This target with some settings changed, e.g. addressing another cluster id."""
        other = copy.copy(self)
        other.settings = self.settings.model_copy(update=changes)
        return other

    def tags(self, run_id: str) -> list[dict[str, str]]:
        """The tags of every resource a run creates: `teardown --run-id` finds orphans by them."""
        return [
            {"Key": "Project", "Value": PROJECT_TAG},
            {"Key": "FlowRunId", "Value": run_id},
            {"Key": "ClusterId", "Value": self.settings.cluster_id},
        ]

    def dsn(self, endpoint: Endpoint, password: SecretStr) -> Dsn:
        """How to connect to the cluster at `endpoint`."""
        s = self.settings
        return Dsn(
            host=endpoint.address,
            port=endpoint.port,
            dbname=s.db_name,
            user=s.master_user,
            password=password,
            connect_timeout_s=s.connect_timeout_s,
            unreachable_hint=(
                f"check that security group {endpoint.security_groups} admits {self.caller_cidr()} on TCP port "
                f"{endpoint.port}, and that nothing between here and AWS blocks that port"
            ),
        )

    def caller_cidr(self) -> str:
        """The CIDR the cluster's ingress rule admits, detected once per run."""
        if self._cidr is None:
            self._cidr = self.settings.allow_cidr or detect_public_cidr()
        return self._cidr

    def prepare_sources(self) -> None:
        """Make the source data readable; on AWS it is in S3 already."""

    def forget_cluster(self, cluster_id: str) -> None:
        """Called once a cluster is deleted; Redshift drops its data itself."""

    def close(self, keep_warehouse: bool = False) -> None:
        """Release what the target itself started."""


class LocalTarget(Target):
    """moto's server for the AWS APIs and an embedded PostgreSQL behind every cluster."""

    name = "local"

    def __init__(self, settings: Settings) -> None:
        self.stack = LocalStack(settings.state_dir, settings.region)
        creds = aws.credentials(settings.region, endpoint_url=self.stack.endpoint_url, local=True)
        super().__init__(settings, creds, LocalPostgres(lambda: self.client("s3")))

    def prepare_sources(self) -> None:
        s = self.settings
        files = data_files(s.data_dir, (s.song_prefix, s.log_prefix), (s.log_jsonpaths_key,))
        count = self.stack.fill_bucket(s.source_bucket, s.region, files)
        logger.info("Local S3 at %s holds %d objects from %s", self.stack.endpoint_url, count, s.data_dir)

    def dsn(self, endpoint: Endpoint, password: SecretStr) -> Dsn:
        s = self.settings
        backing = self.stack.back_cluster(s.cluster_id, s.master_user, password.get_secret_value())
        return Dsn(password=password, connect_timeout_s=s.connect_timeout_s, **backing)

    def caller_cidr(self) -> str:
        return "127.0.0.1/32"

    def forget_cluster(self, cluster_id: str) -> None:
        # The local warehouse persists across runs, like a reused cluster, until asked to wipe it.
        if self.settings.wipe_warehouse:
            self.stack.drop_cluster_database(cluster_id)

    def close(self, keep_warehouse: bool = False) -> None:
        self.stack.stop(keep_postgres=keep_warehouse)


def open_target(settings: Settings) -> Target:
    """Build the target `settings.target` names; the only place that branches on it."""
    if settings.target == "local":
        return LocalTarget(settings)
    creds = aws.credentials(settings.region, block_name=settings.aws_credentials_block)
    return Target(settings, creds, Redshift())
