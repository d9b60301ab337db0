"""Vectorized SGP4/SDP4 propagation of many satellites over many times.

One call propagates ``S`` satellites at ``T`` times with ``sgp4``'s compiled ``SatrecArray``
(WGS-72 constants, as the element sets are fitted) and returns an :class:`Ephemeris` with
``(S, T, 3)`` positions and velocities in TEME or in the Earth-fixed ITRS, and an ``(S, T)``
array of SGP4 error codes. Positions and velocities that come with an error are NaN.

The TEME→ITRS rotation (see :mod:`overflight.frames`) is built once per time and shared by all
satellites. Work is cut into chunks of satellites × times small enough to stay in cache; large
jobs are spread over worker processes (``fork``) that write straight into shared memory, because
``SatrecArray.sgp4`` holds the GIL. Every path computes each chunk the same way, so the results
are bit-identical whatever the number of workers.

Typical use::

    eph = propagate(element_sets, times)              # ITRS, km and km/s
    lat_deg, lon_deg, alt_km = eph.geodetic()          # each (S, T)

and for repeated calls on the same satellites (the overflight-window engine)::

    prop = Propagator(element_sets)
    eph = prop.propagate(times_a)
    eph = prop.propagate(times_b, frame="teme")
"""

from __future__ import annotations

import math
import mmap
import multiprocessing
import os
import sys
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
import numpy.typing as npt
from sgp4.api import SGP4_ERRORS, Satrec, SatrecArray

from overflight.elements import ElementSet
from overflight.frames import (
    Geodetic,
    _rotate_into,
    geodetic_from_itrs,
    rotate_teme_to_itrs,
    teme_to_itrs_matrices,
)
from overflight.times import datetime64_to_utc, format_utc, to_datetime64

if TYPE_CHECKING:
    from multiprocessing.sharedctypes import Synchronized

__all__ = [
    "CHUNK_SIZE",
    "FRAMES",
    "PARALLEL_MIN_WORK",
    "SGP4_ERROR_MESSAGES",
    "Ephemeris",
    "Frame",
    "PreparedTimes",
    "Propagator",
    "error_message",
    "prepare_times",
    "propagate",
]

Frame = Literal["teme", "itrs"]
FRAMES: tuple[Frame, ...] = ("teme", "itrs")

FloatArray = npt.NDArray[np.float64]

#: SGP4 error codes (``Ephemeris.error``) and their meaning; 0 means no error.
SGP4_ERROR_MESSAGES: dict[int, str] = {int(k): str(v) for k, v in SGP4_ERRORS.items()}

#: Satellite-times per chunk: scratch position+velocity of one chunk (48 bytes each) stays in
#: the 2 MB per-core cache while it is rotated.
CHUNK_SIZE = 16_384

#: Jobs with at least this many satellite-times use worker processes when ``workers`` is None
#: (about 0.2 s of SGP4 on one core; forking costs a few milliseconds).
PARALLEL_MIN_WORK = 500_000

_UNIX_EPOCH_JD = 2440587.5
_NS_PER_DAY = 86_400 * 10**9


def error_message(code: int) -> str:
    """Human-readable meaning of an SGP4 error code (0 = ok)."""
    if code == 0:
        return "ok"
    return SGP4_ERROR_MESSAGES.get(int(code), f"unknown SGP4 error {code}")


# ---- times ---------------------------------------------------------------------------------


