"""The listening-test service: create tests, serve blind trials to raters, take votes, rank systems.

Everything a rater does goes through a secret token made here (the page keeps it in the browser,
so a reload resumes at the next trial), so one browser cannot vote as another rater. A vote names
the trial it answers (its position), which makes it idempotent: a retry of a vote the server
already took (a lost reply, a restart) is acknowledged, never counted twice.
"Must play to the end" is enforced here, not only in the page: a side counts as played only
when its end is reported no sooner than the sample's duration after the trial was served,
and a vote is refused until every side has been played. A MUSHRA trial's sides are its labelled
reference ("R") and its stimuli ("1", "2", ... in this rater's shuffled order); it takes one
rating per stimulus through `rate` instead of one answer through `vote`.
"""

from __future__ import annotations

import hashlib
import hmac
import random
import secrets
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Callable, Mapping, Sequence

import numpy as np
import pandas as pd
import soundfile
from sqlalchemy import delete, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from studio.adapters.registry import Registry, System
from studio.audio import Audio, load_audio
from studio.errors import ConfigError
from studio.listening import mushra, sources
from studio.listening.design import Candidate, balanced_subset, design_cell, trial_plan
from studio.listening.errors import AdminOnly, ListeningError
from studio.listening.export import ExportFiles, write_export
from studio.listening.kinds import Kind, canonical_value, kind_info, mushra_rating
from studio.listening.loudness import DEFAULT_TARGET_LUFS, match_loudness
from studio.listening.models import (AssignmentRow, DesignRow, RaterRow, SampleRow, StimulusOrderRow,
                                     StimulusRatingRow, StimulusRow, SystemRow, TestRow, TrialRow, VoteRow)
from studio.listening.quality import RaterQuality, rater_quality
from studio.listening.records import QualityRules, VoteRecord
from studio.listening.settings import ListeningSettings
from studio.listening.stats import Leaderboard, StatsOptions, counted, coverage, leaderboard, per_item
from studio.listening.store import Store

Slot = str  # "A", "B"; MUSHRA: "R" (the labelled reference), "1", "2", ...
REFERENCE_SLOT = "R"
PLAYBACK_TOLERANCE_SECONDS = 0.1  # a browser may report "ended" a few ms short of the file's length
MAX_ATTENTION_CHECKS = 20


@dataclass(frozen=True)
class TestOptions:
    """How a new listening test is set up."""

    __test__ = False  # not a pytest class

    name: str
    kind: Kind = "ab"
    attention_checks: int = 2  # identical pairs (A/B, CMOS) or repeated samples (MOS) in every rater's list;
    # ignored by MUSHRA, whose hidden reference in every trial is the check
    target_lufs: float = DEFAULT_TARGET_LUFS  # lowered for the whole test when a sample would clip
    reference_system: str | None = None  # CMOS and MUSHRA only: what every other system is compared against
    quality: QualityRules = field(default_factory=QualityRules)
    mid_anchor: bool = False  # MUSHRA only: a 7 kHz low-pass anchor beside the mandatory 3.5 kHz one
    trials_per_rater: int | None = None  # None: every rater does every trial; n: a balanced subset of n trials
    # per rater (attention checks come on top, in every subset)

    def __post_init__(self) -> None:
        if not self.name.strip() or len(self.name) > 200:
            raise ConfigError("a listening test needs a name of 1 to 200 characters")
        kind_info(self.kind)
        if not 0 <= self.attention_checks <= MAX_ATTENTION_CHECKS:
            raise ConfigError(f"attention_checks must be between 0 and {MAX_ATTENTION_CHECKS}; "
                              f"got {self.attention_checks}")
        if not -60 <= self.target_lufs <= -5:
            raise ConfigError(f"target_lufs must be between -60 and -5 LUFS; got {self.target_lufs}")
        if (self.kind in ("cmos", "mushra")) != bool(self.reference_system):
            raise ConfigError("a CMOS or MUSHRA test needs a reference system, and only those kinds take one")
        if self.mid_anchor and self.kind != "mushra":
            raise ConfigError("the 7 kHz mid anchor belongs to MUSHRA tests; untick it or choose the mushra kind")
        if self.trials_per_rater is not None and self.trials_per_rater < 1:
            raise ConfigError(f"trials_per_rater must be 1 or more (or empty for every trial); "
                              f"got {self.trials_per_rater}")


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
    trials_per_rater: int | None = None  # None: every trial; else the balanced subset size (checks on top)
    leaderboard_hidden: bool = False  # True: only the admin sees the leaderboard until the test is closed


