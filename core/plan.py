"""--plan: what a run would create and what it would cost. Nothing is created; on the AWS target it
asks Redshift whether the node type is sold in the region and S3 where the source bucket is."""

from __future__ import annotations

from botocore.exceptions import BotoCoreError, ClientError

from core import aws
from core.resources import (
    BOUNDARY_NAME,
    POLICY_NAME,
    ROLE_PATH,
    manifest_bucket_name,
    publicly_accessible,
    role_name,
    security_group_name,
)
from core.settings import NODE_TYPES, PRICES, Settings
from core.target import AwsTarget


def _ask_aws(settings: Settings) -> tuple[str, str | None]:
    """Whether Redshift sells the cluster in the region, as a line, and the source bucket's region,
    if AWS answers. A node type it does not sell there raises ValueError."""
    s = settings
    try:
        target = AwsTarget(s)
        aws.check_orderable(target.client("redshift"), s.node_type, s.number_of_nodes)
        source_region = aws.bucket_region(target.client("s3"), s.source_bucket)
    except (BotoCoreError, ClientError) as exc:
        return f"not checked: {aws.explain(exc) or exc}", None
    return f"Redshift sells {s.number_of_nodes} x {s.node_type} in {s.region} (DescribeOrderableClusterOptions)", (
        source_region
    )


def describe_plan(settings: Settings) -> str:
    """The resources of a run of `settings`, one per line, and the cluster's hourly price."""
    s = settings
    if s.target == "aws":
        orderable, source_region = _ask_aws(s)
    else:
        orderable, source_region = "the local twin answers from the node types in core/settings.py", s.region
    cidr = s.allow_cidr or "this machine's public IP as a /32, detected when the run starts"
    public = "yes" if s.allow_cidr is None or publicly_accessible(s.allow_cidr) else "no (private CIDR)"
    price = NODE_TYPES[s.node_type].price
    bucket_region = source_region or f"the region of {s.source_bucket}, read when the run starts"
    copy_region = source_region or f"{s.source_bucket}'s region"
    lines = [
        f"Plan for cluster {s.cluster_id} in {s.region} (nothing is created):",
        f"  IAM role        {ROLE_PATH}{role_name(s.cluster_id)}: assumable by redshift.amazonaws.com only,",
        f"                  bounded by {BOUNDARY_NAME}; inline policy {POLICY_NAME}:",
        f"                  s3:ListBucket and s3:GetObject on {s.source_bucket} and the manifest bucket",
        f"  security group  {security_group_name(s.cluster_id)} in the default VPC: TCP {s.port} from",
        f"                  {cidr}",
        f"  S3 bucket       {manifest_bucket_name(s.cluster_id, '<account>', s.region)} in {bucket_region}:",
        "                  private, encrypted, holding the manifests of the files COPY reads and the events'",
        "                  JSONPaths file",
        f"  Redshift        {s.cluster_id}: {s.number_of_nodes} x {s.node_type}, port {s.port}, encrypted,",
        f"                  publicly accessible: {public}; COPY reads with REGION {copy_region}",
        f"  orderable       {orderable}",
        f"Estimated cost: ${price * s.number_of_nodes:.2f} per hour while the cluster exists ({s.number_of_nodes} x "
        f"{s.node_type} at ${price:.3f} per node-hour; S3 and data transfer are extra).",
        f"Prices: {PRICES}.",
    ]
    if source_region and source_region != s.region:
        lines.append(f"The source is in {source_region}: COPY reads across regions, billed as S3 data transfer.")
    lines.append("Everything is deleted when the run ends, unless --keep-cluster.")
    return "\n".join(lines)
