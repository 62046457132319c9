"""The listening-test service: create tests, serve blind trials to raters, take votes, rank systems.

Everything a rater does goes through a secret token made here and kept by the server (the
page holds it in server-side session state), so one browser cannot vote as another rater.
"Must play to the end" is enforced here, not only in the page: a side counts as played only
when its end is reported no sooner than the sample's duration after the trial was served,
and a vote is refused until every side has been played.
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import random
import secrets
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Literal, Mapping, Sequence

import numpy as np
import soundfile
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from studio.adapters.registry import Registry, System
from studio.audio import Audio, load_audio
from studio.errors import ConfigError
from studio.listening import sources
from studio.listening.errors import AdminOnly, ListeningError
from studio.listening.export import ExportFiles, write_export
from studio.listening.kinds import Kind, canonical_value, kind_info
from studio.listening.loudness import DEFAULT_TARGET_LUFS, match_loudness
from studio.listening.models import (AssignmentRow, RaterRow, SampleRow, SystemRow, TestRow, TrialRow,
                                     VoteRow)
from studio.listening.quality import RaterQuality, rater_quality
from studio.listening.records import QualityRules, VoteRecord
from studio.listening.settings import ListeningSettings
from studio.listening.stats import Leaderboard, StatsOptions, leaderboard
from studio.listening.store import Store

Slot = Literal["A", "B"]
PLAYBACK_TOLERANCE_SECONDS = 0.1  # a browser may report "ended" a few ms short of the file's length
MAX_ATTENTION_CHECKS = 20


@dataclass(frozen=True)
class TestOptions:
    """How a new listening test is set up."""

    __test__ = False  # not a pytest class

    name: str
    kind: Kind = "ab"
    attention_checks: int = 2  # identical pairs (A/B, CMOS) or repeated samples (MOS) in every rater's list
    target_lufs: float = DEFAULT_TARGET_LUFS  # lowered for the whole test when a sample would clip
    reference_system: str | None = None  # CMOS only: what every other system is compared against
    quality: QualityRules = field(default_factory=QualityRules)

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise ConfigError("a listening test needs a name of 1 to 200 characters")
        kind_info(self.kind)
        if not 0 <= self.attention_checks <= MAX_ATTENTION_CHECKS:
            raise ConfigError(f"attention_checks must be between 0 and {MAX_ATTENTION_CHECKS}; "
                              f"got {self.attention_checks}")
        if not -60 <= self.target_lufs <= -5:
            raise ConfigError(f"target_lufs must be between -60 and -5 LUFS; got {self.target_lufs}")
        if (self.kind == "cmos") != bool(self.reference_system):
            raise ConfigError("a CMOS test needs a reference system, and only CMOS tests take one")


@dataclass(frozen=True)
class TestSummary:
    """A test as its admin sees it (raters never see `systems`)."""

    __test__ = False

    id: str
    name: str
    kind: Kind
    status: str
    systems: tuple[str, ...]
    items: int
    trials: int
    raters: int
    votes: int
    target_lufs: float


@dataclass(frozen=True)
class RaterSession:
    token: str  # the secret that identifies this rater; keep it server-side
    test_id: str
    test_name: str
    kind: Kind
    trials: int


@dataclass(frozen=True)
class TrialView:
    """One blind trial as served to a rater: samples in displayed order, no system names."""

    position: int  # 1-based, in this rater's order
    total: int
    kind: Kind
    question: str
    choices: tuple[str, ...]
    slots: tuple[Audio, ...]  # side A, then side B for pairwise kinds
    text: str | None  # the prompt read, when known


class ListeningService:
    def __init__(self, store: Store, clock: Callable[[], float] = time.time):
        self.store = store
        self.settings = store.settings
        self.clock = clock  # server time; tests pass a fake clock to check the playback rules
        self._random = random.SystemRandom()  # rater order and sides must not be predictable
        self._numpy_random = np.random.default_rng()

    @classmethod
    def from_env(cls) -> "ListeningService":
        return cls(Store(ListeningSettings.from_env()))

    # --- admin -------------------------------------------------------------------------------

    def check_admin(self, admin_token: str | None) -> None:
        expected = self.settings.admin_token
        if expected is not None and not hmac.compare_digest((admin_token or "").encode(), expected.encode()):
            raise AdminOnly("this action needs the admin token (STUDIO_ADMIN_TOKEN); enter it in the admin panel")

    def create_from_tts(self, registry: Registry, options: TestOptions, systems: Sequence[System],
                        prompts: Sequence[str], admin_token: str | None = None) -> TestSummary:
        """Synthesise every prompt with every system (cached in the data folder), then create the test."""
        self.check_admin(admin_token)
        return self._create(options, sources.from_tts(registry, systems, prompts, self._folder("tts-cache")))

    def create_from_folders(self, options: TestOptions, folders: Mapping[str, Path],
                            admin_token: str | None = None) -> TestSummary:
        self.check_admin(admin_token)
        return self._create(options, sources.from_folders(folders))

    def create_from_zip(self, options: TestOptions, archive: Path, admin_token: str | None = None) -> TestSummary:
        self.check_admin(admin_token)
        return self._create(options, sources.from_zip(archive))

    def close_test(self, test_id: str, admin_token: str | None = None) -> TestSummary:
        self.check_admin(admin_token)
        with self.store.transaction() as session:
            self._test(session, test_id).status = "closed"
        return self.summary(test_id)

    def delete_test(self, test_id: str, admin_token: str | None = None) -> None:
        """Remove the test, its votes and its audio files for good."""
        self.check_admin(admin_token)
        with self.store.transaction() as session:
            self._test(session, test_id)
            session.execute(delete(TestRow).where(TestRow.id == test_id))  # the database cascades the rest
        shutil.rmtree(self._test_folder(test_id), ignore_errors=True)

    def export(self, test_id: str, admin_token: str | None = None, folder: Path | None = None,
               include_flagged: bool = False) -> ExportFiles:
        """votes.csv (every vote, flagged raters and attention checks included) and leaderboard.csv."""
        self.check_admin(admin_token)
        records = self.vote_records(test_id)
        board = self.leaderboard(test_id, include_flagged)
        folder = folder or self._folder("exports") / f"{test_id}-{int(self.clock())}"
        return write_export(records, board, folder)

    # --- reading -----------------------------------------------------------------------------

    def list_tests(self) -> list[TestSummary]:
        with self.store.transaction() as session:
            ids = session.scalars(select(TestRow.id).order_by(TestRow.created_at.desc())).all()
        return [self.summary(test_id) for test_id in ids]

    def summary(self, test_id: str) -> TestSummary:
        with self.store.transaction() as session:
            test = self._test(session, test_id)
            items = session.scalar(select(func.count(func.distinct(SampleRow.item)))
                                   .where(SampleRow.test_id == test_id))
            return TestSummary(test.id, test.name, test.kind, test.status,  # type: ignore[arg-type]
                               tuple(s.name for s in test.systems), items or 0, _count(session, TrialRow, test_id),
                               _count(session, RaterRow, test_id), _count(session, VoteRow, test_id), test.target_lufs)

    def vote_records(self, test_id: str) -> list[VoteRecord]:
        """Every vote of the test, oldest first, as statistics and the export read them."""
        sample_a, sample_b = aliased(SampleRow), aliased(SampleRow)
        system_a, system_b = aliased(SystemRow), aliased(SystemRow)
        with self.store.transaction() as session:
            test = self._test(session, test_id)
            rules = QualityRules(test.max_failed_checks, test.min_listen_ratio, test.max_rushed_fraction)
            rows = session.execute(
                select(VoteRow, TrialRow, AssignmentRow.swapped, system_a.name, system_b.name)
                .join(TrialRow, VoteRow.trial_id == TrialRow.id)
                .join(AssignmentRow, (AssignmentRow.rater_id == VoteRow.rater_id)
                      & (AssignmentRow.trial_id == VoteRow.trial_id))
                .join(sample_a, TrialRow.sample_a_id == sample_a.id)
                .join(system_a, sample_a.system_id == system_a.id)
                .outerjoin(sample_b, TrialRow.sample_b_id == sample_b.id)
                .outerjoin(system_b, sample_b.system_id == system_b.id)
                .where(VoteRow.test_id == test_id)
                .order_by(VoteRow.id)
            ).all()
            return [
                VoteRecord(test.id, test.kind, vote.id, vote.rater_id, trial.id, trial.item, trial.sample_a_id,
                           trial.sample_b_id, name_a, name_b, trial.is_attention, vote.answer, swapped, vote.value,
                           vote.listen_seconds, vote.audio_seconds, vote.created_at, rules)
                for vote, trial, swapped, name_a, name_b in rows
            ]

    def leaderboard(self, test_id: str, include_flagged: bool = False,
                    options: StatsOptions = StatsOptions()) -> Leaderboard:
        records = self.vote_records(test_id)
        return leaderboard(records, test_id, self.summary(test_id).kind, include_flagged, options)

    def rater_quality(self, test_id: str) -> dict[int, RaterQuality]:
        return rater_quality(self.vote_records(test_id))

    # --- raters ------------------------------------------------------------------------------

    def join(self, test_id: str, name: str = "") -> RaterSession:
        """A new rater with a fresh secret token and their own random trial order and sides."""
        test_id = (test_id or "").strip()
        token = secrets.token_urlsafe(32)
        with self.store.transaction() as session:
            test = self._test(session, test_id)
            if test.status != "open":
                raise ListeningError(f"the listening test {test.name!r} is closed; it takes no more raters")
            rater = RaterRow(test_id=test_id, token_hash=_hash(token), name=name.strip()[:100],
                             created_at=self.clock())
            session.add(rater)
            session.flush()
            trial_ids = list(session.scalars(select(TrialRow.id).where(TrialRow.test_id == test_id)))
            self._random.shuffle(trial_ids)
            pairwise = kind_info(test.kind).slots == 2
            session.add_all(
                AssignmentRow(rater_id=rater.id, trial_id=trial_id, position=position,
                              swapped=pairwise and self._random.random() < 0.5)
                for position, trial_id in enumerate(trial_ids, start=1)
            )
            return RaterSession(token, test.id, test.name, test.kind, len(trial_ids))  # type: ignore[arg-type]

    def current_trial(self, token: str) -> TrialView | None:
        """The rater's next unvoted trial (its serving time is recorded once), or None when all are done."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            assignment = self._current(session, rater)
            if assignment is None:
                return None
            if assignment.served_at is None:
                assignment.served_at = self.clock()
            total = session.scalar(select(func.count()).select_from(AssignmentRow)
                                   .where(AssignmentRow.rater_id == rater.id))
            samples = _displayed(assignment)
            info = kind_info(test.kind)
            position, paths, text = assignment.position, [s.path for s in samples], samples[0].text
        # Files are read after the commit, so a rater's download never holds the database's write lock.
        return TrialView(position, total or 0, test.kind, info.question,  # type: ignore[arg-type]
                         info.choices, tuple(self._load(path) for path in paths), text)

    def confirm_played(self, token: str, slot: Slot) -> tuple[Slot, ...]:
        """Record that side `slot` of the current trial played to its end (refused if that is too soon);
        returns the sides of this trial heard to the end so far."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            assignment = self._served(session, rater)
            samples = _displayed(assignment)
            if slot not in ("A", "B")[:len(samples)]:
                raise ListeningError(f"this trial has no side {slot!r}")
            sample = samples[0 if slot == "A" else 1]
            elapsed = self.clock() - (assignment.served_at or 0.0)
            if elapsed + PLAYBACK_TOLERANCE_SECONDS < sample.duration:
                raise ListeningError(
                    f"sample {slot} lasts {sample.duration:.1f} s but was served {elapsed:.1f} s ago; "
                    "play it to the end before it counts as heard")
            attribute = "played_a_at" if slot == "A" else "played_b_at"
            if getattr(assignment, attribute) is None:
                setattr(assignment, attribute, self.clock())
            return _played_sides(assignment, len(samples))

    def vote(self, token: str, answer: str) -> None:
        """The rater's answer to their current trial; refused until every side was played to the end."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            if test.status != "open":
                raise ListeningError(f"the listening test {test.name!r} was closed; it takes no more votes")
            assignment = self._served(session, rater)
            samples = _displayed(assignment)
            played = _played_sides(assignment, len(samples))
            unplayed = [slot for slot in ("A", "B")[:len(samples)] if slot not in played]
            if unplayed:
                raise ListeningError(f"play sample {' and '.join(unplayed)} to the end before voting")
            value = canonical_value(test.kind, answer, assignment.swapped)  # type: ignore[arg-type]
            now = self.clock()
            session.add(VoteRow(test_id=test.id, rater_id=rater.id, trial_id=assignment.trial_id, answer=answer,
                                value=value, listen_seconds=now - (assignment.served_at or now),
                                audio_seconds=sum(s.duration for s in samples), created_at=now))
            try:
                session.flush()
            except IntegrityError:
                raise ListeningError("this trial already has your vote; each rater votes once per trial") from None

    # --- internals ---------------------------------------------------------------------------

    def _create(self, options: TestOptions, samples: sources.SystemSamples) -> TestSummary:
        if options.reference_system and options.reference_system not in samples:
            raise ConfigError(f"the reference system {options.reference_system!r} is not among the systems: "
                              f"{', '.join(samples)}")
        systems = list(samples)
        items = sorted(next(iter(samples.values())))
        flat = [(system, item) for system in systems for item in items]
        matched = match_loudness([samples[s][i].audio for s, i in flat], options.target_lufs,
                                 [f"{s}/{i}" for s, i in flat])
        test_id = secrets.token_urlsafe(6)
        folder = self._test_folder(test_id)
        try:
            with self.store.transaction() as session:
                test = TestRow(id=test_id, name=options.name.strip(), kind=options.kind, status="open",
                               created_at=self.clock(), target_lufs=matched.target_lufs,
                               reference_system=options.reference_system,
                               max_failed_checks=options.quality.max_failed_checks,
                               min_listen_ratio=options.quality.min_listen_ratio,
                               max_rushed_fraction=options.quality.max_rushed_fraction)
                session.add(test)
                system_rows = {name: SystemRow(test=test, name=name, position=p) for p, name in enumerate(systems)}
                sample_rows: dict[tuple[str, str], SampleRow] = {}
                for n, ((system, item), audio, lufs) in enumerate(zip(flat, matched.audios, matched.source_lufs)):
                    relative = Path("listening", "tests", test_id, f"{n:05d}.wav")  # never a user-given name
                    path = self.store.data_dir / relative
                    path.parent.mkdir(parents=True, exist_ok=True)
                    soundfile.write(path, audio.to_int16(), audio.sample_rate, subtype="PCM_16")
                    sample_rows[system, item] = SampleRow(
                        test_id=test_id, system=system_rows[system], item=item, text=samples[system][item].text,
                        path=relative.as_posix(), duration=audio.duration, source_lufs=lufs)
                session.add_all(sample_rows.values())
                session.flush()
                session.add_all(
                    TrialRow(test_id=test_id, item=item, sample_a_id=sample_rows[a, item].id,
                             sample_b_id=sample_rows[b, item].id if b else None, is_attention=attention)
                    for item, a, b, attention in _trial_plan(options, systems, items, self._random)
                )
        except BaseException:
            shutil.rmtree(folder, ignore_errors=True)
            raise
        return self.summary(test_id)

    def _test(self, session: Session, test_id: str) -> TestRow:
        test = session.get(TestRow, test_id)
        if test is None:
            raise ListeningError(f"there is no listening test with id {test_id!r}; check the link you were given")
        return test

    def _rater(self, session: Session, token: str) -> tuple[RaterRow, TestRow]:
        rater = session.scalar(select(RaterRow).where(RaterRow.token_hash == _hash(token or "")))
        if rater is None:
            raise ListeningError("this rater session is unknown (the test may have been deleted); join the test again")
        return rater, self._test(session, rater.test_id)

    def _current(self, session: Session, rater: RaterRow) -> AssignmentRow | None:
        voted = select(VoteRow.trial_id).where(VoteRow.rater_id == rater.id)
        return session.scalar(select(AssignmentRow)
                              .where(AssignmentRow.rater_id == rater.id, AssignmentRow.trial_id.not_in(voted))
                              .order_by(AssignmentRow.position).limit(1))

    def _served(self, session: Session, rater: RaterRow) -> AssignmentRow:
        assignment = self._current(session, rater)
        if assignment is None:
            raise ListeningError("you have rated every trial of this test; thank you")
        if assignment.served_at is None:
            raise ListeningError("this trial has not been served yet; load it before playing or voting")
        return assignment

    def _load(self, relative_path: str) -> Audio:
        """A sample with fresh ±1 LSB dither (inaudible, about -90 dBFS): each serving is a different
        file, so a player URL or content hash cannot reveal an identical pair or a repeated sample."""
        audio = load_audio(self.store.data_dir / relative_path)
        dither = self._numpy_random.integers(-1, 2, len(audio.samples)) / 32767
        return Audio(np.clip(audio.samples + dither, -1.0, 1.0).astype(np.float32), audio.sample_rate)

    def _folder(self, name: str) -> Path:
        path = self.store.data_dir / "listening" / name
        path.mkdir(parents=True, exist_ok=True)
        return path

    def _test_folder(self, test_id: str) -> Path:
        return self.store.data_dir / "listening" / "tests" / test_id


