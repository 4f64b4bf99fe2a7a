-- Replaces the song files in one transaction (DELETE, not TRUNCATE, which commits on Redshift).
DELETE FROM staging_songs;
COPY staging_songs
FROM {manifest}
IAM_ROLE {iam_role}
REGION {region}
FORMAT AS JSON 'auto'
MANIFEST
MAXERROR {max_errors}
COMPUPDATE OFF STATUPDATE ON;
