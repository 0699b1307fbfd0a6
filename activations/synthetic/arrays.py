"""Vectorised column builders: numpy in, Arrow out, with no Python object per row.

The generator has to make ~13M event rows for 1M persons in seconds and in bounded memory, so
ids, decimals and strings are written straight into Arrow buffers or built with Arrow compute
kernels, and row subsets are stitched together by index rather than row by row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from activations.raw_contract import DECIMAL_PRECISION, DECIMAL_SCALE

_CHUNK = 1 << 20  # rows per block when writing ids: bounds the integer temporaries


def expand(counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Parent index and rank within the parent for `counts[i]` children of each parent i."""
    counts = counts.astype(np.int64)
    parent = np.repeat(np.arange(counts.size, dtype=np.int64), counts)
    starts = np.cumsum(counts) - counts
    rank = np.arange(parent.size, dtype=np.int64) - starts[parent]
    return parent, rank


def coded_ids(
    prefix: str,
    numbers: np.ndarray,
    width: int,
    base: int = 10,
    transform: Callable[[np.ndarray], np.ndarray] | None = None,
) -> pa.Array:
    """Fixed-width ids ('ord_00001234') written straight into an Arrow buffer: no Python strings.

    Works in chunks so the integer temporaries stay small next to the output (events have
    ~13M ids at 1M persons).
    """
    alphabet = np.frombuffer(b"0123456789abcdef", dtype=np.uint8)
    head = np.frombuffer(prefix.encode("ascii"), dtype=np.uint8)
    n = int(numbers.size)
    row = head.size + width
    if n * row >= 2**31:
        raise ValueError("column too large for 32-bit string offsets")
    data = np.empty((n, row), dtype=np.uint8)
    data[:, : head.size] = head
    divisor = np.uint64(base)
    for lo in range(0, n, _CHUNK):
        value = numbers[lo : lo + _CHUNK].astype(np.uint64)
        if transform is not None:
            value = transform(value)
        block = data[lo : lo + _CHUNK]
        for column in range(row - 1, head.size - 1, -1):
            block[:, column] = alphabet[value % divisor]
            value //= divisor
    offsets = np.arange(0, (n + 1) * row, row, dtype=np.int32)
    return pa.Array.from_buffers(pa.string(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])


def scrambled_hex_ids(
    numbers: np.ndarray, salt: int, width: int = 12, prefix: str = ""
) -> pa.Array:
    """Random-looking but collision-free hex ids: a bijection of the integers mod 16**width."""
    bits = 4 * width
    mask = np.uint64((1 << bits) - 1)
    multiplier_a = np.uint64((0x9E3779B97F4A7C15 & int(mask)) | 1)
    multiplier_b = np.uint64((0xBF58476D1CE4E5B9 & int(mask)) | 1)
    offset = np.uint64(salt & int(mask))

    def mix(value: np.ndarray) -> np.ndarray:
        value = (value * multiplier_a + offset) & mask
        value ^= value >> np.uint64(bits // 2)
        value = (value * multiplier_b) & mask
        value ^= value >> np.uint64(bits // 3)
        return value

    return coded_ids(prefix, numbers, width, base=16, transform=mix)


def decimal_from_cents(cents: np.ndarray) -> pa.Array:
    """DECIMAL(18, 2) from integer cents without Python Decimal objects.

    Each value is a 128-bit two's complement integer: low word = cents, high word = its sign.
    Arrow uses native byte order, little-endian on every platform this project supports.
    """
    words = np.empty((cents.size, 2), dtype="<i8")
    words[:, 0] = cents
    words[:, 1] = cents >> 63
    return pa.Array.from_buffers(
        pa.decimal128(DECIMAL_PRECISION, DECIMAL_SCALE), cents.size, [None, pa.py_buffer(words)]
    )


def timestamps(us: np.ndarray) -> pa.Array:
    """timestamp('us') column from int64 microseconds (naive, UTC by convention)."""
    return pa.array(us.astype(np.int64), type=pa.timestamp("us"))


def take_or_null(
    values: pa.Array, index: np.ndarray, present: np.ndarray | None = None
) -> pa.Array:
    """values[index] with nulls where `present` is False (or index < 0)."""
    mask = index < 0 if present is None else ~present | (index < 0)
    safe = np.where(mask, 0, index)
    return values.take(pa.array(safe, mask=mask))


def overlay(base: pa.Array, positions: np.ndarray, replacement: pa.Array) -> pa.Array:
    """base with base[positions] replaced by `replacement` (in order): a vectorised scatter."""
    if positions.size == 0:
        return base
    index = np.arange(len(base), dtype=np.int64)
    index[positions] = len(base) + np.arange(positions.size)
    return pa.concat_arrays([base, replacement.cast(base.type)]).take(pa.array(index))


def assemble(n: int, groups: Sequence[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """One array of length n from string arrays built for disjoint row subsets covering 0..n-1."""
    if not groups:
        return pa.nulls(n, pa.string())
    positions = np.concatenate([rows for rows, _ in groups])
    values = pa.concat_arrays([vals.cast(pa.string()) for _, vals in groups])
    inverse = np.empty(n, dtype=np.int64)
    inverse[positions] = np.arange(positions.size)
    return values.take(pa.array(inverse))


def join_strings(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and literals."""
    return pc.binary_join_element_wise(*parts, "")


def vocabulary(values: np.ndarray | pa.Array | Sequence[str]) -> pa.Array:
    """A small vocabulary as a pa.string() array, ready for `take`."""
    return pa.array(values, type=pa.string())


def normal_cdf(x: np.ndarray) -> np.ndarray:
    """Logistic approximation of the standard normal CDF (max error ~0.01; plenty for choices)."""
    return 1.0 / (1.0 + np.exp(-1.702 * x))


def pick_index(rng: np.random.Generator, sizes: np.ndarray) -> np.ndarray:
    """A uniform index below sizes[i] for each i (sizes >= 1)."""
    picked: np.ndarray = np.minimum((rng.random(sizes.size) * sizes).astype(np.int64), sizes - 1)
    return picked


def with_copies(rng: np.random.Generator, n: int, rate: float) -> np.ndarray:
    """Row indices 0..n-1 plus ~rate extra exact copies, each copy right after its original."""
    copies = np.flatnonzero(rng.random(n) < rate)
    rows: np.ndarray = np.sort(np.concatenate([np.arange(n, dtype=np.int64), copies]))
    return rows
