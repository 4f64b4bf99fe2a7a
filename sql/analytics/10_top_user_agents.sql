-- Top user agents (top 10)
SELECT user_agent, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS listeners
FROM songplays
GROUP BY user_agent
ORDER BY plays DESC, user_agent
LIMIT 10;
