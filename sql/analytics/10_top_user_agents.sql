-- Top user agents (top 10)
-- Plays per listener first, then per user agent: two GROUP BYs hash, where COUNT(DISTINCT user_id) sorts every play.
SELECT user_agent, SUM(plays) AS plays, COUNT(user_id) AS listeners
FROM (
    SELECT user_agent, user_id, COUNT(*) AS plays
    FROM songplays
    GROUP BY user_agent, user_id
) AS per_listener
GROUP BY user_agent
ORDER BY plays DESC, user_agent
LIMIT 10;
