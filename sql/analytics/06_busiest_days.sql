-- Busiest days (top 10, UTC)
-- Plays per listener first, then per day: two GROUP BYs hash, where COUNT(DISTINCT user_id) sorts every play.
SELECT day, SUM(plays) AS plays, COUNT(user_id) AS listeners
FROM (
    SELECT CAST(start_time AS DATE) AS day, user_id, COUNT(*) AS plays
    FROM songplays
    GROUP BY CAST(start_time AS DATE), user_id
) AS per_listener
GROUP BY day
ORDER BY plays DESC, day
LIMIT 10;
