-- What a staging table was last loaded from, so an unchanged source is not loaded again.
DELETE FROM etl_state WHERE name = {table_name};
INSERT INTO etl_state (name, value, updated_at) VALUES ({table_name}, {value}, CAST({at} AS TIMESTAMP));
