-- Upsert one row per artist_id; an artist credited under several names keeps the first by name, in
-- Redshift's binary order (the local database sorts the same way: it has C collation). MERGE takes
-- a table as its source (r_MERGE): the rows go into a temporary table first.
CREATE TEMP TABLE artists_source AS
SELECT artist_id, artist_name AS name, NULLIF(artist_location, '') AS location,
       artist_latitude AS latitude, artist_longitude AS longitude
FROM (
    SELECT artist_id, artist_name, artist_location, artist_latitude, artist_longitude,
           ROW_NUMBER() OVER (PARTITION BY artist_id ORDER BY artist_name, song_id) AS pick
    FROM staging_songs
    WHERE artist_id IS NOT NULL
) AS ranked
WHERE pick = 1;

MERGE INTO artists
USING artists_source AS source
ON artists.artist_id = source.artist_id
WHEN MATCHED THEN UPDATE SET name = source.name, location = source.location, latitude = source.latitude,
                             longitude = source.longitude
WHEN NOT MATCHED THEN INSERT (artist_id, name, location, latitude, longitude)
    VALUES (source.artist_id, source.name, source.location, source.latitude, source.longitude);

DROP TABLE artists_source;
