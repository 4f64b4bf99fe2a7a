COPY staging_events
FROM {source}
IAM_ROLE {iam_role}
REGION {region}
FORMAT AS JSON {jsonpaths}
TIMEFORMAT AS 'epochmillisecs'
MAXERROR {max_errors}
COMPUPDATE OFF STATUPDATE OFF;
