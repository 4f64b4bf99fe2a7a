"""Every boto3 client comes from here: prefect-aws credentials plus the project's client configuration,
and what AWS's errors mean."""

from __future__ import annotations

from typing import Any

from botocore.exceptions import (
    ClientError,
    ConnectionError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
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
    "NumberOfNodesQuotaExceeded": "use fewer nodes or ask AWS for a higher Redshift node quota",
    "InsufficientClusterCapacity": "try another --node-type or region, or run again later",
}


def explain(exc: BaseException) -> str | None:
    """One sentence saying what AWS refused and what to do, or None if `exc` is not AWS's refusal."""
    if isinstance(exc, NoCredentialsError):
        return f"no AWS credentials found; {_CREDENTIALS}"
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
    """`creds` with the project's client configuration, `region` unless they name one, and an endpoint."""
    creds.region_name = creds.region_name or region
    params = creds.aws_client_parameters.model_dump(exclude_none=True)
    params["config"] = {**BOTO_CONFIG, **(params.get("config") or {})}
    if endpoint_url:
        params["endpoint_url"] = endpoint_url
    creds.aws_client_parameters = AwsClientParameters(**params)
    return creds


def client(creds: AwsCredentials, service: str) -> Any:
    return creds.get_client(service)


def error_code(exc: BaseException) -> str:
    return exc.response.get("Error", {}).get("Code", "") if isinstance(exc, ClientError) else ""


def is_transient(exc: BaseException) -> bool:
    """Worth retrying: throttling, 5xx and dropped connections, nothing the caller got wrong."""
    # ReadTimeoutError is not a ConnectionError: a slow answer is worth another try too.
    return (
        isinstance(exc, ConnectionError | EndpointConnectionError | ReadTimeoutError)
        or error_code(exc) in TRANSIENT_CODES
    )


def is_not_found(exc: BaseException) -> bool:
    code = error_code(exc)
    return code in NOT_FOUND_CODES or code.endswith("NotFound") or code.endswith("NotFoundFault")


def bucket_location(region: str) -> dict[str, Any]:
    """CreateBucket's location argument: us-east-1 must be left out."""
    return {} if region == "us-east-1" else {"CreateBucketConfiguration": {"LocationConstraint": region}}
