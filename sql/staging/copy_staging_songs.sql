COPY staging_songs
FROM {manifest}
IAM_ROLE {iam_role}
REGION {region}
FORMAT AS JSON 'auto'
MANIFEST
MAXERROR {max_errors}
COMPUPDATE OFF STATUPDATE OFF;
