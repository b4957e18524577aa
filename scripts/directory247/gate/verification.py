"""Every entry's signature verified at once: the verification half of the gate.

``verify_signatures`` (and the ``submit``/``collect`` pair ``check.run_check`` uses to
overlap it with validation) run gpgv for each entry in a pool of threads, one per core,
after one batch run of gpg per core for many entries (``trust.batch``), and return the
verdict on each: ``Verified`` or the ``SignatureError`` naming the rule that failed. The
policy itself is ``trust.verify``; the verdicts are looked up and stored in the
verification cache when one is given.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import threading
from collections.abc import MutableMapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor, as_completed
from dataclasses import dataclass
from typing import TYPE_CHECKING

from ..errors import SignatureError
from ..trust import StatusCache, StatusLines, Verified, batch, has_cached_verdict, preload_keys, verify
from ..trust.authorisations import Trust

if TYPE_CHECKING:
    from ..progress import Progress


@dataclass(frozen=True)
class SignatureJob:
    """One entry and its detached signature, to verify against its State's authorised keys."""

    path: str  # directory/<cc>.yaml; the signature is path + ".asc"
    code: str
    data: bytes
    signature: bytes


Verdict = Verified | SignatureError


def trust_context(trust: Trust) -> bytes:
    """What a cached verdict was reached under: root key, authorisations, their signature and
    every authorised key (``Trust.digest_material``). Part of every cache key."""
    return hashlib.sha256(trust.digest_material).digest()


def default_workers() -> int:
    # One gpgv per core: the threads only wait for it, and more processes than cores were
    # measured slower (make bench), not faster.
    return max(2, os.cpu_count() or 2)


def _verify_job(job: SignatureJob, trust: Trust, now: dt.datetime, statuses: MutableMapping[str, StatusLines] | None,
                context: bytes) -> Verdict:
    try:
        return verify(job.data, job.signature, keys=trust.keys_for(job.code),
                      allowed=set(trust.authorisations.signers_for(job.code)), now=now,
                      label=job.path + ".asc", state=job.code, cache=statuses, cache_context=context)
    except SignatureError as exc:
        return exc


@dataclass
class Verification:
    futures: dict[str, Future[Verdict]]  # waiting for gpgv
    done: dict[str, Verdict]  # judged from a verdict already there (cache or batch)
    keys: list[threading.Thread]


def submit(pool: ThreadPoolExecutor, jobs: Sequence[SignatureJob], trust: Trust, now: dt.datetime,
            cache: StatusCache | None, workers: int) -> Verification:
    context = trust_context(trust)
    # gpgv's verdicts for this run: the cache, or (without one) a plain mapping for the
    # verdicts the batch below reaches, so that they need no gpgv either.
    statuses: MutableMapping[str, StatusLines] = cache if cache is not None else {}

    def known(job: SignatureJob) -> bool:
        return has_cached_verdict(job.data, job.signature, keys=trust.keys_for(job.code), cache=statuses,
                                  cache_context=context)

    unknown = [job for job in jobs if not known(job)]
    material = cache.key_material if cache is not None else None
    needed = [key for job in jobs for key in trust.keys_for(job.code)]
    readers: list[threading.Thread | None] = []
    if len(unknown) >= batch.BATCH_MIN:  # one gpg per core for many entries (see trust.batch)
        batched = {key for job in unknown for key in trust.keys_for(job.code)}
        # The batch reads its own keys; the others (release keys...) are read meanwhile.
        readers.append(preload_keys([key for key in [*needed, *trust.keys.values()] if key not in batched],
                                    cache=material, background=True, readers=1))
        batch.prefill([batch.BatchItem(job.code, tuple(trust.keys_for(job.code)), job.signature, job.data)
                          for job in unknown], statuses, context=context, groups=workers, material_cache=material)
        unknown = [job for job in unknown if not known(job)]
    # Every other authorised key read in a few gpg calls (not one per State) while gpgv
    # already runs, in the order the entries need them.
    readers.append(preload_keys([*needed, *trust.keys.values()], cache=material, background=True, readers=2))
    waiting = {job.path for job in unknown}
    futures = {job.path: pool.submit(_verify_job, job, trust, now, statuses, context) for job in unknown}
    # No gpgv to wait for: not worth a trip through the pool.
    done = {job.path: _verify_job(job, trust, now, statuses, context) for job in jobs if job.path not in waiting}
    return Verification(futures, done, [reader for reader in readers if reader is not None])


def collect(verification: Verification, progress: Progress | None) -> dict[str, Verdict]:
    verdicts: dict[str, Verdict] = dict(verification.done)
    total = len(verification.futures) + len(verdicts)
    if progress is not None:
        for done in range(1, len(verdicts) + 1):
            progress("verifying signatures", done, total)
    paths = {future: path for path, future in verification.futures.items()}
    for done, future in enumerate(as_completed(paths), start=len(verdicts) + 1):
        verdicts[paths[future]] = future.result()
        if progress is not None:
            progress("verifying signatures", done, total)
    for reader in verification.keys:
        reader.join()
    return verdicts


def verify_signatures(jobs: Sequence[SignatureJob], trust: Trust, *, now: dt.datetime,
                      cache: StatusCache | None = None, workers: int | None = None,
                      progress: Progress | None = None) -> dict[str, Verdict]:
    """The verdict on each job's signature, by entry path: ``Verified`` or the
    ``SignatureError`` saying which rule failed. gpgv runs in a pool of ``workers`` threads
    (default: one per core), after one batch run of gpg per core for many entries
    (``trust.batch``); this is the verification half of ``run_check``."""
    workers = workers or default_workers()
    with ThreadPoolExecutor(max_workers=workers) as pool:
        return collect(submit(pool, jobs, trust, now, cache, workers), progress)
