-- Rebuild artists from staging_songs, which holds every song file of the source (see songs.sql), so
-- the table equals a fresh cluster's. One row per artist_id; an artist credited under several names
-- keeps the first by name, in Redshift's binary order (the local database sorts the same way: it
-- has C collation).
DELETE FROM artists;

INSERT INTO artists (artist_id, name, location, latitude, longitude)
SELECT artist_id, artist_name, NULLIF(artist_location, ''), artist_latitude, artist_longitude
FROM (
    SELECT artist_id, artist_name, artist_location, artist_latitude, artist_longitude,
           ROW_NUMBER() OVER (PARTITION BY artist_id ORDER BY artist_name, song_id) AS pick
    FROM staging_songs
    WHERE artist_id IS NOT NULL
) AS ranked
WHERE pick = 1;