def _count(session: Session, model: type[TrialRow | RaterRow | VoteRow], test_id: str) -> int:
    return session.scalar(select(func.count()).select_from(model).where(model.test_id == test_id)) or 0


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _played_sides(assignment: AssignmentRow, sides: int) -> tuple[Slot, ...]:
    played = {"A": assignment.played_a_at, "B": assignment.played_b_at}
    return tuple(slot for slot in ("A", "B")[:sides] if played[slot] is not None)  # type: ignore[misc]


def _displayed(assignment: AssignmentRow) -> list[SampleRow]:
    """The trial's samples in the order this rater sees them."""
    trial = assignment.trial
    samples = [trial.sample_a] + ([trial.sample_b] if trial.sample_b is not None else [])
    return samples[::-1] if assignment.swapped else samples


def _trial_plan(options: TestOptions, systems: list[str], items: list[str],
                rng: random.Random) -> list[tuple[str, str, str | None, bool]]:
    """(item, system A, system B or None, is attention check) for every trial of a new test."""
    if options.kind == "ab":
        trials = [(item, a, b, False) for item in items for a, b in itertools.combinations(systems, 2)]
        checks = [(item, s, s, True) for item, s in _picks(items, systems, options.attention_checks, rng)]
    elif options.kind == "mos":
        trials = [(item, s, None, False) for item in items for s in systems]
        checks = [(item, s, None, True) for item, s in _picks(items, systems, options.attention_checks, rng)]
    else:
        reference = options.reference_system or ""
        trials = [(item, reference, s, False) for item in items for s in systems if s != reference]
        checks = [(item, reference, reference, True) for item, _ in _picks(items, [reference],
                                                                             options.attention_checks, rng)]
    return trials + checks


def _picks(items: list[str], systems: list[str], count: int, rng: random.Random) -> list[tuple[str, str]]:
    """`count` distinct (item, system) pairs, repeating only when there are fewer pairs than checks."""
    pairs = [(item, system) for item in items for system in systems]
    picks = rng.sample(pairs, min(count, len(pairs)))
    return picks + [rng.choice(pairs) for _ in range(count - len(picks))]
