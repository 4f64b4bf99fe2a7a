-- Users who changed level
-- Users whose plays were made at both levels. changes: consecutive plays (by start time) at
-- different levels; level_now: the current level, which also follows events that are not plays
-- (an upgrade after the last play).
WITH ordered AS (
    SELECT user_id, level,
           LAG(level) OVER (PARTITION BY user_id ORDER BY start_time, songplay_id) AS previous_level,
           ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY start_time, songplay_id) AS first_play,
           ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY start_time DESC, songplay_id DESC) AS last_play
    FROM songplays
)
SELECT o.user_id, u.first_name, u.last_name,
       MAX(CASE WHEN o.first_play = 1 THEN o.level END) AS first_level,
       MAX(CASE WHEN o.last_play = 1 THEN o.level END) AS last_level,
       u.level AS level_now,
       SUM(CASE WHEN o.level <> o.previous_level THEN 1 ELSE 0 END) AS changes,
       COUNT(*) AS plays
FROM ordered AS o
JOIN users AS u ON u.user_id = o.user_id
GROUP BY o.user_id, u.first_name, u.last_name, u.level
HAVING SUM(CASE WHEN o.level <> o.previous_level THEN 1 ELSE 0 END) > 0
ORDER BY changes DESC, o.user_id;