@dataclass(frozen=True)
class RaterSession:
    token: str  # the secret that identifies this rater; only their browser keeps it
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
    slots: tuple[Audio, ...]  # side A, then side B for pairwise kinds; MUSHRA: the reference, then the stimuli
    text: str | None  # the prompt read, when known
    names: tuple[Slot, ...] = ("A", "B")  # what each slot is called in `confirm_played` and messages


@dataclass(frozen=True)
class TestResults:
    """A test's leaderboard with what a test owner reads beside it."""

    __test__ = False

    board: Leaderboard
    quality: dict[int, RaterQuality]  # every rater, flagged or not, with the reasons
    coverage: pd.DataFrame  # votes per system pair (A/B) or system: how an incomplete design is covered
    per_item: pd.DataFrame | None  # MOS, CMOS, MUSHRA: mean and interval per system and item
    counted: list[VoteRecord]  # the votes behind `board` (MUSHRA: one per rating)


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

    def hide_leaderboard(self, test_id: str, hidden: bool, admin_token: str | None = None) -> TestSummary:
        """Hide the leaderboard from everyone without the admin token until the test is closed (or show it)."""
        self.check_admin(admin_token)
        with self.store.transaction() as session:
            self._test(session, test_id).leaderboard_hidden = hidden
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
        board = self.leaderboard(test_id, include_flagged, admin_token=admin_token)
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
            design = session.get(DesignRow, test_id)
            return TestSummary(test.id, test.name, test.kind, test.status,  # type: ignore[arg-type]
                               tuple(s.name for s in test.systems), items or 0, _count(session, TrialRow, test_id),
                               _count(session, RaterRow, test_id), _count(session, VoteRow, test_id), test.target_lufs,
                               design.trials_per_rater if design else None, test.leaderboard_hidden)

    def vote_records(self, test_id: str) -> list[VoteRecord]:
        """Every vote of the test, oldest first, as statistics and the export read them."""
        sample_a, sample_b = aliased(SampleRow), aliased(SampleRow)
        system_a, system_b = aliased(SystemRow), aliased(SystemRow)
        with self.store.transaction() as session:
            test = self._test(session, test_id)
            rules = QualityRules(test.max_failed_checks, test.min_listen_ratio, test.max_rushed_fraction)
            if test.kind == "mushra":
                return _mushra_records(session, test, rules)
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

    def leaderboard(self, test_id: str, include_flagged: bool = False, options: StatsOptions = StatsOptions(),
                    admin_token: str | None = None) -> Leaderboard:
        kind = self._visible_kind(test_id, admin_token)
        return leaderboard(self.vote_records(test_id), test_id, kind, include_flagged, options)

    def rater_quality(self, test_id: str) -> dict[int, RaterQuality]:
        return rater_quality(self.vote_records(test_id))

    def results(self, test_id: str, include_flagged: bool = False, options: StatsOptions = StatsOptions(),
                admin_token: str | None = None) -> TestResults:
        """Everything the results view shows, from one read of the votes."""
        kind = self._visible_kind(test_id, admin_token)
        records = self.vote_records(test_id)
        used = counted(records, include_flagged)
        return TestResults(leaderboard(records, test_id, kind, include_flagged, options), rater_quality(records),
                           coverage(records, kind), per_item(used, kind, options) if kind != "ab" else None,
                           used)

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
            design = session.get(DesignRow, test_id)
            if design is None or design.trials_per_rater is None:  # every trial: no coverage to read
                trial_ids = list(session.scalars(select(TrialRow.id).where(TrialRow.test_id == test_id)))
            else:
                trial_ids = balanced_subset(_candidates(session, test), _assigned(session, test_id),
                                            design.trials_per_rater, self._random)
            self._random.shuffle(trial_ids)
            pairwise = kind_info(test.kind).slots == 2
            assignments = [AssignmentRow(rater_id=rater.id, trial_id=trial_id, position=position,
                                         swapped=pairwise and self._random.random() < 0.5)
                           for position, trial_id in enumerate(trial_ids, start=1)]
            session.add_all(assignments)
            if test.kind == "mushra":
                self._shuffle_stimuli(session, assignments)
            return RaterSession(token, test.id, test.name, test.kind, len(trial_ids))  # type: ignore[arg-type]

    def resume(self, token: str) -> RaterSession:
        """The rater behind a token kept by their browser: after a reload they go on where they stopped."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            trials = _count_assignments(session, rater)
            return RaterSession(token, test.id, test.name, test.kind, trials)  # type: ignore[arg-type]

    def current_trial(self, token: str) -> TrialView | None:
        """The rater's next unvoted trial (its serving time is recorded once), or None when all are done."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            assignment = self._current(session, rater)
            if assignment is None:
                return None
            if assignment.served_at is None:
                assignment.served_at = self.clock()
            total = _count_assignments(session, rater)
            sides = _sides(assignment, test.kind)
            info = kind_info(test.kind)
            position, paths, text = assignment.position, [s.sample.path for s in sides], sides[0].sample.text
        # Files are read after the commit, so a rater's download never holds the database's write lock.
        return TrialView(position, total, test.kind, info.question,  # type: ignore[arg-type]
                         info.choices, tuple(self._load(path) for path in paths), text,
                         tuple(s.name for s in sides))

    def confirm_played(self, token: str, slot: Slot) -> tuple[Slot, ...]:
        """Record that side `slot` of the current trial played to its end (refused if that is too soon);
        returns the sides of this trial heard to the end so far."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            assignment = self._served(session, rater)
            sides = _sides(assignment, test.kind)
            side = next((s for s in sides if s.name == slot), None)
            if side is None:
                raise ListeningError(f"this trial has no side {slot!r}; it has {', '.join(s.name for s in sides)}")
            elapsed = self.clock() - (assignment.served_at or 0.0)
            if elapsed + PLAYBACK_TOLERANCE_SECONDS < side.sample.duration:
                raise ListeningError(
                    f"sample {slot} lasts {side.sample.duration:.1f} s but was served {elapsed:.1f} s ago; "
                    "play it to the end before it counts as heard")
            if side.played_at is None:
                setattr(side.holder, side.attribute, self.clock())
            return tuple(s.name for s in _sides(assignment, test.kind) if s.played_at is not None)

    def vote(self, token: str, answer: str, position: int | None = None) -> None:
        """The rater's answer to trial `position` (None: their current trial); refused until every side was
        played to the end. Sending the same answer to a trial already answered is a retry: accepted, not counted."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            if test.kind == "mushra":
                raise ListeningError("this is a MUSHRA test: rate every sample with its slider, then submit the "
                                     "ratings")
            assignment = self._to_answer(session, rater, test, position, answer, ())
            if assignment is None:
                return
            sides = _heard_all(assignment, test.kind, "voting")
            value = canonical_value(test.kind, answer, assignment.swapped)  # type: ignore[arg-type]
            self._add_vote(session, rater, assignment, sides, answer, value, ())

    def rate(self, token: str, ratings: Sequence[float], position: int | None = None) -> None:
        """A MUSHRA rater's 0..100 ratings of trial `position`'s stimuli (None: the current trial), in the order
        shown to them; refused until the reference and every stimulus were played to the end. The same ratings
        sent again for a trial already rated are a retry: accepted, not counted."""
        with self.store.transaction() as session:
            rater, test = self._rater(session, token)
            if test.kind != "mushra":
                raise ListeningError(f"{kind_info(test.kind).title} trials take one answer, not slider ratings")
            assignment = self._to_answer(session, rater, test, position, "ratings", ratings)
            if assignment is None:
                return
            sides = _heard_all(assignment, test.kind, "rating")
            order = assignment.stimuli
            if len(ratings) != len(order):
                raise ConfigError(f"this trial has {len(order)} samples but {len(ratings)} ratings came; "
                                  "rate every sample")
            values = [mushra_rating(v, f"the rating of sample {o.position}") for o, v in zip(order, ratings)]
            self._add_vote(session, rater, assignment, sides, "ratings", 0.0, values, order)

    # --- internals ---------------------------------------------------------------------------

    def _add_vote(self, session: Session, rater: RaterRow, assignment: AssignmentRow, sides: list[_Side],
                  answer: str, value: float, ratings: Sequence[float],
                  order: Sequence[StimulusOrderRow] = ()) -> None:
        """Insert the vote (and its MUSHRA ratings). Two copies of one vote racing each other (a retry sent
        while the first is still in flight) meet at the unique constraint: the loser is a retry if it
        carries the same answer, else refused."""
        now = self.clock()
        vote = VoteRow(test_id=rater.test_id, rater_id=rater.id, trial_id=assignment.trial_id, answer=answer,
                       value=value, listen_seconds=now - (assignment.served_at or now),
                       audio_seconds=sum(s.sample.duration for s in sides), created_at=now)
        try:
            with session.begin_nested():  # a savepoint: PostgreSQL's transaction stays usable after the clash
                session.add(vote)
                session.flush()
        except IntegrityError:
            earlier = session.scalar(select(VoteRow).where(VoteRow.rater_id == rater.id,
                                                           VoteRow.trial_id == assignment.trial_id))
            if _is_retry(earlier, answer, ratings, assignment.position):
                return
            raise ListeningError("this trial already has your vote; each rater votes once per trial") from None
        session.add_all(StimulusRatingRow(vote_id=vote.id, stimulus_id=o.stimulus_id, position=o.position,
                                          value=v) for o, v in zip(order, ratings))

    def _shuffle_stimuli(self, session: Session, assignments: list[AssignmentRow]) -> None:
        """MUSHRA: each rater sees each trial's stimuli in their own random order."""
        session.flush()
        stimuli: dict[int, list[int]] = {}
        for trial_id, stimulus_id in session.execute(
                select(StimulusRow.trial_id, StimulusRow.id)
                .where(StimulusRow.trial_id.in_([a.trial_id for a in assignments]))):
            stimuli.setdefault(trial_id, []).append(stimulus_id)
        for assignment in assignments:
            ids = stimuli[assignment.trial_id]
            self._random.shuffle(ids)
            session.add_all(StimulusOrderRow(assignment_id=assignment.id, stimulus_id=stimulus_id, position=n)
                            for n, stimulus_id in enumerate(ids, start=1))

    def _create(self, options: TestOptions, samples: sources.SystemSamples) -> TestSummary:
        if options.reference_system and options.reference_system not in samples:
            raise ConfigError(f"the reference system {options.reference_system!r} is not among the systems: "
                              f"{', '.join(samples)}")
        systems = list(samples)
        items = sorted(next(iter(samples.values())))
        anchor_names = [a.name for a in mushra.anchors(options.mid_anchor)] if options.kind == "mushra" else []
        plan = trial_plan(options.kind, systems, items, options.attention_checks, options.reference_system,
                          anchor_names, self._random)
        regular = sum(not t.is_attention for t in plan)
        if options.trials_per_rater is not None and options.trials_per_rater > regular:
            raise ConfigError(f"trials per rater is {options.trials_per_rater} but the test has only {regular} "
                              "trials besides the attention checks; lower it, or leave it empty for every trial")
        if anchor_names:
            conditions = len(plan[0].stimuli)
            if conditions > mushra.MAX_STIMULI:
                raise ConfigError(f"this MUSHRA test would put {conditions} samples on one screen (hidden reference, "
                                  f"{len(anchor_names)} anchor(s), {len(systems) - 1} systems); the limit is "
                                  f"{mushra.MAX_STIMULI}: split the systems over several tests")
            samples = _with_anchors(samples, options)
            systems = list(samples)
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
                if options.trials_per_rater is not None:  # after the flush: no relationship orders it after the test
                    session.add(DesignRow(test_id=test_id, trials_per_rater=options.trials_per_rater))
                trials = [TrialRow(test_id=test_id, item=t.item, sample_a_id=sample_rows[t.system_a, t.item].id,
                                   sample_b_id=sample_rows[t.system_b, t.item].id if t.system_b else None,
                                   is_attention=t.is_attention) for t in plan]
                session.add_all(trials)
                session.flush()
                session.add_all(StimulusRow(trial_id=trial.id, position=n, role=role,
                                            sample_id=sample_rows[condition, planned.item].id)
                                for trial, planned in zip(trials, plan)
                                for n, (condition, role) in enumerate(planned.stimuli, start=1))
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

    def _to_answer(self, session: Session, rater: RaterRow, test: TestRow, position: int | None, answer: str,
                   ratings: Sequence[float]) -> AssignmentRow | None:
        """The assignment a vote for trial `position` answers, or None when the vote is a retry of one the
        database already holds. The current trial is read first: once it has moved past `position`, the
        vote that moved it is committed and visible to the next read (also under read-committed isolation)."""
        current = self._current(session, rater)
        if position is not None and (current is None or current.position != position):
            if _is_retry(_vote_at(session, rater, position), answer, ratings, position):
                return None
            if current is not None:
                raise ListeningError(f"this vote is for trial {position} but your current trial is "
                                     f"{current.position}; reload the page to see it")
        if test.status != "open":
            raise ListeningError(f"the listening test {test.name!r} was closed; it takes no more votes")
        return self._served(session, rater, current)

    def _served(self, session: Session, rater: RaterRow, assignment: AssignmentRow | None = None) -> AssignmentRow:
        assignment = assignment or self._current(session, rater)
        if assignment is None:
            raise ListeningError("you have rated every trial of this test; thank you")
        if assignment.served_at is None:
            raise ListeningError("this trial has not been served yet; load it before playing or voting")
        return assignment

    def _visible_kind(self, test_id: str, admin_token: str | None) -> Kind:
        """The test's kind, once it is clear the caller may see its leaderboard."""
        summary = self.summary(test_id)
        if summary.leaderboard_hidden and summary.status == "open":
            try:
                self.check_admin(admin_token)
            except AdminOnly:
                raise ListeningError(f"the leaderboard of {summary.name!r} is hidden until the test is closed"
                                     ) from None
        return summary.kind

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


