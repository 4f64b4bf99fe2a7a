"""core.aws and core.retry: which AWS answers are worth retrying, what a refusal tells the user, which
region a bucket is in, whether Redshift sells a node type, and one region for every client."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import boto3
import psycopg
import pytest
from botocore.exceptions import (
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    ReadTimeoutError,
)
from botocore.stub import Stubber
from prefect_aws import AwsCredentials

from core.aws import bucket_region, check_orderable, client, configure, explain, is_not_found
from core.retry import is_transient
from tests.support import client as moto_client


def test_which_errors_are_transient() -> None:
    """Retried: throttling, 5xx, dropped or slow connections. Not retried: what AWS will repeat, nor
    an endpoint nothing answers at (a wrong AWS_ENDPOINT_URL, no network)."""
    def refused(code: str) -> ClientError:
        return ClientError({"Error": {"Code": code, "Message": "m"}}, "CreateCluster")

    assert is_transient(ReadTimeoutError(endpoint_url="https://redshift.us-west-2.amazonaws.com"))
    assert is_transient(ConnectTimeoutError(endpoint_url="https://redshift.us-west-2.amazonaws.com"))
    assert is_transient(ConnectionClosedError(endpoint_url="https://redshift.us-west-2.amazonaws.com"))
    assert not is_transient(EndpointConnectionError(endpoint_url="https://redshift.us-weest-2.amazonaws.com"))
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
    unreachable = EndpointConnectionError(endpoint_url="http://127.0.0.1:9")
    assert explain(unreachable) == (
        "could not connect to http://127.0.0.1:9; check SPARKIFY_REGION, AWS_ENDPOINT_URL and this machine's network"
    )
    assert explain(ValueError("not AWS")) is None


def test_not_found_in_every_services_spelling() -> None:
    for code in ("NoSuchEntity", "NoSuchBucket", "ClusterNotFound", "ClusterNotFoundFault", "InvalidGroup.NotFound"):
        assert is_not_found(ClientError({"Error": {"Code": code, "Message": "m"}}, "Op")), code
    assert not is_not_found(ClientError({"Error": {"Code": "AccessDenied", "Message": "m"}}, "Op"))


def test_an_unreachable_endpoint_fails_at_once(unused_port: int) -> None:
    """botocore's own retries try a closed port three times in well under a second; nothing retries more."""
    sts = boto3.client(
        "sts", endpoint_url=f"http://127.0.0.1:{unused_port}", region_name="us-west-2",
        aws_access_key_id="k", aws_secret_access_key="s",
    )
    with pytest.raises(EndpointConnectionError) as failed:
        sts.get_caller_identity()
    assert not is_transient(failed.value)
    assert explain(failed.value).startswith(f"could not connect to http://127.0.0.1:{unused_port}/")


@pytest.fixture
def unused_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_a_credentials_block_of_another_region_is_refused() -> None:
    """prefect-aws sends every client to the block's region; the run's buckets and cluster follow its own."""
    with pytest.raises(ValueError, match="the AwsCredentials block names region us-east-1 but the run's region is"):
        configure(AwsCredentials(region_name="us-east-1"), "us-west-2")
    agreeing = configure(AwsCredentials(region_name="us-west-2"), "us-west-2")
    silent = configure(AwsCredentials(aws_access_key_id="k", aws_secret_access_key="s"), "eu-west-1")
    assert client(agreeing, "redshift").meta.region_name == "us-west-2"
    assert client(silent, "redshift").meta.region_name == "eu-west-1"
    assert client(silent, "s3", region="us-west-2").meta.region_name == "us-west-2"


def test_a_buckets_region_as_s3_reports_it(aws: str) -> None:
    """HeadBucket names the bucket's region whichever region's endpoint is asked."""
    moto_client(aws, "s3", "us-west-2").create_bucket(
        Bucket="in-oregon", CreateBucketConfiguration={"LocationConstraint": "us-west-2"}
    )
    moto_client(aws, "s3", "us-east-1").create_bucket(Bucket="in-virginia")

    assert bucket_region(moto_client(aws, "s3", "eu-central-1"), "in-oregon") == "us-west-2"
    assert bucket_region(moto_client(aws, "s3", "us-west-2"), "in-virginia") == "us-east-1"
    with pytest.raises(ClientError) as missing:
        bucket_region(moto_client(aws, "s3"), "no-such-bucket")
    assert is_not_found(missing.value)


def test_a_refused_head_bucket_still_names_the_region() -> None:
    """S3 sends x-amz-bucket-region with a 403 (botocore's GetBucketLocation documentation); moto's 403
    has no such header, so the answer is replayed."""
    s3 = boto3.client("s3", region_name="us-east-1", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(s3) as stubber:
        stubber.add_client_error(
            "head_bucket", service_error_code="403", service_message="Forbidden", http_status_code=403,
            response_meta={"HTTPHeaders": {"x-amz-bucket-region": "us-west-2"}},
        )
        assert bucket_region(s3, "udacity-dend") == "us-west-2"


def option(node_type: str, cluster_type: str) -> dict[str, Any]:
    return {"ClusterVersion": "1.0", "ClusterType": cluster_type, "NodeType": node_type,
            "AvailabilityZones": [{"Name": "us-west-2a"}]}


@pytest.fixture
def redshift() -> Iterator[tuple[Any, Stubber]]:
    """A Redshift client whose answers are replayed in the shape of botocore's service model."""
    redshift = boto3.client("redshift", region_name="us-west-2", aws_access_key_id="k", aws_secret_access_key="s")
    with Stubber(redshift) as stubber:
        yield redshift, stubber
        stubber.assert_no_pending_responses()


def test_a_node_type_sold_single_node_is_orderable(redshift: tuple[Any, Stubber]) -> None:
    client_, stubber = redshift
    stubber.add_response(
        "describe_orderable_cluster_options",
        {"OrderableClusterOptions": [option("ra3.large", "multi-node"), option("ra3.large", "single-node")]},
        {"NodeType": "ra3.large"},
    )
    check_orderable(client_, "ra3.large", 1)


def test_a_node_type_not_sold_in_the_region_is_refused_naming_it(redshift: tuple[Any, Stubber]) -> None:
    client_, stubber = redshift
    stubber.add_response(
        "describe_orderable_cluster_options", {"OrderableClusterOptions": []}, {"NodeType": "ra3.large"}
    )
    with pytest.raises(ValueError, match="ra3.large cannot be ordered for a new cluster in us-west-2"):
        check_orderable(client_, "ra3.large", 1)


def test_a_type_sold_multi_node_only_refuses_one_node_after_reading_every_page(redshift: tuple[Any, Stubber]) -> None:
    client_, stubber = redshift
    stubber.add_response(
        "describe_orderable_cluster_options",
        {"OrderableClusterOptions": [option("ra3.4xlarge", "multi-node")], "Marker": "page-2"},
        {"NodeType": "ra3.4xlarge"},
    )
    stubber.add_response(
        "describe_orderable_cluster_options",
        {"OrderableClusterOptions": [option("ra3.4xlarge", "multi-node")]},
        {"NodeType": "ra3.4xlarge", "Marker": "page-2"},
    )
    with pytest.raises(ValueError, match="ra3.4xlarge is sold in us-west-2 only as multi-node, not single-node"):
        check_orderable(client_, "ra3.4xlarge", 1)
