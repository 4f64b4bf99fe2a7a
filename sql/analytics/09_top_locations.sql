-- Top locations (top 10)
SELECT location, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS listeners
FROM songplays
GROUP BY location
ORDER BY plays DESC, location
LIMIT 10;