def _count_assignments(session: Session, rater: RaterRow) -> int:
    return session.scalar(select(func.count()).select_from(AssignmentRow)
                          .where(AssignmentRow.rater_id == rater.id)) or 0


def _vote_at(session: Session, rater: RaterRow, position: int | None) -> VoteRow | None:
    """The rater's vote on the trial at `position` in their order, if they cast one."""
    if position is None:
        return None
    return session.scalar(select(VoteRow).join(AssignmentRow, (AssignmentRow.rater_id == VoteRow.rater_id)
                                               & (AssignmentRow.trial_id == VoteRow.trial_id))
                          .where(VoteRow.rater_id == rater.id, AssignmentRow.position == position))


def _is_retry(earlier: VoteRow | None, answer: str, ratings: Sequence[float], position: int | None = None) -> bool:
    """True when `earlier` is this very vote sent before (same answer, same MUSHRA ratings);
    refused when the rater already voted differently on that trial."""
    if earlier is None:
        return False
    stored = [r.value for r in sorted(earlier.ratings, key=lambda r: r.position)]
    if earlier.answer != answer or stored != [float(v) for v in ratings]:
        where = f"trial {position}" if position is not None else "this trial"
        raise ListeningError(f"{where} already has your vote ({earlier.answer}); each rater votes once per trial")
    return True


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


