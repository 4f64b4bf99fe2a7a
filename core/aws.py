"""Every boto3 client comes from here: prefect-aws credentials plus the project's client configuration,
and what AWS's errors mean."""

from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import boto3
import botocore.session
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.loaders import Loader
from prefect_aws import AwsClientParameters, AwsCredentials

# botocore retries throttling and 5xx itself, briefly; Prefect's task retries add the longer waits.
BOTO_CONFIG = {
    "retries": {"mode": "standard", "max_attempts": 3},
    "connect_timeout": 10,
    "read_timeout": 60,
    # COPY and the local upload run parallel requests on one client.
    "max_pool_connections": 32,
}

TRANSIENT_CODES = {
    "Throttling",
    "ThrottlingException",
    "RequestLimitExceeded",
    "ServiceUnavailable",
    "InternalError",
    "InternalFailure",
    "SlowDown",
}
NOT_FOUND_CODES = {
    "NoSuchEntity",
    "NoSuchBucket",
    "NoSuchKey",
    "ClusterNotFound",
    "ClusterNotFoundFault",
    "InvalidGroup.NotFound",
    "InvalidPermission.NotFound",
    "404",
}

_PERMISSIONS = "grant the permissions listed under 'Running against your AWS account' in the README"
_CREDENTIALS = "check the credentials boto3 finds (environment, profile, instance role) or --aws-credentials-block"
# What a user can do about an error AWS will keep returning however often it is retried.
ADVICE = {
    "AccessDenied": _PERMISSIONS,
    "AccessDeniedException": _PERMISSIONS,
    "UnauthorizedOperation": _PERMISSIONS,
    "UnauthorizedAccess": _PERMISSIONS,
    "InvalidClientTokenId": _CREDENTIALS,
    "SignatureDoesNotMatch": _CREDENTIALS,
    "AuthFailure": _CREDENTIALS,
    "ExpiredToken": "refresh your session credentials and run again",
    "ClusterQuotaExceeded": "delete clusters you no longer need or ask AWS for a higher Redshift quota",
    # Also AWS's answer to a node type it no longer sells ("You do not have access to node type dw2.large").
    "NumberOfNodesQuotaExceeded": "use fewer nodes or an RA3 --node-type, or ask AWS for a higher Redshift node quota",
    "InsufficientClusterCapacity": "try another --node-type or region, or run again later",
}


def explain(exc: BaseException) -> str | None:
    """One sentence saying what AWS refused and what to do, or None if `exc` is not AWS's refusal."""
    if isinstance(exc, NoCredentialsError):
        return f"no AWS credentials found; {_CREDENTIALS}"
    if isinstance(exc, EndpointConnectionError):
        return (
            f"could not connect to {exc.kwargs.get('endpoint_url', 'the AWS endpoint')}; check SPARKIFY_REGION, "
            "AWS_ENDPOINT_URL and this machine's network"
        )
    if not isinstance(exc, ClientError):
        return None
    code = error_code(exc)
    advice = ADVICE.get(code) or ADVICE.get(code.removesuffix("Fault"))
    if advice is None and code.startswith("InvalidParameter"):
        advice = "check the parameters of the run against the AWS limits"
    message = exc.response.get("Error", {}).get("Message", "").rstrip(".")
    return (
        f"AWS refused {exc.operation_name} ({code}: {message}); {advice or 'see the AWS documentation for this code'}"
    )


def credentials(block_name: str | None = None) -> AwsCredentials:
    """The named prefect-aws AwsCredentials block, or boto3's chain (environment, profile, instance role)."""
    return AwsCredentials.load(block_name) if block_name else AwsCredentials()


def configure(creds: AwsCredentials, region: str, endpoint_url: str | None = None) -> AwsCredentials:
    """`creds` with the project's client configuration, `region`, and an endpoint.

    A block naming another region is refused: prefect-aws would send every client there, while the
    bucket names, the plan and the cluster follow `region`.
    """
    if creds.region_name not in (None, region):
        raise ValueError(
            f"the AwsCredentials block names region {creds.region_name} but the run's region is {region} "
            "(SPARKIFY_REGION): make them agree, or clear the block's region"
        )
    creds.region_name = region
    params = creds.aws_client_parameters.model_dump(exclude_none=True)
    params["config"] = {**BOTO_CONFIG, **(params.get("config") or {})}
    if endpoint_url:
        params["endpoint_url"] = endpoint_url
    creds.aws_client_parameters = AwsClientParameters(**params)
    return creds


