"""A target: where a run's AWS APIs and warehouse are. The steps see only this interface.

Both targets run the same provisioning code against an AWS API. They differ in the endpoint of
that API, in the engine that runs Redshift SQL, in how a cluster's endpoint is reached, and in
how long AWS takes to change state. `AwsTarget` is your account; `local.target.LocalTarget` the
local twin.
"""

from __future__ import annotations

import copy
import threading
import time
import urllib.request
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from botocore.exceptions import ClientError
from prefect_aws import AwsCredentials
from pydantic import SecretStr

from core import aws
from core.engine import Engine, RedshiftEngine
from core.retry import Backoff, call_with_retry
from core.settings import Settings
from core.warehouse import Dsn

T = TypeVar("T")


@dataclass(frozen=True)
class Endpoint:
    """Where a cluster listens, and the security groups that decide who may connect."""

    address: str
    port: int
    security_groups: str


class Target(ABC):
    """What the steps need of a target: AWS clients, an engine, and the cluster's connection."""

    name: str
    # How often to ask AWS whether a cluster changed state.
    poll_seconds: float
    # The share of AWS's propagation waits a retry sleeps (core.retry's schedules are AWS's).
    patience: float = 1.0

    def __init__(self, settings: Settings, creds: AwsCredentials, engine: Engine) -> None:
        self.settings = settings
        self.creds = creds
        self.engine = engine
        # boto3 clients are thread-safe; making one is not, and costs milliseconds.
        self._clients: dict[tuple[str, str | None], Any] = {}
        self._clients_lock = threading.Lock()

    def client(self, service: str, region: str | None = None) -> Any:
        """The target's client of `service` in the run's region, or in `region`."""
        with self._clients_lock:
            if (service, region) not in self._clients:
                self._clients[service, region] = aws.client(self.creds, service, region)
            return self._clients[service, region]

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)

    def retry(self, backoff: Backoff, call: Callable[..., T], /, *args: Any, **kwargs: Any) -> T:
        """`call(*args, **kwargs)`, waiting out what `backoff` names on this target's schedule."""
        return call_with_retry(call, *args, backoff=backoff.scaled(self.patience), sleep=self.sleep, **kwargs)

    def with_settings(self, **changes: Any) -> Target:
        """This target with some settings changed, e.g. addressing another cluster id."""
        other = copy.copy(self)
        other.settings = self.settings.model_copy(update=changes)
        return other

    @abstractmethod
    def dsn(self, endpoint: Endpoint, password: SecretStr) -> Dsn:
        """How to connect to the cluster at `endpoint`."""

    @abstractmethod
    def caller_cidr(self) -> str:
        """The CIDR the cluster's ingress rule admits."""

    @abstractmethod
    def existing_warehouse(self, password: SecretStr | None) -> Dsn:
        """How to connect to the warehouse of `settings.cluster_id` as it is now, to query it; raises
        ValueError, naming what to do, if there is none to reach."""

    def prepare_sources(self) -> None:
        """Make the source data readable; on AWS it is in S3 already."""

    def forget_cluster(self, cluster_id: str) -> None:
        """Called once a cluster is deleted; Redshift drops its data itself."""

    def close(self, keep_warehouse: bool = False) -> None:
        """Release what the target itself started."""


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


class AwsTarget(Target):
    """Your AWS account: boto3's credential chain (or a credentials block) and Redshift itself."""

    name = "aws"
    poll_seconds = 15.0

    def __init__(self, settings: Settings) -> None:
        creds = aws.configure(aws.credentials(settings.aws_credentials_block), settings.region)
        super().__init__(settings, creds, RedshiftEngine())
        self._cidr: str | None = None

    def dsn(self, endpoint: Endpoint, password: SecretStr) -> Dsn:
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

    def existing_warehouse(self, password: SecretStr | None) -> Dsn:
        s = self.settings
        if password is None:
            raise ValueError(f"querying cluster {s.cluster_id} needs its master password: name its Secret block "
                             "with --password-secret-block")
        try:
            cluster = self.client("redshift").describe_clusters(ClusterIdentifier=s.cluster_id)["Clusters"][0]
        except ClientError as exc:
            if not aws.is_not_found(exc):
                raise
            raise ValueError(f"there is no cluster {s.cluster_id} in {s.region} to query: keep one with --keep-cluster,"
                             " or name yours with --cluster-id") from None
        if cluster["ClusterStatus"] != "available" or "Endpoint" not in cluster:
            raise ValueError(f"cluster {s.cluster_id} is {cluster['ClusterStatus']}: query it once it is available")
        groups = ", ".join(g["VpcSecurityGroupId"] for g in cluster.get("VpcSecurityGroups", [])) or "none"
        endpoint = Endpoint(cluster["Endpoint"]["Address"], int(cluster["Endpoint"]["Port"]), groups)
        target = self.with_settings(master_user=cluster["MasterUsername"], db_name=cluster["DBName"])
        return target.dsn(endpoint, password)

    def caller_cidr(self) -> str:
        """--allow-cidr, or this machine's public IP detected once per run."""
        if self._cidr is None:
            self._cidr = self.settings.allow_cidr or detect_public_cidr()
        return self._cidr