@dataclass(frozen=True)
class _Side:
    """One thing a rater must hear in a trial, and the row and column that record when they did."""

    name: Slot
    sample: SampleRow
    holder: AssignmentRow | StimulusOrderRow
    attribute: str

    @property
    def played_at(self) -> float | None:
        return getattr(self.holder, self.attribute)


def _sides(assignment: AssignmentRow, kind: str) -> list[_Side]:
    """The trial's samples in the order this rater sees them."""
    trial = assignment.trial
    if kind == "mushra":
        return [_Side(REFERENCE_SLOT, trial.sample_a, assignment, "played_a_at")] + [
            _Side(str(o.position), o.stimulus.sample, o, "played_at") for o in assignment.stimuli]
    samples = [trial.sample_a] + ([trial.sample_b] if trial.sample_b is not None else [])
    samples = samples[::-1] if assignment.swapped else samples
    return [_Side(name, sample, assignment, attribute)
            for name, sample, attribute in zip("AB", samples, ("played_a_at", "played_b_at"))]


def _heard_all(assignment: AssignmentRow, kind: str, action: str) -> list[_Side]:
    sides = _sides(assignment, kind)
    unplayed = [s.name for s in sides if s.played_at is None]
    if unplayed:
        names = unplayed[0] if len(unplayed) == 1 else f"{', '.join(unplayed[:-1])} and {unplayed[-1]}"
        raise ListeningError(f"play sample {names} to the end before {action}")
    return sides


