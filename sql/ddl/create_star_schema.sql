-- The star schema persists across runs. Small dimensions are copied to every node
-- (DISTSTYLE ALL); songplays and time are distributed and sorted on start_time, the key of
-- the report's per-day and per-hour queries. No table declares a primary key: Redshift does not
-- enforce one but its planner trusts it (t_Defining_constraints), so a unique:* check on a
-- declared key could be answered from the declaration. The loads keep each key unique and the
-- checks verify it after every run, on both targets.
CREATE TABLE IF NOT EXISTS users (
    user_id    INTEGER      NOT NULL,
    first_name VARCHAR(128),
    last_name  VARCHAR(128),
    gender     CHAR(1),
    level      VARCHAR(8)   NOT NULL,
    -- The time of the event the row was taken from: a reload of older days never overrides it.
    updated_at TIMESTAMP    NOT NULL
)
DISTSTYLE ALL
SORTKEY (user_id);

CREATE TABLE IF NOT EXISTS artists (
    artist_id VARCHAR(32)  NOT NULL,
    name      VARCHAR(512) NOT NULL,
    location  VARCHAR(512),
    latitude  DOUBLE PRECISION,
    longitude DOUBLE PRECISION
)
DISTSTYLE ALL
SORTKEY (artist_id);

CREATE TABLE IF NOT EXISTS songs (
    song_id   VARCHAR(32)  NOT NULL,
    title     VARCHAR(512) NOT NULL,
    artist_id VARCHAR(32)  NOT NULL,
    year      SMALLINT,
    duration  DOUBLE PRECISION
)
DISTSTYLE ALL
SORTKEY (song_id);

CREATE TABLE IF NOT EXISTS time (
    start_time TIMESTAMP NOT NULL DISTKEY SORTKEY,
    hour       SMALLINT  NOT NULL,
    day        SMALLINT  NOT NULL,
    week       SMALLINT  NOT NULL,
    month      SMALLINT  NOT NULL,
    year       SMALLINT  NOT NULL,
    weekday    SMALLINT  NOT NULL
);

-- songplay_id is the MD5 of the event's identity, so a reload yields the same ids. song_title and
-- artist_name are the play's song and artist as the event recorded them, whether or not a song file
-- matched (degenerate attributes of the play): the analysts' "most played" questions need them, and
-- song_id/artist_id are set for few plays.
CREATE TABLE IF NOT EXISTS songplays (
    songplay_id CHAR(32)  NOT NULL,
    start_time  TIMESTAMP NOT NULL DISTKEY SORTKEY,
    user_id     INTEGER   NOT NULL,
    level       VARCHAR(8),
    song_id     VARCHAR(32),
    artist_id   VARCHAR(32),
    session_id  INTEGER,
    location    VARCHAR(512),
    user_agent  VARCHAR(512),
    song_title  VARCHAR(512),
    artist_name VARCHAR(512)
);
