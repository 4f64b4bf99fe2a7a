-- Upsert one row per user seen in the window, with the level of the user's latest event across
-- every day loaded so far: a row changes only for an event at least as recent as its updated_at.
-- A run over all days ({window_start} NULL) rebuilds the table. MERGE takes a table as its source
-- (r_MERGE): the rows go into a temporary table first.
DELETE FROM users WHERE CAST({window_start} AS TIMESTAMP) IS NULL;

CREATE TEMP TABLE users_source AS
SELECT latest.user_id, latest.first_name, latest.last_name, latest.gender, latest.level, latest.ts
FROM (
    SELECT user_id, first_name, last_name, gender, level, ts,
           ROW_NUMBER() OVER (PARTITION BY user_id ORDER BY ts DESC, item_in_session DESC) AS recency
    FROM staging_events
    WHERE user_id IS NOT NULL
) AS latest
LEFT JOIN users AS known ON known.user_id = latest.user_id
WHERE latest.recency = 1 AND (known.user_id IS NULL OR latest.ts >= known.updated_at);

MERGE INTO users
USING users_source AS source
ON users.user_id = source.user_id
WHEN MATCHED THEN UPDATE SET first_name = source.first_name, last_name = source.last_name,
                             gender = source.gender, level = source.level, updated_at = source.ts
WHEN NOT MATCHED THEN INSERT (user_id, first_name, last_name, gender, level, updated_at)
    VALUES (source.user_id, source.first_name, source.last_name, source.gender, source.level, source.ts);

DROP TABLE users_source;