class PreparedTimes:
    """A time grid ready for propagation: SGP4 Julian dates and (lazily) the ITRS rotation.

    Build it once with :func:`prepare_times` when several :class:`Propagator` objects are
    propagated on the same grid; plain times work everywhere too.
    """

    __slots__ = ("_rotation", "fr", "jd", "times")

    def __init__(self, times: datetime | Sequence[datetime] | npt.ArrayLike) -> None:
        t64 = np.ascontiguousarray(to_datetime64(times).reshape(-1))
        ns = t64.astype(np.int64)
        days = ns // _NS_PER_DAY
        #: ``(T,)`` datetime64[ns] UTC.
        self.times: npt.NDArray[np.datetime64] = t64
        #: ``(T,)`` UTC Julian date, whole part (…​.5) and fraction, as SGP4 takes them.
        self.jd: FloatArray = _UNIX_EPOCH_JD + days.astype(np.float64)
        self.fr: FloatArray = (ns - days * _NS_PER_DAY).astype(np.float64) / _NS_PER_DAY
        self._rotation: tuple[FloatArray, FloatArray] | None = None

    def __len__(self) -> int:
        return int(self.times.shape[0])

    @property
    def rotation(self) -> tuple[FloatArray, FloatArray]:
        """``(R, dR)``, each ``(T, 3, 3)``: TEME→ITRS rotation and its rate (1/s)."""
        if self._rotation is None:
            self._rotation = teme_to_itrs_matrices(self.times) if len(self) else _empty_rotation()
        return self._rotation


def _empty_rotation() -> tuple[FloatArray, FloatArray]:
    return np.zeros((0, 3, 3)), np.zeros((0, 3, 3))


def prepare_times(
    times: datetime | Sequence[datetime] | npt.ArrayLike | PreparedTimes,
) -> PreparedTimes:
    """Prepare a UTC time grid (``datetime64`` array or aware datetimes) for propagation."""
    if isinstance(times, PreparedTimes):
        return times
    return PreparedTimes(times)


# ---- results -------------------------------------------------------------------------------