def client(creds: AwsCredentials, service: str, region: str | None = None) -> Any:
    """A new client of `service`, in `creds`' region or in `region`.

    Not prefect-aws's get_client(): it caches clients by the block's fields, and a block that
    leaves keys and endpoint to boto3's chain hashes alike whatever the environment holds, so a
    long-lived process would keep the first keys and endpoint it saw. Targets keep their own.
    """
    params = creds.aws_client_parameters.get_params_override()
    session = creds.get_boto3_session()
    # boto3 offers no public handle on its botocore session; the loader is botocore's own component.
    session._session.register_component("data_loader", _models())
    return session.client(service, **params, region_name=region or creds.region_name)


@functools.cache
def _models() -> Loader:
    """One loader of botocore's service models and endpoints for every session. Each new session
    has its own and reads the JSON from disk again, about 45 ms a client (the run makes dozens);
    what it reads depends on botocore's version, not on the credentials."""
    loader = botocore.session.get_session().get_component("data_loader")
    # What boto3.Session adds to its session's loader: boto3's own data (resource models).
    loader.search_paths.append(str(Path(boto3.__file__).parent / "data"))
    return loader


def error_code(exc: BaseException) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: throttling, 5xx and dropped connections, nothing the caller got wrong.

    A host that cannot be reached at all (EndpointConnectionError: no such name, connection
    refused) is not: the region is checked against botocore's before any call, so what is left is a
    wrong AWS_ENDPOINT_URL or no network, and botocore's own retries have waited out a blip.
    """
    if isinstance(exc, EndpointConnectionError):
        return False
    # A connect timeout is a ConnectionError; a dropped or slow answer is not, and is worth another try too.
    dropped = ConnectionError | ConnectionClosedError | ReadTimeoutError
    return isinstance(exc, dropped) or error_code(exc) in TRANSIENT_CODES


def is_not_found(exc: BaseException) -> bool:
    code = error_code(exc)
    return code in NOT_FOUND_CODES or code.endswith("NotFound") or code.endswith("NotFoundFault")


def bucket_location(region: str) -> dict[str, Any]:
    """CreateBucket's location argument: us-east-1 must be left out."""
    return {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}


def bucket_region(s3: Any, bucket: str) -> str:
    """The region holding `bucket`, from HeadBucket's x-amz-bucket-region header.

    S3 sends that header even when it refuses access to another account's bucket (botocore's
    GetBucketLocation documentation), which GetBucketLocation does not; a missing bucket raises.
    """
    try:
        headers = s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]
    except ClientError as exc:
        headers = exc.response.get("ResponseMetadata", {}).get("HTTPHeaders", {})
        if "x-amz-bucket-region" not in headers:
            raise
    return headers["x-amz-bucket-region"]


def check_orderable(redshift: Any, node_type: str, number_of_nodes: int) -> None:
    """Raise ValueError unless Redshift sells `number_of_nodes` x `node_type` in the client's region.

    DescribeOrderableClusterOptions lists one option per cluster version, cluster type and node
    type; a type AWS does not sell there has none, and one sold multi-node only has no single-node.
    """
    region = redshift.meta.region_name
    cluster_types: set[str] = set()
    for page in redshift.get_paginator("describe_orderable_cluster_options").paginate(NodeType=node_type):
        cluster_types |= {option["ClusterType"] for option in page["OrderableClusterOptions"]}
    if not cluster_types:
        raise ValueError(f"{node_type} cannot be ordered for a new cluster in {region}: choose another --node-type")
    wanted = "single-node" if number_of_nodes == 1 else "multi-node"
    if wanted not in cluster_types:
        raise ValueError(f"{node_type} is sold in {region} only as {' or '.join(sorted(cluster_types))}, not {wanted}")
