-- staging_events holds the events of the run's window, rebuilt by every run: no snapshot needs
-- it (BACKUP NO). staging_songs keeps the song files until they change (etl_state remembers which
-- were loaded), so it stays in snapshots with etl_state. Column names of
-- staging_songs match the song files' keys so that JSON 'auto' maps them; staging_events is
-- mapped by the JSONPaths file.
DROP TABLE IF EXISTS staging_events;
CREATE TABLE staging_events (
    artist          VARCHAR(512),
    auth            VARCHAR(32),
    first_name      VARCHAR(128),
    gender          CHAR(1),
    item_in_session INTEGER,
    last_name       VARCHAR(128),
    length          DOUBLE PRECISION,
    level           VARCHAR(8),
    location        VARCHAR(512),
    method          VARCHAR(8),
    page            VARCHAR(64),
    registration    DOUBLE PRECISION,
    session_id      INTEGER,
    song            VARCHAR(512),
    status          SMALLINT,
    ts              TIMESTAMP,
    user_agent      VARCHAR(512),
    user_id         INTEGER
)
BACKUP NO
DISTSTYLE EVEN;

CREATE TABLE IF NOT EXISTS staging_songs (
    num_songs        INTEGER,
    artist_id        VARCHAR(32),
    artist_latitude  DOUBLE PRECISION,
    artist_longitude DOUBLE PRECISION,
    artist_location  VARCHAR(512),
    artist_name      VARCHAR(512),
    song_id          VARCHAR(32),
    title            VARCHAR(512),
    duration         DOUBLE PRECISION,
    year             SMALLINT
)
DISTSTYLE EVEN;

CREATE TABLE IF NOT EXISTS etl_state (
    name       VARCHAR(64)  NOT NULL,
    value      VARCHAR(256) NOT NULL,
    updated_at TIMESTAMP    NOT NULL
)
DISTSTYLE ALL;
