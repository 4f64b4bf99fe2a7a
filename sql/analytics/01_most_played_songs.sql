-- Most played songs (top 10, as played)
-- The song and artist as the app recorded the play (songplays.song_title, artist_name): few plays
-- match a song file, so the songs dimension names almost none of them.
-- Plays per listener first, then per song: two GROUP BYs hash, where COUNT(DISTINCT user_id) sorts every play.
SELECT song_title, artist_name, SUM(plays) AS plays, COUNT(user_id) AS listeners
FROM (
    SELECT song_title, artist_name, user_id, COUNT(*) AS plays
    FROM songplays
    GROUP BY song_title, artist_name, user_id
) AS per_listener
GROUP BY song_title, artist_name
ORDER BY plays DESC, song_title, artist_name
LIMIT 10;
