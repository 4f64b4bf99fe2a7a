"""What a run would create and what it would cost, worked out without contacting anything."""

from __future__ import annotations

from core.resources import (
    MANIFEST_BUCKET_MARK,
    POLICY_NAME,
    ROLE_PATH,
    publicly_accessible,
    role_name,
    security_group_name,
)
from core.settings import NODE_TYPES, Settings


def describe_plan(settings: Settings) -> str:
    """The resources of a run of `settings`, one per line, and the cluster's hourly price."""
    s = settings
    cidr = s.allow_cidr or "this machine's public IP as a /32, detected when the run starts"
    public = "yes" if s.allow_cidr is None or publicly_accessible(s.allow_cidr) else "no (private CIDR)"
    hourly = NODE_TYPES[s.node_type] * s.number_of_nodes
    return "\n".join([
        f"Plan for cluster {s.cluster_id} in {s.region} (nothing is created):",
        f"  IAM role        {ROLE_PATH}{role_name(s.cluster_id)}: assumable by redshift.amazonaws.com only;",
        f"                  inline policy {POLICY_NAME}: s3:ListBucket and s3:GetObject on",
        f"                  {s.source_bucket} and the manifest bucket",
        f"  security group  {security_group_name(s.cluster_id)} in the default VPC: TCP {s.port} from",
        f"                  {cidr}",
        f"  S3 bucket       {s.cluster_id}{MANIFEST_BUCKET_MARK}<account>-{s.region}: private, encrypted,",
        "                  holding the manifests of the song and event files COPY reads",
        f"  Redshift        {s.cluster_id}: {s.number_of_nodes} x {s.node_type}, port {s.port}, encrypted,",
        f"                  publicly accessible: {public}",
        f"Estimated cost: ${hourly:.2f} per hour while the cluster exists ({s.number_of_nodes} x {s.node_type} at",
        f"${NODE_TYPES[s.node_type]:.3f} per node-hour, on-demand in us-east-1; S3 and data transfer are extra).",
        "Everything is deleted when the run ends, unless --keep-cluster.",
    ])
