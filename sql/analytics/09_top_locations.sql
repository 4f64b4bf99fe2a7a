-- Top locations (top 10)
-- Plays per listener first, then per location: two GROUP BYs hash, where COUNT(DISTINCT user_id) sorts every play.
SELECT location, SUM(plays) AS plays, COUNT(user_id) AS listeners
FROM (
    SELECT location, user_id, COUNT(*) AS plays
    FROM songplays
    GROUP BY location, user_id
) AS per_listener
GROUP BY location
ORDER BY plays DESC, location
LIMIT 10;
