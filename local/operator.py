"""The local twin's AWS account, run as a real one is: an administrator sets it up once, and the
pipeline calls as the operator, an IAM user holding exactly deployments/aws-operator-policy.json,
with moto's IAM enforcement on.

moto 5.2 enforces IAM (moto/core/authorization.py, moto/iam/access_control.py) for the whole of
moto's process (local.moto_process) once its settings say so; it checks each call's action (from
5.2.6, an S3 call's operation name: s3:ListObjectsV2 where AWS checks s3:ListBucket) and, for S3
and IAM roles, its resource, but evaluates no condition and no permissions boundary,
substitutes no policy variable, and sees every EC2 and Redshift call as resource "*". moto_view()
turns the policy into what moto can evaluate while granting the same actions, so that a refusal
under enforcement means the policy lacks an action.
"""

from __future__ import annotations

import json
from typing import Any

from core.resources import BOUNDARY_NAME
from core.settings import PROJECT_ROOT
from local.moto_server import open_moto

OPERATOR_POLICY = PROJECT_ROOT / "deployments" / "aws-operator-policy.json"
BOUNDARY_POLICY = PROJECT_ROOT / "deployments" / f"{BOUNDARY_NAME}.json"
OPERATOR = "sparkify-operator"
# The twin's administrator, and what stands in for AWS's services (Redshift reading S3 for COPY).
# Its access key is the fixed pair tests and the twin have always used, so that a client made with
# it keeps working while enforcement is on.
ADMIN = "sparkify-twin-admin"
ADMIN_KEYS = {"aws_access_key_id": "local", "aws_secret_access_key": "local"}
ACCOUNT_VARIABLE = "${aws:PrincipalAccount}"

# moto authorizes these against the resource "*": every EC2, Redshift and STS call, and the IAM
# calls that name no existing role (it resolves RoleName to an ARN only once the role exists).
_STAR_SERVICES = {"ec2", "redshift", "sts"}
_STAR_IAM_ACTIONS = {"iam:CreateRole", "iam:ListRoles", "iam:CreateServiceLinkedRole"}
# moto (5.2.6 on) authorizes an S3 call as s3:<its operation>. AWS's action -> the operations AWS
# authorizes under it whose names differ ("Actions, resources, and condition keys for Amazon S3"),
# each checked by moto on the same resource; DeleteObjects, on the bucket rather than each key.
_S3_OPERATIONS = {
    "s3:ListBucket": ["s3:HeadBucket", "s3:ListObjects", "s3:ListObjectsV2"],
    "s3:ListBucketVersions": ["s3:ListObjectVersions"],
    "s3:ListAllMyBuckets": ["s3:ListBuckets"],
    "s3:GetObject": ["s3:HeadObject"],
    "s3:PutBucketPublicAccessBlock": ["s3:PutPublicAccessBlock"],
    "s3:PutEncryptionConfiguration": ["s3:PutBucketEncryption"],
}


def _listed(value: str | list[str]) -> list[str]:
    return [value] if isinstance(value, str) else list(value)


def moto_view(policy: dict[str, Any], account_id: str) -> dict[str, Any]:
    """`policy` as moto can evaluate it: the same actions allowed and denied.

    - ${aws:PrincipalAccount} becomes the account id: moto substitutes no policy variable.
    - An Allow statement's actions that moto checks against "*" are allowed again on "*".
    - The S3 operations AWS authorizes under an allowed action are allowed by their own names on
      the same resources, and DeleteObjects on the bucket of objects whose DeleteObject is allowed.
    Conditions stay as written: moto treats every condition of an identity policy as met, so a
    conditioned Deny denies always; the operator policy's Denies name only ec2:CreateSecurityGroup,
    which moto_view allows again on "*" in its own statement, where the Deny's ARN does not match.
    """
    statements = json.loads(json.dumps(policy).replace(ACCOUNT_VARIABLE, account_id))["Statement"]
    extra: list[dict[str, Any]] = []
    for statement in statements:
        if statement["Effect"] != "Allow":
            continue
        actions, resources = _listed(statement["Action"]), _listed(statement["Resource"])
        at_star = [a for a in actions if a.split(":")[0] in _STAR_SERVICES or a in _STAR_IAM_ACTIONS]
        if at_star and resources != ["*"]:
            extra.append({"Effect": "Allow", "Action": at_star, "Resource": "*"})
        operations = sorted({o for a in actions for o in _S3_OPERATIONS.get(a, [])})
        if operations:
            extra.append({"Effect": "Allow", "Action": operations, "Resource": resources})
        if "s3:DeleteObject" in actions:
            buckets = [r.removesuffix("/*") for r in resources if r.endswith("/*")]
            extra.append({"Effect": "Allow", "Action": "s3:DeleteObjects", "Resource": buckets})
    return {"Version": "2012-10-17", "Statement": statements + extra}


class OperatorAccount:
    """moto's account set up as an administrator would (the role boundary, the operator user with
    `policy`, the default deployments/aws-operator-policy.json) and enforced until close().

    The set-up runs in moto's process (local.moto_process.open_operator), the one this process shares.
    """

    def __init__(self, policy: dict[str, Any] | None = None) -> None:
        policy = json.loads(OPERATOR_POLICY.read_text()) if policy is None else policy
        self._moto = open_moto()
        try:
            self._keys: dict[str, str] = self._moto.call("open_operator", policy=policy)
        except BaseException:
            self._moto.stop()
            raise
        self._closed = False

    @property
    def keys(self) -> dict[str, str]:
        """The operator's access key, as boto3 takes it."""
        return dict(self._keys)

    def close(self) -> None:
        """Delete the operator's key and, with the last account, stop enforcing."""
        if self._closed:
            return
        self._closed = True
        try:
            self._moto.call("close_operator", access_key_id=self._keys["aws_access_key_id"])
        finally:
            self._moto.stop()
