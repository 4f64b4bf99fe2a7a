COPY staging_events
FROM {manifest}
IAM_ROLE {iam_role}
REGION {region}
FORMAT AS JSON {jsonpaths}
TIMEFORMAT AS 'epochmillisecs'
MANIFEST
MAXERROR {max_errors}
COMPUPDATE OFF STATUPDATE ON;
