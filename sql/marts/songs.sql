-- Upsert one row per song_id; a song file seen twice loads once. Year 0 means unknown in the source.
-- Redshift's MERGE takes a table as its source, not a subquery (r_MERGE): the rows go into a
-- temporary table first.
CREATE TEMP TABLE songs_source AS
SELECT song_id, title, artist_id, NULLIF(year, 0) AS year, duration
FROM (
    SELECT song_id, title, artist_id, year, duration,
           ROW_NUMBER() OVER (PARTITION BY song_id ORDER BY title, artist_id, duration) AS pick
    FROM staging_songs
    WHERE song_id IS NOT NULL
) AS ranked
WHERE pick = 1;

MERGE INTO songs
USING songs_source AS source
ON songs.song_id = source.song_id
WHEN MATCHED THEN UPDATE SET title = source.title, artist_id = source.artist_id, year = source.year,
                             duration = source.duration
WHEN NOT MATCHED THEN INSERT (song_id, title, artist_id, year, duration)
    VALUES (source.song_id, source.title, source.artist_id, source.year, source.duration);

DROP TABLE songs_source;
