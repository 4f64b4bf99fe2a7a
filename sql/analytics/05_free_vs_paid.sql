-- Free versus paid: users and plays by level
-- users: by their current level (users.level); listeners and plays: by the level of each play, so a
-- user who changed level counts on both sides. With no plays yet, the share is NULL.
-- Plays per listener first, then per level: two GROUP BYs hash, where COUNT(DISTINCT user_id) sorts every play.
WITH current_levels AS (
    SELECT level, COUNT(*) AS users FROM users GROUP BY level
), played AS (
    SELECT level, COUNT(user_id) AS listeners, SUM(plays) AS plays
    FROM (SELECT level, user_id, COUNT(*) AS plays FROM songplays GROUP BY level, user_id) AS per_listener
    GROUP BY level
)
SELECT COALESCE(c.level, p.level) AS level,
       COALESCE(c.users, 0) AS users,
       COALESCE(p.listeners, 0) AS listeners,
       COALESCE(p.plays, 0) AS plays,
       ROUND(100.0 * COALESCE(p.plays, 0) / NULLIF((SELECT COUNT(*) FROM songplays), 0), 1) AS pct_of_plays
FROM current_levels AS c
FULL OUTER JOIN played AS p ON p.level = c.level
ORDER BY 1;
