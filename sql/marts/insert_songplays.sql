-- One row per NextSong event. song_id and artist_id are filled when the event's title, artist
-- and length match a song file's title, artist name and duration (to 0.001 s).
DELETE FROM songplays;
INSERT INTO songplays (songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent)
SELECT songplay_id, start_time, user_id, level, song_id, artist_id, session_id, location, user_agent
FROM (
    SELECT MD5(CAST(e.user_id AS VARCHAR) || '|' || CAST(e.session_id AS VARCHAR) || '|'
               || CAST(e.item_in_session AS VARCHAR) || '|' || CAST(e.ts AS VARCHAR)) AS songplay_id,
           e.ts AS start_time, e.user_id, e.level, s.song_id, s.artist_id,
           e.session_id, e.location, e.user_agent,
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