def _candidates(session: Session, test: TestRow) -> list[Candidate]:
    sample_a, sample_b = aliased(SampleRow), aliased(SampleRow)
    system_a, system_b = aliased(SystemRow), aliased(SystemRow)
    rows = session.execute(
        select(TrialRow.id, TrialRow.item, TrialRow.is_attention, system_a.name, system_b.name)
        .join(sample_a, TrialRow.sample_a_id == sample_a.id).join(system_a, sample_a.system_id == system_a.id)
        .outerjoin(sample_b, TrialRow.sample_b_id == sample_b.id)
        .outerjoin(system_b, sample_b.system_id == system_b.id)
        .where(TrialRow.test_id == test.id).order_by(TrialRow.id))
    return [Candidate(trial_id, design_cell(test.kind, item, a, b), attention)
            for trial_id, item, attention, a, b in rows]


def _assigned(session: Session, test_id: str) -> dict[int, int]:
    """How many raters have each trial of the test."""
    return dict(session.execute(  # type: ignore[arg-type]
        select(AssignmentRow.trial_id, func.count()).join(TrialRow, AssignmentRow.trial_id == TrialRow.id)
        .where(TrialRow.test_id == test_id).group_by(AssignmentRow.trial_id)).all())


def _with_anchors(samples: sources.SystemSamples, options: TestOptions) -> sources.SystemSamples:
    """MUSHRA: the samples plus each anchor, made from the reference system's sample of every item."""
    reference = options.reference_system or ""
    taken = sorted(set(samples) & set(mushra.reserved_names()))
    if taken:
        raise ConfigError(f"{', '.join(taken)} is the name of a MUSHRA anchor the studio makes; rename that system")
    result = dict(samples)
    for anchor in mushra.anchors(options.mid_anchor):
        result[anchor.name] = {
            item: replace(sample, audio=mushra.low_pass(sample.audio, anchor.cutoff_hz, f"{reference}/{item}"))
            for item, sample in samples[reference].items()}
    return result


