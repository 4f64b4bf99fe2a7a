"""Redshift's COPY, emulated client-side: objects read from S3 (`fetch`), framed into JSON records
(`records`), converted as Redshift converts them (`convert`, or a piece at a time by `columnar`),
and streamed into PostgreSQL (`loader`). Its tunables are one `CopyTuning` (`tuning`)."""
