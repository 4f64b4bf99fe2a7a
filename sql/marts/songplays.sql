-- Replace the window's songplays: one row per NextSong event. song_id and artist_id are filled
-- when the event's title, artist and length match a song file's title, artist name and duration
-- (to 0.001 s); song_title and artist_name keep the event's own song and artist either way.
-- songplay_id is the MD5 of the event's identity, so a reload yields the same ids.
-- A run over all days ({window_start} NULL) replaces every row.
CREATE TEMP TABLE window_songplays AS
SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent, song_title,
       artist_name
FROM (
    SELECT MD5(CAST(e.user_id AS VARCHAR) || '|' || CAST(e.session_id AS VARCHAR) || '|'
               || CAST(e.item_in_session AS VARCHAR) || '|' || CAST(e.ts AS VARCHAR)) AS songplay_id,
           e.ts AS start_time, e.user_id, e.level, s.song_id, s.artist_id,
           e.session_id, e.location, e.user_agent, e.song AS song_title, e.artist AS artist_name,
           -- An event matching two song files, or repeated in the source, still yields one row.
           ROW_NUMBER() OVER (PARTITION BY e.user_id, e.session_id, e.item_in_session, e.ts
                              ORDER BY s.song_id) AS pick
    FROM staging_events AS e
    LEFT JOIN staging_songs AS s
           ON e.song = s.title
          AND e.artist = s.artist_name
          AND ABS(e.length - s.duration) <= 0.001
    WHERE e.page = 'NextSong'
) AS matched
WHERE pick = 1;

DELETE FROM songplays
WHERE CAST({window_start} AS TIMESTAMP) IS NULL
   OR (start_time >= CAST({window_start} AS TIMESTAMP) AND start_time < CAST({window_end} AS TIMESTAMP))
   OR songplay_id IN (SELECT songplay_id FROM window_songplays);

INSERT INTO songplays (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent,
                       song_title, artist_name)
SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent,
       song_title, artist_name
FROM window_songplays;

DROP TABLE window_songplays;
