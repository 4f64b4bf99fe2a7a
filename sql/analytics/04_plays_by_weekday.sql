-- Plays by day of the week (UTC)
-- time.weekday: 0 is Sunday.
SELECT t.weekday,
       CASE t.weekday WHEN 0 THEN 'Sunday' WHEN 1 THEN 'Monday' WHEN 2 THEN 'Tuesday' WHEN 3 THEN 'Wednesday'
                      WHEN 4 THEN 'Thursday' WHEN 5 THEN 'Friday' ELSE 'Saturday' END AS day_name,
       COUNT(*) AS plays,
       COUNT(DISTINCT CAST(sp.start_time AS DATE)) AS days,
       COUNT(DISTINCT sp.user_id) AS listeners
FROM songplays AS sp
JOIN time AS t ON t.start_time = sp.start_time
GROUP BY t.weekday
ORDER BY t.weekday;
