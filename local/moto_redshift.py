"""The two Redshift actions the pipeline calls that moto 5.2 lacks, added to moto's own Redshift
responses so they are dispatched, and authorized under IAM enforcement, like every other action.

- DescribeOrderableClusterOptions answers from the node types AWS sells for new clusters
  (core.settings.NODE_TYPES), in every availability zone moto's region has.
- ModifyClusterIamRoles adds and removes roles on moto's cluster record, as AWS does once the
  change is applied.
"""

from __future__ import annotations

from moto.core.responses import ActionResult
from moto.redshift.responses import RedshiftResponse

from core.settings import NODE_TYPES


def describe_orderable_cluster_options(self: RedshiftResponse) -> ActionResult:
    wanted = self._get_param("NodeType")
    zones = [{"Name": f"{self.region}{zone}"} for zone in "abc"]
    options = [
        {"ClusterVersion": "1.0", "ClusterType": cluster_type, "NodeType": node_type, "AvailabilityZones": zones}
        for node_type, spec in NODE_TYPES.items()
        if wanted in (None, node_type)
        for cluster_type in (("single-node", "multi-node") if spec.single_node else ("multi-node",))
    ]
    return ActionResult({"OrderableClusterOptions": options})


def modify_cluster_iam_roles(self: RedshiftResponse) -> ActionResult:
    [cluster] = self.redshift_backend.describe_clusters(self._get_param("ClusterIdentifier"))
    removed = self._get_param("RemoveIamRoles", [])
    added = [arn for arn in self._get_param("AddIamRoles", []) if arn not in cluster.iam_roles_arn]
    cluster.iam_roles_arn = [arn for arn in cluster.iam_roles_arn if arn not in removed] + added
    return ActionResult({"Cluster": cluster})


def install() -> None:
    """Give moto's Redshift the two actions; moto finds an action by its method's name."""
    RedshiftResponse.describe_orderable_cluster_options = describe_orderable_cluster_options  # type: ignore[attr-defined]
    RedshiftResponse.modify_cluster_iam_roles = modify_cluster_iam_roles  # type: ignore[attr-defined]
