-- One row per user seen in any event, with the level of that user's latest event.
DELETE FROM users;
INSERT INTO users (user_id, first_name, last_name, gender, level)
SELECT user_id, first_name, last_name, gender, level
FROM (
    SELECT user_id, first_name, last_name, gender, level,
           ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC, item_in_session DESC) AS recency
    FROM staging_events
    WHERE user_id IS NOT NULL
) AS latest
WHERE recency = 1;
