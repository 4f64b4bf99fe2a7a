"""The objects a COPY reads, fetched from S3 as Redshift's reader would: the manifest's entries or a
prefix's keys, read ahead in parallel, decompressed, and cut into pieces of whole lines.

The GETs go through obstore, a Rust S3 client, as Redshift's own reader is not boto3 either: it signs
and parses outside the interpreter lock, which the local S3 (moto) and the events' conversion
share, and costs a third of boto3's time per small object. Listing and the bucket's region, a few
requests a COPY, stay with the boto3 client.
"""

from __future__ import annotations

import bz2
import gzip
import io
import json
import re
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from typing import IO, Any, NamedTuple

import obstore
from botocore.exceptions import ClientError
from obstore.exceptions import PermissionDeniedError, UnauthenticatedError
from obstore.store import S3Store

from core.load_errors import CopyError
from local.copy.statement import CopySpec
from local.copy.tuning import CopyTuning

# The standard library's streaming readers, which decompress only as much as is read and, like
# gzip.decompress and bz2.decompress, read files of several members.
_DECOMPRESSING: dict[str, Callable[[IO[bytes]], IO[bytes]]] = {
    "GZIP": lambda raw: gzip.GzipFile(fileobj=raw),
    "BZIP2": bz2.BZ2File,
}


class Source(NamedTuple):
    """One object a COPY reads; `size` is 0 when neither the manifest nor the listing gave it."""

    url: str
    mandatory: bool
    size: int


def split_s3_url(url: str) -> tuple[str, str]:
    match = re.match(r"s3://([^/]+)/?(.*)$", url)
    if not match:
        raise CopyError(f"{url!r} is not an s3:// URL")
    return match.group(1), match.group(2)


def line_pieces(blocks: Iterable[bytes], size: int) -> Iterator[bytes]:
    """The bytes of `blocks` again, in pieces of about `size` bytes that end at line ends (the last
    one may not)."""
    buffer, start = b"", 0
    for block in blocks:
        buffer, start = buffer[start:] + block, 0
        while len(buffer) - start >= size:
            end = buffer.find(b"\n", start + size - 1)
            if end == -1:
                break
            yield buffer[start:end + 1]
            start = end + 1
    if start < len(buffer):
        yield buffer[start:]


def skip_lines(pieces: Iterator[bytes], count: int) -> Iterator[bytes]:
    """`pieces` without their first `count` lines (IGNOREHEADER), still in pieces that end at line ends."""
    for piece in pieces:
        start = 0
        while count and start < len(piece):
            end = piece.find(b"\n", start)
            if end == -1:  # only the object's last piece may end without a line end
                start = len(piece)
            else:
                start, count = end + 1, count - 1
        if start < len(piece):
            yield piece[start:]
        if not count:
            break
    yield from pieces


def _close_stream(future: Future[IO[bytes] | None]) -> None:
    if not future.cancelled() and future.exception() is None and (stream := future.result()) is not None:
        stream.close()


class _Chunks(io.RawIOBase):
    """An object's body, arriving as obstore's chunks: a stream to read, or the chunks themselves."""

    def __init__(self, chunks: Iterator[Any]) -> None:
        self._chunks: Iterator[Any] | None = chunks
        self._rest = memoryview(b"")

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        while not self._rest:
            chunk = next(self._chunks, None) if self._chunks is not None else None
            if chunk is None:
                return 0
            self._rest = memoryview(chunk)
        size = min(len(buffer), len(self._rest))
        buffer[:size] = self._rest[:size]
        self._rest = self._rest[size:]
        return size

    def chunks(self) -> Iterator[Any]:
        """The rest of the body as it arrives, obstore's chunks uncopied."""
        if self._rest:
            yield self._rest
            self._rest = memoryview(b"")
        while self._chunks is not None and (chunk := next(self._chunks, None)) is not None:
            yield chunk

    def close(self) -> None:
        self._chunks, self._rest = None, memoryview(b"")  # dropping the stream ends the request
        super().close()


