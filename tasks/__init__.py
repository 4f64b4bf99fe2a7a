"""The pipeline's Prefect tasks, one module per step: sources, iam, network, cluster, manifest,
staging, marts, checks, report, teardown."""