def _mushra_records(session: Session, test: TestRow, rules: QualityRules) -> list[VoteRecord]:
    """One record per rating: system A is the rated condition, system B the trial's reference
    (so a hidden-reference rating is one where the two are the same)."""
    stimulus_sample, reference_sample = aliased(SampleRow), aliased(SampleRow)
    stimulus_system, reference_system = aliased(SystemRow), aliased(SystemRow)
    rows = session.execute(
        select(StimulusRatingRow, VoteRow, TrialRow, stimulus_sample.id, stimulus_system.name, reference_system.name)
        .join(VoteRow, StimulusRatingRow.vote_id == VoteRow.id)
        .join(TrialRow, VoteRow.trial_id == TrialRow.id)
        .join(StimulusRow, StimulusRatingRow.stimulus_id == StimulusRow.id)
        .join(stimulus_sample, StimulusRow.sample_id == stimulus_sample.id)
        .join(stimulus_system, stimulus_sample.system_id == stimulus_system.id)
        .join(reference_sample, TrialRow.sample_a_id == reference_sample.id)
        .join(reference_system, reference_sample.system_id == reference_system.id)
        .where(VoteRow.test_id == test.id)
        .order_by(VoteRow.id, StimulusRatingRow.position)
    ).all()
    return [
        VoteRecord(test.id, test.kind, rating.id, vote.rater_id, trial.id, trial.item, sample_id, trial.sample_a_id,
                   condition, reference, False, f"sample {rating.position}: {rating.value:g}", False, rating.value,
                   vote.listen_seconds, vote.audio_seconds, vote.created_at, rules)
        for rating, vote, trial, sample_id, condition, reference in rows
    ]
