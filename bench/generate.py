"""A synthetic Sparkify source at any size, in the S3 layout, deterministic for a seed.

    python -m bench generate OUT_DIR --songs 2000 --events 1000000 --days 30 --seed 1

Song files are one JSON object each, as in the Million Song Dataset subset. Events are streamed
to one newline-delimited file per day, session by session, so memory does not grow with the
event count (users are 1% of the events unless set). The shape follows the sample in
data/sample: logged-out visits before a login, the sample's page mix, levels that change only on
Submit Upgrade / Submit Downgrade, a chosen fraction of plays whose title, artist and length
match a generated song, and a few songs and artists that are numbers ("1999", "311").
"""

from __future__ import annotations

import json
import random
import shutil
import string
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from bench.expected import expected_counts

# Pages of a logged-in session after the first event, weighted as counted in data/sample
# (NextSong 6820, Home 635, ...). Upgrade is shown to free users, Downgrade to paid ones.
LOGGED_IN_PAGES = {
    "NextSong": 6820, "Home": 635, "Settings": 56, "Help": 38, "About": 22,
    "Save Settings": 10, "Error": 9, "Upgrade": 21, "Downgrade": 60,
}
# Pages a visitor sees before logging in, as in the sample (Home 171, About 14, Help 9).
LOGGED_OUT_PAGES = {"Home": 171, "About": 14, "Help": 9}
# The sample's 92 logins in 941 sessions; 90 of them end with a logout.
LOGIN_SHARE, LOGOUT_SHARE = 0.10, 0.10
# How often a plan page leads to the change: 8 of 21 Upgrade views, 1 of 60 Downgrade views.
SUBMIT_SHARE = {"Upgrade": 8 / 21, "Downgrade": 1 / 60}
# Events per session: the sample's median is 2, its mean 8.6, its longest 128.
SESSION_TAIL, SESSION_MAX = 1.1, 200
# The share of titles, and of artists, that are numbers, as "1999" and "311" are: about 0.4% of
# the plays then name one, against 16 of the sample's 6,820 (0.23%).
NUMBER_NAMES = 0.003

_METHOD_STATUS = {
    "NextSong": ("PUT", 200), "Login": ("PUT", 307), "Logout": ("PUT", 307), "Save Settings": ("PUT", 307),
    "Submit Upgrade": ("PUT", 307), "Submit Downgrade": ("PUT", 307), "Error": ("GET", 404),
}
_FIRST = ["Walter", "Kaylee", "Ryan", "Tegan", "Lily", "Jacob", "Chloe", "Aiden", "Layla", "Jayden", "Mohammad",
          "Kate", "Matthew", "Ava", "Lucero", "Sara", "Wyatt", "Emily", "Jordan", "Rylan", "Aleena", "Cienna"]
_LAST = ["Frye", "Summers", "Smith", "Levine", "Koch", "Garcia", "Montgomery", "Cruz", "Griffin", "Fox",
         "Rodriguez", "Harrell", "Jones", "Robinson", "Reed", "Johnson", "Scott", "Howard", "Kirby", "Freeman"]
_LOCATIONS = [
    "San Francisco-Oakland-Hayward, CA",
    "Phoenix-Mesa-Scottsdale, AZ",
    "Lansing-East Lansing, MI",
    "Portland-South Portland, ME",
    "Chicago-Naperville-Elgin, IL-IN-WI",
    "Atlanta-Sandy Springs-Roswell, GA",
    "New York-Newark-Jersey City, NY-NJ-PA",
    "Houston-The Woodlands-Sugar Land, TX",
    "Tampa-St. Petersburg-Clearwater, FL",
]
_AGENTS = [
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_9_4) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Chrome/36.0.1985.143 Safari/537.36",
    "Mozilla/5.0 (Windows NT 6.1; WOW64; rv:31.0) Gecko/20100101 Firefox/31.0",
    '"Mozilla/5.0 (iPhone; CPU iPhone OS 7_1_2 like Mac OS X) AppleWebKit/537.51.2 (KHTML, like Gecko)'
    ' Version/7.0 Mobile/11D257 Safari/9537.53"',
    "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko)"
    " Ubuntu Chromium/36.0.1985.125 Chrome/36.0.1985.125 Safari/537.36",
]
_WORDS = ["Love", "Night", "Fire", "Blue", "Heart", "Dream", "Road", "Rain", "Gold", "Shadow", "River", "Light",
          "Storm", "Summer", "Ghost", "Echo", "Wild", "Silver", "Stone", "Dance", "Electric", "Midnight", "Ocean"]
