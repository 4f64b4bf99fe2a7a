"""The local twin of AWS and Redshift: moto's server for the AWS APIs, an embedded PostgreSQL behind
every cluster, and the engine that runs Redshift SQL and COPY on it. Only the code that chooses the
target (`flows.targets`) imports this package; the AWS path never does."""
