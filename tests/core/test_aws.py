"""core.aws and core.retry: which AWS answers are worth retrying, and what a refusal tells the user."""

from __future__ import annotations

import psycopg
from botocore.exceptions import ClientError, EndpointConnectionError, NoCredentialsError, ReadTimeoutError

from core.aws import explain, is_not_found
from core.retry import is_transient


def test_which_errors_are_transient() -> None:
    """Retried: throttling, 5xx, dropped or slow connections. Not retried: what AWS will repeat."""
    def refused(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"}}, "CreateCluster")

    assert is_transient(ReadTimeoutError(endpoint_url="https://redshift.us-west-2.amazonaws.com"))
    assert is_transient(EndpointConnectionError(endpoint_url="https://iam.amazonaws.com"))
    for code in ("Throttling", "RequestLimitExceeded", "ServiceUnavailable", "InternalError"):
        assert is_transient(refused(code)), code
    for code in ("AccessDenied", "InvalidParameterValue", "ClusterQuotaExceeded", "ClusterAlreadyExists"):
        assert not is_transient(refused(code)), code


def test_a_dropped_warehouse_connection_is_transient_a_refused_login_is_not() -> None:
    assert is_transient(psycopg.OperationalError("server closed the connection unexpectedly"))
    refused = psycopg.errors.InvalidPassword("password authentication failed")
    assert refused.sqlstate == "28P01" and not is_transient(refused)


def test_a_refusal_is_explained_in_one_sentence_with_what_to_do() -> None:
    denied = ClientError({"Error": {"Code": "AccessDenied", "Message": "not allowed."}}, "CreateRole")
    assert explain(denied) == (
        "AWS refused CreateRole (AccessDenied: not allowed); grant the permissions listed under "
        "'Running against your AWS account' in the README"
    )
    quota = ClientError({"Error": {"Code": "ClusterQuotaExceededFault", "Message": "m"}}, "CreateCluster")
    assert "ask AWS for a higher Redshift quota" in explain(quota)
    assert "no AWS credentials found" in explain(NoCredentialsError())
    assert explain(ValueError("not AWS")) is None


def test_not_found_in_every_services_spelling() -> None:
    for code in ("NoSuchEntity", "NoSuchBucket", "ClusterNotFound", "ClusterNotFoundFault", "InvalidGroup.NotFound"):
        assert is_not_found(ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")), code
    assert not is_not_found(ClientError({"Error": {"Code": "AccessDenied", "Message": "m"}}, "Op"))
