-- Matched versus unmatched plays
-- matched: the play's song, artist and length were found in the song files (song_id is set).
SELECT CASE WHEN song_id IS NULL THEN 'unmatched' ELSE 'matched' END AS song_found,
       COUNT(*) AS plays,
       ROUND(100.0 * COUNT(*) / (SELECT COUNT(*) FROM songplays), 2) AS pct_of_plays
FROM songplays
GROUP BY 1
ORDER BY 1;
