-- Most played artists (top 10, as played)
SELECT artist_name, COUNT(*) AS plays, COUNT(DISTINCT song_title) AS songs, COUNT(DISTINCT user_id) AS listeners
FROM songplays
GROUP BY artist_name
ORDER BY plays DESC, artist_name
LIMIT 10;
