-- Plays by hour of day (UTC)
-- Plays per listener first, then per hour: two GROUP BYs hash, where COUNT(DISTINCT user_id) sorts every play.
SELECT hour, SUM(plays) AS plays, COUNT(user_id) AS listeners
FROM (
    SELECT t.hour, sp.user_id, COUNT(*) AS plays
    FROM songplays AS sp
    JOIN time AS t ON t.start_time = sp.start_time
    GROUP BY t.hour, sp.user_id
) AS per_listener
GROUP BY hour
ORDER BY hour;
