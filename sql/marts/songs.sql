-- Rebuild songs from staging_songs, which holds every song file of the source (its COPY is skipped
-- only when the files are those loaded last time), so the table equals a fresh cluster's and a song
-- file removed from the source leaves it. DELETE, not TRUNCATE, which commits on Redshift. One row
-- per song_id: a song file seen twice loads once. Year 0 means unknown in the source.
DELETE FROM songs;

INSERT INTO songs (song_id, title, artist_id, year, duration)
SELECT song_id, title, artist_id, NULLIF(year, 0), duration
FROM (
    SELECT song_id, title, artist_id, year, duration,
           ROW_NUMBER() OVER (PARTITION BY song_id ORDER BY title, artist_id, duration) AS pick
    FROM staging_songs
    WHERE song_id IS NOT NULL
) AS ranked
WHERE pick = 1;