_ARTIST_WORDS = ["Kings", "Sound", "Brothers", "Lights", "Collective", "Machine", "Orchestra", "Riders", "Wolves"]


@dataclass(frozen=True)
class Song:
    song_id: str
    title: str
    artist_id: str
    artist_name: str
    artist_location: str
    artist_latitude: float | None
    artist_longitude: float | None
    duration: float
    year: int


@dataclass
class User:
    user_id: int
    first_name: str
    last_name: str
    gender: str
    level: str
    location: str
    user_agent: str
    registration: float
    free_at: int = 0  # ms: a user's sessions never overlap, so "latest event" is well defined


def _code(rng: random.Random, prefix: str) -> str:
    return prefix + "".join(rng.choices(string.ascii_uppercase + string.digits, k=16))


def _weighted(rng: random.Random, weights: dict[str, int]) -> Iterator[str]:
    pages, cum = list(weights), list(weights.values())
    while True:
        yield from rng.choices(pages, weights=cum, k=1024)


def make_songs(rng: random.Random, count: int) -> list[Song]:
    """`count` songs by about count * 0.7 artists; ids are unique, titles and names may repeat."""
    artists = []
    for n in range(max(1, int(count * 0.7))):
        located = rng.random() < 0.4
        artists.append((
            _code(rng, "AR")[:18],
            str(100 + n) if rng.random() < NUMBER_NAMES else f"{rng.choice(_WORDS)} {rng.choice(_ARTIST_WORDS)} {n}",
            rng.choice(_LOCATIONS) if located else "",
            round(rng.uniform(-60, 60), 5) if located else None,
            round(rng.uniform(-150, 150), 5) if located else None,
        ))
    return [
        Song(_code(rng, "SO")[:18], _title(rng, f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} {rng.randrange(1000)}"),
             *rng.choice(artists), round(rng.uniform(90, 480), 5), rng.choice([0, *range(1960, 2011)]))
        for _ in range(count)
    ]


def _title(rng: random.Random, title: str) -> str:
    """`title`, or now and then a year instead."""
    return str(rng.randrange(1950, 2020)) if rng.random() < NUMBER_NAMES else title


def write_songs(out: Path, songs: list[Song], rng: random.Random) -> None:
    for song in songs:
        track = _code(rng, "TR")[:18]
        path = out / "song_data" / track[2] / track[3] / track[4] / f"{track}.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"num_songs": 1, **song.__dict__}))


