-- Free versus paid: users and plays by level
-- users: by their current level (users.level); listeners and plays: by the level of each play, so a
-- user who changed level counts on both sides. With no plays yet, the share is NULL.
WITH current_levels AS (
    SELECT level, COUNT(*) AS users FROM users GROUP BY level
), played AS (
    SELECT level, COUNT(DISTINCT user_id) AS listeners, COUNT(*) AS plays FROM songplays GROUP BY level
)
SELECT COALESCE(c.level, p.level) AS level,
       COALESCE(c.users, 0) AS users,
       COALESCE(p.listeners, 0) AS listeners,
       COALESCE(p.plays, 0) AS plays,
       ROUND(100.0 * COALESCE(p.plays, 0) / NULLIF((SELECT COUNT(*) FROM songplays), 0), 1) AS pct_of_plays
FROM current_levels AS c
FULL OUTER JOIN played AS p ON p.level = c.level
ORDER BY 1;
