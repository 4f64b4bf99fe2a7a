-- One row per distinct songplay start time: the window's rows are replaced, and any start time
-- of songplays missing from the table is added. weekday: 0 is Sunday.
DELETE FROM time
WHERE CAST({window_start} AS TIMESTAMP) IS NULL
   OR (start_time >= CAST({window_start} AS TIMESTAMP) AND start_time < CAST({window_end} AS TIMESTAMP));
INSERT INTO time (start_time, hour, day, week, month, year, weekday)
SELECT start_time,
       EXTRACT(hour FROM start_time),
       EXTRACT(day FROM start_time),
       EXTRACT(week FROM start_time),
       EXTRACT(month FROM start_time),
       EXTRACT(year FROM start_time),
       EXTRACT(dow FROM start_time)
FROM (SELECT DISTINCT start_time FROM songplays) AS starts
WHERE NOT EXISTS (SELECT 1 FROM time WHERE time.start_time = starts.start_time);
