"""What a run creates in AWS, by name, and the tags that mark it as this project's: the steps, the
teardown, --plan and deployments/aws-operator-policy.json all follow these names."""

from __future__ import annotations

import ipaddress
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from core.settings import Settings

PROJECT_TAG = "sparkify-dwh"
# Every role of the project lives under this path, so teardown lists them in one request.
ROLE_PATH = f"/{PROJECT_TAG}/"
POLICY_NAME = "read-source-and-manifest"
# The permissions boundary of every role the project creates: an administrator creates this managed
# policy once (deployments/sparkify-dwh-read-role-boundary.json), and the operator policy lets the
# operator create roles only with it, so no role it makes can do more than read S3.
BOUNDARY_NAME = f"{PROJECT_TAG}-read-role-boundary"
# The operator policy may create, change and delete only clusters named so (see the README).
NEW_CLUSTER_PREFIX = "sparkify-"
# The tag an owner puts on a cluster this project did not create to let runs load into it.
REUSE_TAG = {"Key": "SparkifyDwhReuse", "Value": "allowed"}
# One manifest per COPY: every song file, and the event files of the run's window; beside them the
# JSONPaths file the events' COPY maps its columns with.
MANIFEST_KEYS = {"songs": "manifests/song_data.manifest", "events": "manifests/log_data.manifest"}
JSONPATHS_KEY = "manifests/staging_events_jsonpaths.json"


def role_name(cluster_id: str) -> str:
    return f"{cluster_id}-s3-read"


def boundary_arn(account: str) -> str:
    return f"arn:aws:iam::{account}:policy{ROLE_PATH}{BOUNDARY_NAME}"


def security_group_name(cluster_id: str) -> str:
    return f"{cluster_id}-ingress"


def manifest_bucket_name(cluster_id: str, account: str, region: str) -> str:
    """Unique per cluster (account, its region, its id), under a prefix the operator policy names."""
    return f"{PROJECT_TAG}-{account}-{region}-{cluster_id}"


def is_manifest_bucket(name: str, account: str) -> bool:
    return name.startswith(f"{PROJECT_TAG}-{account}-")


def tags(settings: Settings, run_id: str) -> list[dict[str, str]]:
    """The tags of every resource a run creates: `teardown --run-id` finds orphans by them."""
    return [
        {"Key": "Project", "Value": PROJECT_TAG},
        {"Key": "FlowRunId", "Value": run_id},
        {"Key": "ClusterId", "Value": settings.cluster_id},
    ]


def tagged_by_project(resource_tags: list[dict[str, str]]) -> bool:
    """Whether AWS tags mark a resource as this project's: only such resources are adopted or deleted."""
    return {"Key": "Project", "Value": PROJECT_TAG} in resource_tags


def is_ours(resource: dict) -> bool:
    """A cluster or security group tagged by this project: only such a one is ever deleted or adopted."""
    return tagged_by_project(resource.get("Tags", []))


def reuse_allowed(cluster: dict) -> bool:
    """Whether the owner of a cluster this project did not create lets runs load into it."""
    return REUSE_TAG in cluster.get("Tags", [])


# Address space a VPC (or a host on the same machine) uses: clients there need no public endpoint.
_VPC_RANGES = [ipaddress.ip_network(n) for n in ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "127.0.0.0/8")]


def publicly_accessible(cidr: str) -> bool:
    """A public endpoint only when clients in the admitted CIDR are outside any VPC's private ranges."""
    network = ipaddress.ip_network(cidr)
    return not any(network.version == r.version and network.subnet_of(r) for r in _VPC_RANGES)
