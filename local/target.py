"""The local target: the same provisioning code against moto, as the least-privileged operator, and an
embedded PostgreSQL behind every cluster."""

from __future__ import annotations

import hashlib
import logging
import re
from typing import Any

import psycopg
from prefect_aws import AwsCredentials
from pydantic import SecretStr

from core import aws
from core.settings import Settings
from core.target import Endpoint, Target
from core.warehouse import Dsn
from local.copy.tuning import CopyTuning
from local.engine import LocalEngine
from local.operator import ADMIN_KEYS, OperatorAccount
from local.source_bucket import source_files
from local.twin import LocalTwin

logger = logging.getLogger(__name__)


class LocalTarget(Target):
    """moto's server for the AWS APIs, called as the operator that deployments/aws-operator-policy.json
    describes, and an embedded PostgreSQL behind every cluster."""

    name = "local"
    poll_seconds = 0.2
    # The twin applies every change at once; AWS's refusals are replayed on it only by tests.
    patience = 0.01

    def __init__(self, settings: Settings, copy_tuning: CopyTuning | None = None) -> None:
        self.twin = LocalTwin(settings.state_dir, settings.region)
        try:
            self.account = OperatorAccount()
        except BaseException:
            self.twin.stop()
            raise
        creds = aws.configure(AwsCredentials(**self.account.keys), settings.region, endpoint_url=self.twin.endpoint_url)
        # moto's keys are not secrets and never reach AWS.
        self._admin = aws.configure(AwsCredentials(**ADMIN_KEYS), settings.region, endpoint_url=self.twin.endpoint_url)
        # COPY reads S3 as Redshift does, with its own access rather than the operator's.
        super().__init__(settings, creds, LocalEngine(lambda: self.admin_client("s3"), copy_tuning))
        self.database = warehouse_database(settings)

    def admin_client(self, service: str) -> Any:
        """A client calling as the twin's administrator: for what stands outside the pipeline."""
        return aws.client(self._admin, service)

    def prepare_sources(self) -> None:
        s = self.settings
        count = self.twin.fill_bucket(s.source_bucket, s.region, source_files(s))
        logger.info("Local S3 at %s holds %d objects from %s", self.twin.endpoint_url, count, s.data_dir)

    def dsn(self, endpoint: Endpoint, password: SecretStr) -> Dsn:
        s = self.settings
        backing = self.twin.back_cluster(self.database, s.master_user, password.get_secret_value())
        return Dsn(password=password, connect_timeout_s=s.connect_timeout_s, **backing)

    def caller_cidr(self) -> str:
        return "127.0.0.1/32"

    def existing_warehouse(self, password: SecretStr | None) -> Dsn:
        """The persisted local warehouse, as the superuser of the embedded PostgreSQL: no password."""
        s = self.settings
        dsn = self.twin.warehouse_dsn(self.database)
        if dsn is None:
            raise ValueError(f"there is no local warehouse {s.cluster_id} of {s.data_dir} in {s.state_dir} yet: "
                             "run python flows/sparkify.py with the same --data-dir first")
        return Dsn(password=password or SecretStr(""), connect_timeout_s=s.connect_timeout_s, **dsn)

    def superuser(self, dbname: str = "postgres") -> psycopg.Connection:
        """An autocommit connection to the embedded PostgreSQL as its superuser (the benchmark's references)."""
        return self.twin.superuser(dbname)

    def forget_cluster(self, cluster_id: str) -> None:
        # The local warehouse persists across runs, like a reused cluster, until asked to wipe it:
        # then the databases of every source it was loaded from go, and the one database a cluster
        # had before there was one per source.
        if self.settings.wipe_warehouse:
            for database in [*self.twin.databases(prefix=cluster_id + "."), cluster_id]:
                self.twin.drop_cluster_database(database)

    def close(self, keep_warehouse: bool = False) -> None:
        try:
            self.account.close()  # fails if moto's process died; PostgreSQL is stopped all the same
        finally:
            self.twin.stop(keep_postgres=keep_warehouse)


def warehouse_database(settings: Settings) -> str:
    """The local database behind `cluster_id` for the run's source, e.g. sparkify-dwh.sample-1a2b3c4d.

    One per source, so switching --data-dir never mixes datasets: on AWS a new cluster starts
    empty for its source, while a local one persists. PostgreSQL cuts names at 63 bytes.
    """
    folder = settings.data_dir.resolve()
    source = "|".join((str(folder), settings.source_bucket, settings.song_prefix, settings.log_prefix))
    # ASCII, so that 16 characters are 16 bytes; cluster ids are at most 28 (core.settings).
    label = re.sub(r"[^a-z0-9_-]+", "_", folder.name.lower())[:16]
    return f"{settings.cluster_id}.{label}-{hashlib.sha256(source.encode()).hexdigest()[:8]}"
