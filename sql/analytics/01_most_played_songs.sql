-- Most played songs (top 10, as played)
-- The song and artist as the app recorded the play (songplays.song_title, artist_name): few plays
-- match a song file, so the songs dimension names almost none of them.
SELECT song_title, artist_name, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS listeners
FROM songplays
GROUP BY song_title, artist_name
ORDER BY plays DESC, song_title, artist_name
LIMIT 10;
