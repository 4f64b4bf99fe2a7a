-- Plays by hour of day (UTC)
SELECT t.hour, COUNT(*) AS plays, COUNT(DISTINCT sp.user_id) AS listeners
FROM songplays AS sp
JOIN time AS t ON t.start_time = sp.start_time
GROUP BY t.hour
ORDER BY t.hour;
