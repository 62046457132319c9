"""MUSHRA (ITU-R BS.1534-3): trial assembly, anchors, the playback rule, post-screening, results and export."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select

from studio.audio import Audio
from studio.errors import ConfigError
from studio.listening import ListeningError, TestOptions
from studio.listening.export import leaderboard_from_export, read_votes
from studio.listening.loudness import integrated_lufs
from studio.listening.models import AssignmentRow, StimulusOrderRow, StimulusRow
from studio.listening.mushra import low_pass
from studio.listening.quality import rater_quality
from studio.listening.records import VoteRecord
from tests.listening.factories import (band_fraction, noise_folders, rate_all_mushra,
                                       rate_by_bandwidth)

CODECS = {"original": None, "codec_wide": 10000.0, "codec_narrow": 8500.0}  # None: full band


def mushra_test(service, root, items: int = 2, mid_anchor: bool = True, **options):
    folders = noise_folders(root, CODECS, items)
    return service.create_from_folders(
        TestOptions("codecs", "mushra", reference_system="original", mid_anchor=mid_anchor, **options), folders)


def conditions_in_order(service, rater_id: int) -> list[tuple[str, ...]]:
    """Each trial's stimuli as (role, system name) in the order this rater was shown them."""
    with service.store.transaction() as session:
        assignments = session.scalars(select(AssignmentRow).where(AssignmentRow.rater_id == rater_id)
                                      .order_by(AssignmentRow.position)).all()
        return [tuple(f"{o.stimulus.role}:{o.stimulus.sample.system.name}" for o in a.stimuli) for a in assignments]


def test_a_trial_holds_the_reference_the_hidden_reference_the_anchors_and_the_systems(service, tmp_path):
    made = mushra_test(service, tmp_path / "src", items=2, mid_anchor=True)
    assert made.kind == "mushra" and made.trials == 2  # one trial per item, every condition on one screen
    assert set(made.systems) == {"original", "codec_wide", "codec_narrow", "anchor 3.5 kHz", "anchor 7 kHz"}
    rater = service.join(made.id)
    trial = service.current_trial(rater.token)
    assert trial.names == ("R", "1", "2", "3", "4", "5")  # labelled reference, then 5 rated stimuli
    assert "original" not in repr(trial) and "anchor" not in repr(trial)
    # Every sample, the anchors included, is loudness-matched.
    assert [integrated_lufs(a) for a in trial.slots] == pytest.approx([made.target_lufs] * 6, abs=0.3)
    # Told apart by measurement alone: the hidden reference matches the labelled one (up to the ±1 LSB dither),
    # the 3.5 kHz anchor holds almost nothing above 3.5 kHz, the 7 kHz anchor nothing above 7 kHz.
    reference, stimuli = trial.slots[0], trial.slots[1:]
    assert sum(np.max(np.abs(s.samples - reference.samples)) < 1e-3 for s in stimuli) == 1
    assert band_fraction(reference, 3500) > 0.5
    low = [s for s in stimuli if band_fraction(s, 3500) < 0.01]
    assert len(low) == 1 and band_fraction(low[0], 4000) < 5e-4
    mid = [s for s in stimuli if band_fraction(s, 3500) > 0.1 and band_fraction(s, 7000) < 0.01]
    assert len(mid) == 1 and band_fraction(mid[0], 7700) < 5e-4
    roles = conditions_in_order(service, 1)[0]
    assert sorted(roles) == sorted(["hidden_reference:original", "anchor:anchor 3.5 kHz", "anchor:anchor 7 kHz",
                                    "system:codec_wide", "system:codec_narrow"])


def test_stimulus_order_is_shuffled_per_rater(service, tmp_path):
    made = mushra_test(service, tmp_path / "src", items=1)
    for _ in range(8):
        service.join(made.id)
    orders = {conditions_in_order(service, rater)[0] for rater in range(1, 9)}
    assert len(orders) > 1  # 8 raters over 5! orders: the chance all eight agree is 1 in 120^7


def test_the_low_anchor_is_band_limited_and_a_reference_too_narrow_for_an_anchor_is_refused():
    noise = Audio(np.random.default_rng(0).uniform(-0.3, 0.3, 24000).astype(np.float32), 24000)
    anchor = low_pass(noise, 3500)
    assert len(anchor.samples) == len(noise.samples)
    assert band_fraction(noise, 3500) > 0.7 and band_fraction(anchor, 3500) < 0.01
    assert band_fraction(anchor, 4000) < 5e-4  # -33 dB and falling: the 12th-order filter applied both ways
    assert band_fraction(low_pass(noise, 7000), 7700) < 5e-4
    with pytest.raises(ConfigError, match="sampled at 12000 Hz"):
        low_pass(Audio(noise.samples[:12000], 12000), 7000)


