-- Busiest days (top 10, UTC)
SELECT CAST(start_time AS DATE) AS day, COUNT(*) AS plays, COUNT(DISTINCT user_id) AS listeners
FROM songplays
GROUP BY CAST(start_time AS DATE)
ORDER BY plays DESC, day
LIMIT 10;