class S3Reader:
    """Reads a COPY's objects from S3 as the boto3 client `s3` would: its keys, region and endpoint."""

    def __init__(self, s3: Any, tuning: CopyTuning) -> None:
        self.s3 = s3
        self.tuning = tuning
        self._stores: dict[str, S3Store] = {}

    def _store(self, bucket: str) -> S3Store:
        if bucket not in self._stores:
            # boto3 has no public accessor for a client's keys; its request signer holds them.
            keys = self.s3._request_signer._credentials.get_frozen_credentials()
            endpoint = self.s3.meta.endpoint_url
            token = {"session_token": keys.token} if keys.token else {}
            self._stores[bucket] = S3Store(
                bucket, endpoint=endpoint, region=self.s3.meta.region_name, access_key_id=keys.access_key,
                secret_access_key=keys.secret_key, **token,
                virtual_hosted_style_request=False, client_options={"allow_http": endpoint.startswith("http:")},
            )
        return self._stores[bucket]

    def open(self, url: str) -> IO[bytes] | None:
        """The object as a stream to read and close, or None if it does not exist: read whole
        here up to `tuning.whole_bytes`, else left open for the caller to read as it goes."""
        bucket, key = split_s3_url(url)
        try:
            response = obstore.get(self._store(bucket), key)
            if response.meta["size"] > self.tuning.whole_bytes:
                return _Chunks(iter(response.stream(min_chunk_size=self.tuning.chunk_bytes)))
            return io.BytesIO(response.bytes().to_bytes())
        except FileNotFoundError:  # obstore's answer to S3's 404
            return None  # no such key, or no such bucket
        except (PermissionDeniedError, UnauthenticatedError) as exc:
            raise CopyError(f"S3 refused to read {url}: {exc}") from None

    def get(self, url: str) -> bytes | None:
        """The whole object, or None if it does not exist."""
        stream = self.open(url)
        if stream is None:
            return None
        with closing(stream):
            return stream.read()

    def require_region(self, region: str | None, urls: list[str]) -> None:
        """Refuse, as Redshift does, a COPY reading a bucket outside `region` (its REGION), or
        outside the cluster's region (this client's) when it names none: with REGION "all
        resources, including a manifest file, must be located in the specified region"."""
        wanted = region or self.s3.meta.region_name
        seen: set[str] = set()
        for url in urls:
            bucket = split_s3_url(url)[0]
            if bucket in seen:
                continue
            seen.add(bucket)
            try:
                found = self.s3.head_bucket(Bucket=bucket)["ResponseMetadata"]["HTTPHeaders"]["x-amz-bucket-region"]
            except ClientError as exc:
                if exc.response["Error"]["Code"] in ("404", "NoSuchBucket"):
                    continue  # reading its objects says what is missing
                raise
            if found != wanted:
                raise CopyError(f"COPY reads from {wanted}, but {url} is in {found}: name {found} in REGION")

    def objects(self, spec: CopySpec) -> list[Source]:
        """Every object the COPY reads: the manifest's entries, or the keys under its prefix."""
        if spec.manifest:
            body = self.get(spec.source)
            if body is None:
                raise CopyError(f"manifest {spec.source} does not exist")
            try:
                entries = json.loads(body)["entries"]
                objects = [
                    Source(
                        e["url"], bool(e.get("mandatory", False)), int((e.get("meta") or {}).get("content_length", 0))
                    )
                    for e in entries
                ]
            except (ValueError, KeyError, TypeError, AttributeError):
                example = '{"entries": [{"url": "s3://...", "mandatory": true}]}'
                raise CopyError(f"manifest {spec.source} must be JSON like {example}") from None
            if not objects:
                raise CopyError(f"manifest {spec.source} lists no files")
            return objects
        bucket, prefix = split_s3_url(spec.source)
        objects = [
            Source(f"s3://{bucket}/{item['Key']}", True, int(item["Size"]))
            for page in self.s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
            for item in page.get("Contents", [])
        ]
        if not objects:
            raise CopyError(f"the S3 prefix {spec.source} matches no objects; check the bucket and prefix")
        return objects

    def fetch(self, objects: list[Source]) -> Iterator[tuple[str, IO[bytes]]]:
        """Objects' streams in manifest/listing order, with at most `tuning.prefetch` GETs and, as
        far as sizes are known, `tuning.prefetch_bytes` in flight (one object at least, whatever
        its size): moto's server holds a whole object while it is read. The caller closes each stream."""
        limit, limit_bytes = self.tuning.prefetch, self.tuning.prefetch_bytes
        with ThreadPoolExecutor(max_workers=limit) as pool:
            window: deque[tuple[Source, Future[IO[bytes] | None]]] = deque()
            try:
                held = 0
                for source in objects:
                    while window and (len(window) >= limit or held + source.size > limit_bytes):
                        done, future = window.popleft()
                        held -= done.size
                        yield from self._arrived(done, future)
                    window.append((source, pool.submit(self.open, source.url)))
                    held += source.size
                while window:
                    yield from self._arrived(*window.popleft())
            finally:
                for _, ahead in window:  # fetched ahead of a failure: never to be read
                    ahead.add_done_callback(_close_stream)

    @staticmethod
    def _arrived(source: Source, future: Future[IO[bytes] | None]) -> Iterator[tuple[str, IO[bytes]]]:
        stream = future.result()
        if stream is not None:
            yield source.url, stream
        elif source.mandatory:
            raise CopyError(f"mandatory file {source.url} listed in the manifest does not exist")

    def pieces(self, url: str, stream: IO[bytes], compression: str | None) -> Iterator[bytes]:
        """The object's bytes, decompressed for GZIP or BZIP2, in pieces of whole lines."""
        return line_pieces(self._blocks(url, stream, compression), self.tuning.chunk_bytes)

    def _blocks(self, url: str, stream: IO[bytes], compression: str | None) -> Iterator[Any]:
        if not compression:
            # The object's own buffers are the blocks: reading them again in blocks would copy every
            # byte twice more, holding the interpreter lock the other COPY's small objects wait for.
            yield from stream.chunks() if isinstance(stream, _Chunks) else [stream.read()]
            return
        reader = _DECOMPRESSING[compression](stream)
        # A decompressor's errors are the data's; the stream's own read errors are retried as usual.
        while True:
            try:
                block = reader.read(self.tuning.chunk_bytes)
            except (OSError, EOFError, zlib.error) as exc:
                raise CopyError(f"cannot read {url}: {exc}") from None
            if not block:
                return
            yield block