@dataclass(frozen=True, eq=False)
class Ephemeris:
    """Positions and velocities of ``S`` satellites at ``T`` times in one frame.

    ``error`` holds the SGP4 error code per satellite and time (0 = ok, see
    :data:`SGP4_ERROR_MESSAGES`); wherever it is non-zero, position and velocity are NaN.
    """

    norad_ids: npt.NDArray[np.int64]  # (S,)
    times: npt.NDArray[np.datetime64]  # (T,) datetime64[ns] UTC
    position_km: FloatArray  # (S, T, 3) in `frame`
    velocity_km_s: FloatArray  # (S, T, 3) in `frame`
    error: npt.NDArray[np.uint8]  # (S, T)
    frame: Frame  # "teme" or "itrs"

    def __repr__(self) -> str:
        s, t = self.shape
        span = f", {self.times[0]}..{self.times[-1]}" if t else ""
        bad = int(np.count_nonzero(self.error))
        return f"Ephemeris(frame={self.frame!r}, satellites={s}, times={t}{span}, errors={bad})"

    @property
    def shape(self) -> tuple[int, int]:
        """``(S, T)``: satellites × times."""
        return int(self.error.shape[0]), int(self.error.shape[1])

    @property
    def ok(self) -> npt.NDArray[np.bool_]:
        """``(S, T)`` True where SGP4 returned no error."""
        result: npt.NDArray[np.bool_] = self.error == 0
        return result

    def to_frame(self, frame: Frame) -> Ephemeris:
        """The same ephemeris in ``frame`` ("teme" or "itrs"); ``self`` if already there."""
        frame = _check_frame(frame)
        if frame == self.frame:
            return self
        rot, rate = prepare_times(self.times).rotation
        if frame == "teme":
            # Inverse: r_teme = Rᵀ r_itrs, v_teme = Rᵀ (v_itrs − dR r_teme).
            rot_t = np.ascontiguousarray(rot.transpose(0, 2, 1))
            r = _matvec(rot_t, self.position_km)
            v = _matvec(rot_t, self.velocity_km_s - _matvec(rate, r))
        else:
            r, v = rotate_teme_to_itrs(self.position_km, self.velocity_km_s, rot, rate)
        return Ephemeris(self.norad_ids, self.times, r, v, self.error, frame)

    def geodetic(self) -> Geodetic:
        """WGS-84 ``(lat_deg, lon_deg, alt_km)``, each ``(S, T)``; NaN where ``error`` ≠ 0."""
        return geodetic_from_itrs(self.to_frame("itrs").position_km)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready dict (times ISO 8601 ``Z``, NaN as None); meant for small results."""

        def clean(a: FloatArray) -> Any:
            obj = a.astype(object)
            obj[np.isnan(a)] = None
            return obj.tolist()

        return {
            "frame": self.frame,
            "norad_ids": self.norad_ids.tolist(),
            "times": [format_utc(datetime64_to_utc(t), decimals=6) for t in self.times],
            "position_km": clean(self.position_km),
            "velocity_km_s": clean(self.velocity_km_s),
            "error": self.error.tolist(),
        }


def _matvec(m: FloatArray, x: FloatArray) -> FloatArray:
    out: FloatArray = np.einsum("tij,...tj->...ti", m, x)
    return out


def _check_frame(frame: str) -> Frame:
    if frame == "teme":
        return "teme"
    if frame == "itrs":
        return "itrs"
    raise ValueError(f"unknown frame {frame!r}; use one of {', '.join(FRAMES)}")


# ---- propagation ---------------------------------------------------------------------------


def _satrec_of(item: ElementSet | Satrec) -> Satrec:
    if isinstance(item, ElementSet):
        return item.to_satrec()
    if isinstance(item, Satrec):
        return item
    raise TypeError(f"expected an ElementSet or sgp4 Satrec, got {type(item).__name__}")


def _norad_of(item: ElementSet | Satrec) -> int:
    return item.norad_id if isinstance(item, ElementSet) else int(item.satnum)


class Propagator:
    """Satellites prepared once for repeated propagation on different time grids.

    ``satellites`` are :class:`~overflight.elements.ElementSet` or ``sgp4`` ``Satrec``
    objects (any mix). The per-call overhead is small (tens of microseconds plus Skyfield's
    UT1 lookup for ITRS output), so thousands of calls on short grids are fine.
    """

    def __init__(
        self,
        satellites: Iterable[ElementSet | Satrec] | ElementSet | Satrec,
        *,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        if isinstance(satellites, (ElementSet, Satrec)):
            satellites = [satellites]
        items = list(satellites)
        self._satrecs: list[Satrec] = [_satrec_of(item) for item in items]
        #: ``(S,)`` NORAD catalog numbers, in input order.
        self.norad_ids: npt.NDArray[np.int64] = np.array(
            [_norad_of(item) for item in items], dtype=np.int64
        )
        if chunk_size < 1:
            raise ValueError("chunk_size must be positive")
        self.chunk_size = chunk_size
        self._arrays: dict[int, list[SatrecArray]] = {}

    def __len__(self) -> int:
        return len(self._satrecs)

    @property
    def satrecs(self) -> list[Satrec]:
        """The ``sgp4`` satellite records, in input order."""
        return list(self._satrecs)

    def select(self, indices: npt.ArrayLike) -> Propagator:
        """A Propagator for a subset of the satellites (integer indices or boolean mask)."""
        idx = np.arange(len(self))[np.asarray(indices)]
        sub = Propagator.__new__(Propagator)
        sub._satrecs = [self._satrecs[i] for i in idx.tolist()]
        sub.norad_ids = self.norad_ids[idx]
        sub.chunk_size = self.chunk_size
        sub._arrays = {}
        return sub

    def _blocks(self, block: int) -> list[SatrecArray]:
        """``SatrecArray`` objects of ``block`` satellites each (cached per block size)."""
        arrays = self._arrays.get(block)
        if arrays is None:
            sats = self._satrecs
            arrays = [SatrecArray(sats[i : i + block]) for i in range(0, len(sats), block)]
            self._arrays[block] = arrays
        return arrays

    def _layout(self, n_times: int, frame: Frame) -> tuple[int, int]:
        """(satellites per block, times per chunk) for a job; depends on S, T, frame only."""
        n_sats = len(self)
        # The largest power of two of satellites whose whole rows of times fit in a chunk
        # (at least 16), so short grids are not split in time; few distinct block sizes.
        want = max(1, self.chunk_size // max(n_times, 1))
        block = min(max(16, 1 << (want.bit_length() - 1)), n_sats)
        if frame == "teme":
            # SGP4 writes straight into the output, which needs whole rows of times.
            return block, max(n_times, 1)
        return block, max(1, self.chunk_size // block)

    def propagate(
        self,
        times: datetime | Sequence[datetime] | npt.ArrayLike | PreparedTimes,
        *,
        frame: Frame = "itrs",
        workers: int | None = None,
    ) -> Ephemeris:
        """Propagate every satellite to every time; see :func:`propagate`."""
        frame = _check_frame(frame)
        grid = prepare_times(times)
        n_sats, n_times = len(self), len(grid)
        job = _Job(self, grid, frame)
        nproc = _choose_workers(workers, n_sats * n_times, len(job.chunks))
        if nproc > 1:
            job.allocate(shared=True)
            _run_parallel(job, nproc)
        else:
            job.allocate(shared=False)
            scratch = _Scratch(job)
            for index in range(len(job.chunks)):
                job.run_chunk(index, scratch)
        assert job.position is not None and job.velocity is not None and job.error is not None
        return Ephemeris(
            norad_ids=self.norad_ids.copy(),
            times=grid.times.copy(),
            position_km=job.position,
            velocity_km_s=job.velocity,
            error=job.error,
            frame=frame,
        )


def propagate(
    satellites: Iterable[ElementSet | Satrec] | ElementSet | Satrec | Propagator,
    times: datetime | Sequence[datetime] | npt.ArrayLike | PreparedTimes,
    *,
    frame: Frame = "itrs",
    workers: int | None = None,
) -> Ephemeris:
    """Propagate satellites (ElementSet or Satrec) to UTC times with SGP4.

    ``times``: ``datetime64`` array (UTC), aware datetimes, or :class:`PreparedTimes`.
    ``frame``: "itrs" (Earth-fixed, default) or "teme" (SGP4's own frame).
    ``workers``: processes to use; None = all CPUs when the job has at least
    :data:`PARALLEL_MIN_WORK` satellite-times (Linux only), 1 = in this process.
    Returns an :class:`Ephemeris` with ``(S, T, 3)`` km and km/s arrays.
    """
    prop = satellites if isinstance(satellites, Propagator) else Propagator(satellites)
    return prop.propagate(times, frame=frame, workers=workers)


# ---- the work: chunks, in-process or in worker processes -----------------------------------


class _Job:
    """One propagation: its chunks (block, t0, t1) and output arrays."""

    def __init__(self, prop: Propagator, grid: PreparedTimes, frame: Frame) -> None:
        n_sats, n_times = len(prop), len(grid)
        self.frame: Frame = frame
        self.n_sats, self.n_times = n_sats, n_times
        self.jd, self.fr = grid.jd, grid.fr
        self.rot, self.rate = grid.rotation if frame == "itrs" else _empty_rotation()
        self.block, self.step = prop._layout(n_times, frame) if n_sats else (1, 1)
        self.arrays = prop._blocks(self.block) if n_sats and n_times else []
        self.chunks = [
            (b, t0, min(t0 + self.step, n_times))
            for b in range(len(self.arrays))
            for t0 in range(0, n_times, self.step)
        ]
        self.position: FloatArray | None = None
        self.velocity: FloatArray | None = None
        self.error: npt.NDArray[np.uint8] | None = None

    def allocate(self, *, shared: bool) -> None:
        shape = (self.n_sats, self.n_times)
        if shared:
            self.position = _shared_array((*shape, 3), np.float64)
            self.velocity = _shared_array((*shape, 3), np.float64)
            self.error = _shared_array(shape, np.uint8)
        else:
            self.position = np.empty((*shape, 3))
            self.velocity = np.empty((*shape, 3))
            self.error = np.empty(shape, dtype=np.uint8)

    def run_chunk(self, index: int, scratch: _Scratch) -> None:
        assert self.position is not None and self.velocity is not None and self.error is not None
        b, t0, t1 = self.chunks[index]
        arr = self.arrays[b]
        s0 = b * self.block
        s1 = s0 + len(arr)
        jd, fr = self.jd[t0:t1], self.fr[t0:t1]
        if self.frame == "teme":
            # Whole rows of times: the output slices are contiguous, SGP4 fills them directly.
            e = self.error[s0:s1]
            r = self.position[s0:s1]
            v = self.velocity[s0:s1]
            arr._sgp4(jd, fr, e, r, v)
            _nan_errors(e, r, v)
            return
        n = len(arr) * (t1 - t0)
        e = scratch.e[:n].reshape(len(arr), t1 - t0)
        r = scratch.r[: 3 * n].reshape(len(arr), t1 - t0, 3)
        v = scratch.v[: 3 * n].reshape(len(arr), t1 - t0, 3)
        arr._sgp4(jd, fr, e, r, v)
        _nan_errors(e, r, v)
        self.error[s0:s1, t0:t1] = e
        _rotate_into(
            r,
            v,
            self.rot[t0:t1],
            self.rate[t0:t1],
            self.position[s0:s1, t0:t1],
            self.velocity[s0:s1, t0:t1],
        )


class _Scratch:
    """Per-process buffers for one chunk (SGP4 cannot write into strided views)."""

    def __init__(self, job: _Job) -> None:
        n = job.block * job.step if job.frame == "itrs" else 0
        self.e = np.empty(n, dtype=np.uint8)
        self.r = np.empty(3 * n)
        self.v = np.empty(3 * n)


def _nan_errors(e: npt.NDArray[np.uint8], r: FloatArray, v: FloatArray) -> None:
    # sgp4 already NaNs codes 1-5 but returns numbers with code 6 (decayed); NaN them all.
    if e.any():
        bad = e != 0
        r[bad] = np.nan
        v[bad] = np.nan


def _shared_array(shape: tuple[int, ...], dtype: type[np.generic]) -> npt.NDArray[Any]:
    """A zeroed array in anonymous shared memory, inherited by forked workers.

    Like ``multiprocessing.shared_memory`` but nameless: nothing in /dev/shm to leak or clean
    up, not limited by a small /dev/shm (containers), and the result needs no copy: the
    mapping lives as long as the array.
    """
    count = math.prod(shape)
    nbytes = max(1, count * np.dtype(dtype).itemsize)
    buf = mmap.mmap(-1, nbytes)
    return np.frombuffer(buf, dtype=dtype, count=count).reshape(shape)


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return os.cpu_count() or 1


def _choose_workers(workers: int | None, work: int, n_chunks: int) -> int:
    if workers is not None and workers < 1:
        raise ValueError("workers must be at least 1")
    if not sys.platform.startswith("linux") or multiprocessing.current_process().daemon:
        return 1  # no fork (or a daemonic pool worker, which may not have children)
    if workers is None:
        workers = _usable_cpus() if work >= PARALLEL_MIN_WORK else 1
    return max(1, min(workers, n_chunks))


def _run_parallel(job: _Job, nproc: int) -> None:
    """Run the chunks in this process and ``nproc - 1`` forked workers, claiming dynamically."""
    ctx = multiprocessing.get_context("fork")
    counter = ctx.Value("q", 0)
    procs = [
        ctx.Process(target=_child_loop, args=(job, counter), name=f"overflight-sgp4-{i}")
        for i in range(nproc - 1)
    ]
    for p in procs:
        p.start()
    failed = True
    try:
        _work_loop(job, counter)
        failed = False
    finally:
        for p in procs:
            if failed:
                p.terminate()
            p.join()
    codes = [p.exitcode for p in procs]
    if any(code != 0 for code in codes):
        raise RuntimeError(f"propagation worker process failed (exit codes {codes})")


def _child_loop(job: _Job, counter: Synchronized[int]) -> None:
    """A forked worker's :func:`_work_loop`: Ctrl-C (sent to the whole process group) is left
    to the parent, which ends the workers; SIGTERM ends one without a traceback (whatever
    handler the parent had)."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    _work_loop(job, counter)


def _work_loop(job: _Job, counter: Synchronized[int]) -> None:
    scratch = _Scratch(job)
    total = len(job.chunks)
    while True:
        with counter.get_lock():
            index = counter.value
            counter.value = index + 1
        if index >= total:
            return
        job.run_chunk(index, scratch)