class EventStream:
    """Sessions of the Sparkify event simulator, one day at a time."""

    def __init__(self, rng: random.Random, songs: list[Song], users: int, match_share: float) -> None:
        self.rng, self.songs, self.match_share = rng, songs, match_share
        self.users = [
            User(n, rng.choice(_FIRST), rng.choice(_LAST), rng.choice("MF"), rng.choice(["free", "free", "paid"]),
                 rng.choice(_LOCATIONS), rng.choice(_AGENTS), float(1_535_000_000_000 + rng.randrange(5 * 10**9)))
            for n in range(1, users + 1)
        ]
        # Plays outside the catalogue, by artists no generated song has, so they never match.
        self.unknown = [(_title(rng, f"{rng.choice(_WORDS)} {rng.choice(_WORDS)} (Live {n})"), f"Unsigned {n}",
                         round(rng.uniform(90, 480), 5)) for n in range(max(50, len(songs)))]
        self.session_id = 0
        self.in_pages = _weighted(rng, LOGGED_IN_PAGES)
        self.out_pages = _weighted(rng, LOGGED_OUT_PAGES)

    def day(self, day: date, count: int) -> Iterator[dict]:
        """`count` events of `day`, session by session; every timestamp falls on that day."""
        rng = self.rng
        start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
        end = start + 86_400_000
        written, idle, at = 0, 0, start
        # Sessions start through the day at random intervals, about one per eight events.
        gap = 86_400_000 * 8 / max(count, 1)
        while written < count:
            at += int(rng.expovariate(1 / gap)) + 1
            if at >= end - 3_600_000:
                at = start + rng.randrange(3_600_000)  # another pass over the day
            # A user's sessions never overlap: only a user free at `at` starts one.
            user = next((u for u in (rng.choice(self.users) for _ in range(20)) if u.free_at <= at), None)
            if user is None:
                idle += 1
                if idle > 100_000:
                    raise ValueError(f"{count} events on {day} need more users than {len(self.users)}")
                continue
            length = min(SESSION_MAX, int(rng.paretovariate(SESSION_TAIL)), count - written)
            self.session_id += 1
            session = []
            # Stop at the day's end; the generator is left suspended, so a level changes only
            # with a Submit event that was written.
            for event in self._session(user, at, length):
                if event["ts"] >= end or written + len(session) == count:
                    break
                session.append(event)
            if not session:
                continue
            idle = 0
            user.free_at = session[-1]["ts"] + 1
            written += len(session)
            yield from session

    def _session(self, user: User, at: int, length: int) -> Iterator[dict]:
        rng = self.rng
        item, logged_in = 0, rng.random() >= LOGIN_SHARE
        if not logged_in:
            for page in [next(self.out_pages) for _ in range(rng.randrange(0, 2))] + ["Login"]:
                yield self._event(None, page, item, at)
                item, at = item + 1, at + rng.randrange(1_000, 30_000)
        while item < length:
            page = next(self.in_pages)
            if page == "Upgrade" and user.level == "paid" or page == "Downgrade" and user.level == "free":
                page = "Home"
            if item == length - 1 and rng.random() < LOGOUT_SHARE:
                page = "Logout"
            event = self._event(user, page, item, at)
            if page == "NextSong":
                event["song"], event["artist"], event["length"] = self._play()
                at += int(event["length"] * 1000)
            else:
                at += rng.randrange(1_000, 60_000)
            yield event
            item += 1
            if page in SUBMIT_SHARE and rng.random() < SUBMIT_SHARE[page]:
                yield self._event(user, f"Submit {page}", item, at)
                user.level = "paid" if page == "Upgrade" else "free"
                item, at = item + 1, at + rng.randrange(1_000, 10_000)
            if page == "Logout":
                return

    def _play(self) -> tuple[str, str, float]:
        if self.songs and self.rng.random() < self.match_share:
            song = self.songs[self.rng.randrange(len(self.songs))]
            return song.title, song.artist_name, song.duration
        return self.unknown[self.rng.randrange(len(self.unknown))]

    def _event(self, user: User | None, page: str, item: int, ts: int) -> dict:
        """One event; a logged-out visitor (`user` None) has no name and an empty userId, as in the sample."""
        method, status = _METHOD_STATUS.get(page, ("GET", 200))
        return {
            "artist": None, "auth": "Logged In" if user else "Logged Out",
            "firstName": user and user.first_name, "gender": user and user.gender, "itemInSession": item,
            "lastName": user and user.last_name, "length": None,
            "level": user.level if user else "free", "location": user and user.location,
            "method": method, "page": page, "registration": user and user.registration,
            "sessionId": self.session_id, "song": None, "status": status, "ts": ts,
            "userAgent": user and user.user_agent, "userId": str(user.user_id) if user else "",
        }


def params(songs: int, events: int, days: int, seed: int, match_share: float) -> dict:
    """What a dataset was generated with, as its expected.json records it."""
    return {"songs": songs, "events": events, "days": days, "seed": seed, "match_share": match_share,
            "number_names": NUMBER_NAMES}


def generate(out: Path, songs: int, events: int, days: int, seed: int, match_share: float = 0.3,
             users: int | None = None, first_day: date = date(2018, 11, 1)) -> dict:
    """Write the dataset and `expected.json` (its star-schema counts, computed with polars) to `out`,
    replacing an earlier dataset there but nothing else."""
    if out.exists():
        if any(out.iterdir()) and not (out / "expected.json").exists():
            raise ValueError(f"{out} holds files that are not a generated dataset; choose an empty or new folder")
        shutil.rmtree(out)
    rng = random.Random(seed)
    catalogue = make_songs(rng, songs)
    write_songs(out, catalogue, rng)
    stream = EventStream(rng, catalogue, users or max(100, events // 100), match_share)
    per_day, extra = divmod(events, days)
    for n in range(days):
        day = first_day + timedelta(days=n)
        path = out / "log_data" / f"{day:%Y}" / f"{day:%m}" / f"{day:%Y-%m-%d}-events.json"
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("w") as f:
            for event in stream.day(day, per_day + (n < extra)):
                f.write(json.dumps(event, separators=(",", ":")) + "\n")
    counts = {"params": params(songs, events, days, seed, match_share), **expected_counts(out)}
    (out / "expected.json").write_text(json.dumps(counts, indent=2) + "\n")
    return counts
