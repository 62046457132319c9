"""The database tables of listening tests (SQLAlchemy 2 declarative models).

Times are Unix seconds (float) taken from the server's clock, never from the browser.
A rater's secret token is stored only as its SHA-256 hash.
"""

from __future__ import annotations

from sqlalchemy import Boolean, Float, ForeignKey, Integer, String, Text, UniqueConstraint, false
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship


class Base(DeclarativeBase):
    pass


class TestRow(Base):
    __tablename__ = "listening_tests"
    __test__ = False  # not a pytest class

    id: Mapped[str] = mapped_column(String(16), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[str] = mapped_column(String(8))  # "ab", "mos", "cmos" or "mushra"
    status: Mapped[str] = mapped_column(String(8), default="open")  # "open" or "closed"
    created_at: Mapped[float] = mapped_column(Float)
    target_lufs: Mapped[float] = mapped_column(Float)  # integrated loudness every sample was matched to
    reference_system: Mapped[str | None] = mapped_column(String(200), nullable=True)  # CMOS and MUSHRA only
    max_failed_checks: Mapped[int] = mapped_column(Integer)
    min_listen_ratio: Mapped[float] = mapped_column(Float)
    max_rushed_fraction: Mapped[float] = mapped_column(Float)
    # added after the first release: the server default fills the rows of databases made before it
    leaderboard_hidden: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

    systems: Mapped[list[SystemRow]] = relationship(back_populates="test", cascade="all, delete-orphan",
                                                    order_by="SystemRow.position")


class SystemRow(Base):
    __tablename__ = "listening_systems"
    __table_args__ = (UniqueConstraint("test_id", "name"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[str] = mapped_column(ForeignKey("listening_tests.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))  # never shown to raters
    position: Mapped[int] = mapped_column(Integer)

    test: Mapped[TestRow] = relationship(back_populates="systems")


class SampleRow(Base):
    __tablename__ = "listening_samples"
    __table_args__ = (UniqueConstraint("system_id", "item"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[str] = mapped_column(ForeignKey("listening_tests.id", ondelete="CASCADE"), index=True)
    system_id: Mapped[int] = mapped_column(ForeignKey("listening_systems.id", ondelete="CASCADE"))
    item: Mapped[str] = mapped_column(String(200))  # prompt id or file stem, shared across systems
    text: Mapped[str | None] = mapped_column(Text, nullable=True)  # the prompt, when known
    path: Mapped[str] = mapped_column(String(500))  # relative to the data folder, written by the server
    duration: Mapped[float] = mapped_column(Float)
    source_lufs: Mapped[float] = mapped_column(Float)  # loudness before matching

    system: Mapped[SystemRow] = relationship()


class TrialRow(Base):
    """One judgement: a pair (A/B, CMOS: A is the reference), a single sample (MOS), or a labelled
    reference (sample A) with its stimuli in `listening_stimuli` (MUSHRA)."""

    __tablename__ = "listening_trials"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[str] = mapped_column(ForeignKey("listening_tests.id", ondelete="CASCADE"), index=True)
    item: Mapped[str] = mapped_column(String(200))
    sample_a_id: Mapped[int] = mapped_column(ForeignKey("listening_samples.id", ondelete="CASCADE"))
    sample_b_id: Mapped[int | None] = mapped_column(ForeignKey("listening_samples.id", ondelete="CASCADE"),
                                                    nullable=True)
    is_attention: Mapped[bool] = mapped_column(Boolean, default=False)

    sample_a: Mapped[SampleRow] = relationship(foreign_keys=[sample_a_id])
    sample_b: Mapped[SampleRow | None] = relationship(foreign_keys=[sample_b_id])


class RaterRow(Base):
    __tablename__ = "listening_raters"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[str] = mapped_column(ForeignKey("listening_tests.id", ondelete="CASCADE"), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(100), default="")
    created_at: Mapped[float] = mapped_column(Float)


class AssignmentRow(Base):
    """A trial as one rater sees it: its place in that rater's order, its sides, what was served and played."""

    __tablename__ = "listening_assignments"
    __table_args__ = (UniqueConstraint("rater_id", "trial_id"), UniqueConstraint("rater_id", "position"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("listening_raters.id", ondelete="CASCADE"), index=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("listening_trials.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    swapped: Mapped[bool] = mapped_column(Boolean)  # True: the trial's sample B is shown on side A
    served_at: Mapped[float | None] = mapped_column(Float, nullable=True)
    played_a_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # displayed side A (MUSHRA: the
    played_b_at: Mapped[float | None] = mapped_column(Float, nullable=True)  # labelled reference) reached its end

    trial: Mapped[TrialRow] = relationship()
    stimuli: Mapped[list[StimulusOrderRow]] = relationship(order_by="StimulusOrderRow.position",
                                                           cascade="all, delete-orphan")  # MUSHRA only


class VoteRow(Base):
    __tablename__ = "listening_votes"
    __table_args__ = (UniqueConstraint("rater_id", "trial_id", name="one_vote_per_rater_per_trial"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    test_id: Mapped[str] = mapped_column(ForeignKey("listening_tests.id", ondelete="CASCADE"), index=True)
    rater_id: Mapped[int] = mapped_column(ForeignKey("listening_raters.id", ondelete="CASCADE"))
    trial_id: Mapped[int] = mapped_column(ForeignKey("listening_trials.id", ondelete="CASCADE"))
    answer: Mapped[str] = mapped_column(String(40))  # as the rater saw it, e.g. "A" or "4 Good"; MUSHRA: "ratings"
    value: Mapped[float] = mapped_column(Float)  # canonical: see studio.listening.kinds; MUSHRA: 0, the
    # ratings themselves are in listening_stimulus_ratings
    listen_seconds: Mapped[float] = mapped_column(Float)  # from serving the trial to the vote
    audio_seconds: Mapped[float] = mapped_column(Float)  # total length of the samples in the trial
    created_at: Mapped[float] = mapped_column(Float)

    rater: Mapped[RaterRow] = relationship()
    trial: Mapped[TrialRow] = relationship()
    ratings: Mapped[list[StimulusRatingRow]] = relationship(order_by="StimulusRatingRow.position",
                                                            viewonly=True)  # MUSHRA only


class DesignRow(Base):
    """How raters are given trials: all of them, or a balanced subset of `trials_per_rater` (tests made later)."""

    __tablename__ = "listening_designs"

    test_id: Mapped[str] = mapped_column(ForeignKey("listening_tests.id", ondelete="CASCADE"), primary_key=True)
    trials_per_rater: Mapped[int | None] = mapped_column(Integer, nullable=True)  # None = every trial


class StimulusRow(Base):
    """MUSHRA: one condition of a trial (hidden reference, anchor or system under test).

    The trial's `sample_a` is the labelled reference; its stimuli are what the rater rates.
    """

    __tablename__ = "listening_stimuli"
    __table_args__ = (UniqueConstraint("trial_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    trial_id: Mapped[int] = mapped_column(ForeignKey("listening_trials.id", ondelete="CASCADE"), index=True)
    position: Mapped[int] = mapped_column(Integer)  # canonical order, never shown
    sample_id: Mapped[int] = mapped_column(ForeignKey("listening_samples.id", ondelete="CASCADE"))
    role: Mapped[str] = mapped_column(String(16))  # "hidden_reference", "anchor" or "system"

    sample: Mapped[SampleRow] = relationship()


class StimulusOrderRow(Base):
    """MUSHRA: where one rater sees a stimulus (1-based, shuffled per rater) and when it was heard to the end."""

    __tablename__ = "listening_stimulus_order"
    __table_args__ = (UniqueConstraint("assignment_id", "position"), UniqueConstraint("assignment_id", "stimulus_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    assignment_id: Mapped[int] = mapped_column(ForeignKey("listening_assignments.id", ondelete="CASCADE"),
                                               index=True)
    stimulus_id: Mapped[int] = mapped_column(ForeignKey("listening_stimuli.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    played_at: Mapped[float | None] = mapped_column(Float, nullable=True)

    stimulus: Mapped[StimulusRow] = relationship()


class StimulusRatingRow(Base):
    """MUSHRA: one 0..100 rating of one stimulus, part of the rater's vote on the trial."""

    __tablename__ = "listening_stimulus_ratings"
    __table_args__ = (UniqueConstraint("vote_id", "stimulus_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    vote_id: Mapped[int] = mapped_column(ForeignKey("listening_votes.id", ondelete="CASCADE"), index=True)
    stimulus_id: Mapped[int] = mapped_column(ForeignKey("listening_stimuli.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)  # where the rater saw it
    value: Mapped[float] = mapped_column(Float)