def test_every_stimulus_must_be_played_before_rating(service, tmp_path, clock):
    made = mushra_test(service, tmp_path / "src", items=1, mid_anchor=False)
    token = service.join(made.id).token
    trial = service.current_trial(token)
    with pytest.raises(ListeningError, match="play sample R, 1, 2, 3 and 4 to the end before rating"):
        service.rate(token, [50] * 4)
    with pytest.raises(ListeningError, match="MUSHRA test"):
        service.vote(token, "A")
    clock.advance(max(a.duration for a in trial.slots))
    for name in trial.names[:-1]:
        service.confirm_played(token, name)
    with pytest.raises(ListeningError, match="play sample 4 to the end"):
        service.rate(token, [50] * 4)
    assert service.confirm_played(token, "4") == ("R", "1", "2", "3", "4")
    with pytest.raises(ListeningError, match="no side '9'"):
        service.confirm_played(token, "9")
    with pytest.raises(ConfigError, match="4 samples but 3 ratings"):
        service.rate(token, [50] * 3)
    with pytest.raises(ConfigError, match="between 0 and 100"):
        service.rate(token, [50, 50, 101, 50])
    service.rate(token, [100, 20, 80, 60])
    assert service.current_trial(token) is None
    assert len(service.vote_records(made.id)) == 4  # one record per rating


def test_post_screening_excludes_a_rater_who_misses_the_hidden_reference(service, tmp_path, clock):
    made = mushra_test(service, tmp_path / "src", items=3)
    careful, sloppy = service.join(made.id).token, service.join(made.id).token
    rate_all_mushra(service, clock, careful, rate_by_bandwidth)
    rate_all_mushra(service, clock, sloppy, lambda trial: [70.0] * (len(trial.slots) - 1))  # never gives 90+
    quality = service.rater_quality(made.id)
    assert (quality[1].flagged, quality[1].missed_references, quality[1].references) == (False, 0, 3)
    assert (quality[2].flagged, quality[2].missed_references) == (True, 3)
    assert "hidden reference below 90 in 3 of 3 trials" in quality[2].reasons[0]

    results = service.results(made.id)
    board = results.board
    assert (board.raters_used, board.raters_flagged, board.votes_used) == (1, 1, 15)
    means = {row.system: row.mean for row in board.rows}
    assert board.rows[0].system == "original" and means["original"] == 100  # the hidden reference
    assert means["anchor 3.5 kHz"] < means["anchor 7 kHz"] < means["codec_narrow"] < means["codec_wide"] < 100
    assert board.rows[-1].system == "anchor 3.5 kHz"
    assert len(results.per_item) == 3 * 5 and set(results.per_item["item"]) == {"utt0", "utt1", "utt2"}
    assert service.leaderboard(made.id, include_flagged=True).raters_used == 2

    files = service.export(made.id, folder=tmp_path / "export")
    exported = read_votes(files.votes)
    assert len(exported) == 2 * 3 * 5  # every rating of every rater, the excluded one included
    assert {r.value for r in exported if r.rater_id == 2} == {70.0}
    pd.testing.assert_frame_equal(leaderboard_from_export(files.votes).to_frame(), board.to_frame(),
                                  check_exact=True)


def hidden_reference_votes(rater: int, ratings: list[float]) -> list[VoteRecord]:
    return [VoteRecord("t", "mushra", n, rater, n, f"utt{n}", 1, 1, "ref", "ref", False, "", False, value, 9.0, 5.0,
                       0.0) for n, value in enumerate(ratings)]


def test_post_screening_allows_up_to_fifteen_percent_of_trials_missed():
    kept = hidden_reference_votes(1, [100, 95, 85, 100, 90, 100, 98])  # 1 of 7 = 14% below 90
    excluded = hidden_reference_votes(2, [100, 80, 85, 100, 90, 100, 98])  # 2 of 7 = 29%
    quality = rater_quality(kept + excluded)
    assert (quality[1].flagged, quality[1].missed_references) == (False, 1)
    assert (quality[2].flagged, quality[2].missed_references) == (True, 2)


def test_mushra_options_are_checked(service, tmp_path):
    with pytest.raises(ConfigError, match="needs a reference system"):
        TestOptions("t", "mushra")
    with pytest.raises(ConfigError, match="mid anchor belongs to MUSHRA"):
        TestOptions("t", "ab", mid_anchor=True)
    folders = noise_folders(tmp_path / "src", {"original": None, "anchor 3.5 kHz": 5000.0}, 1)
    with pytest.raises(ConfigError, match="name of a MUSHRA anchor"):
        service.create_from_folders(TestOptions("t", "mushra", reference_system="original"), folders)


def test_the_stimulus_order_rows_cascade_with_the_test(service, tmp_path):
    made = mushra_test(service, tmp_path / "src", items=1)
    service.join(made.id)
    service.delete_test(made.id)
    with service.store.transaction() as session:
        assert session.scalars(select(StimulusRow)).all() == []
        assert session.scalars(select(StimulusOrderRow)).all() == []


def test_the_same_ratings_sent_twice_count_once(service, tmp_path, clock):
    made = mushra_test(service, tmp_path / "src", items=1, mid_anchor=False)
    token = service.join(made.id).token
    trial = service.current_trial(token)
    clock.advance(max(a.duration for a in trial.slots))
    for name in trial.names:
        service.confirm_played(token, name)
    service.rate(token, [100, 20, 80, 60], trial.position)
    service.rate(token, [100, 20, 80, 60], trial.position)  # a retry after a lost reply
    with pytest.raises(ListeningError, match=f"trial {trial.position} already has your vote"):
        service.rate(token, [90, 20, 80, 60], trial.position)
    assert len(service.vote_records(made.id)) == 4
