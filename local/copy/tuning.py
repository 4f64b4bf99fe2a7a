"""The local COPY's tunables, in one object handed to the engine: tests and the benchmark pass their own."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class CopyTuning:
    """How much the local COPY reads ahead, holds whole, and hands to polars."""

    # Objects fetched ahead of the one being parsed: S3 latency, not bandwidth, is the cost of
    # small objects; large ones are bounded by their manifest content_length so memory stays flat.
    prefetch: int = 16
    prefetch_bytes: int = 64 * 1024 * 1024
    # Objects up to this size are read whole by the prefetching threads, overlapping the reads with
    # conversion; larger ones are streamed by the converting thread.
    whole_bytes: int = 16 * 1024 * 1024
    # Objects are read, converted and written in pieces of about this size.
    chunk_bytes: int = 4 * 1024 * 1024
    # Pieces polars converts while the loader writes the one before them to PostgreSQL.
    converters: int = 2
    # Below this size an object costs more to set up as a frame than to convert record by record.
    min_columnar_bytes: int = 64 * 1024
