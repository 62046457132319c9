"""The listening service: blind serving, server-side playback rules, one vote per trial, admin, export."""

from __future__ import annotations

import zipfile

import numpy as np
import pandas as pd
import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import IntegrityError

from studio.errors import AudioError, ConfigError
from studio.listening import AdminOnly, ListeningError, ListeningService, ListeningSettings, TestOptions
from studio.listening.export import leaderboard_from_export
from studio.listening.loudness import integrated_lufs
from studio.listening.sources import systems_from_lines
from studio.listening.models import AssignmentRow, RaterRow, VoteRow
from tests.listening.factories import (ab_test, dominant_hz, make_service, prefer_higher_pitch, rate_all,
                                       tone_folders)

ADMIN = "correct-horse-battery"


def test_samples_are_loudness_matched_and_served_blind(service, tmp_path):
    made = ab_test(service, tmp_path / "src", {"quiet": 0.05, "loud": 0.6}, items=2, attention_checks=1)
    assert (made.systems, made.items, made.trials) == (("quiet", "loud"), 2, 3)
    rater = service.join(made.id, "ann")
    trial = service.current_trial(rater.token)
    assert trial.total == 3 and trial.kind == "ab" and len(trial.slots) == 2
    loudness = [integrated_lufs(audio) for audio in trial.slots]
    assert loudness == pytest.approx([made.target_lufs] * 2, abs=0.3)  # a 22 dB difference is gone
    assert "quiet" not in repr(trial) and "loud" not in repr(trial)


def test_sqlite_runs_in_wal_mode_in_the_data_folder(tmp_path):
    service = make_service(tmp_path / "data")
    assert (tmp_path / "data" / "studio.db").is_file()
    with service.store.engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"


def test_sides_and_order_are_randomised_per_rater_and_votes_map_back_to_systems(service, tmp_path, clock):
    made = ab_test(service, tmp_path / "src", {"low": 0.3, "mid": 0.3, "high": 0.3}, items=2, attention_checks=1)
    tokens = [service.join(made.id).token for _ in range(6)]
    for token in tokens:
        assert rate_all(service, clock, token, prefer_higher_pitch) == made.trials
    with service.store.transaction() as session:
        orders = {tuple(session.scalars(select(AssignmentRow.trial_id).where(AssignmentRow.rater_id == r)
                                        .order_by(AssignmentRow.position))) for r in range(1, 7)}
        swaps = set(session.scalars(select(AssignmentRow.swapped)))
    assert len(orders) > 1 and swaps == {True, False}
    board = service.leaderboard(made.id)
    assert board.systems == ["high", "mid", "low"]
    assert {row.system: (row.wins, row.losses) for row in board.rows} == {"high": (24, 0), "mid": (12, 12),
                                                                          "low": (0, 24)}
    assert board.raters_flagged == 0


def test_no_vote_before_every_side_has_played_to_its_end(service, tmp_path, clock):
    made = ab_test(service, tmp_path / "src")
    token = service.join(made.id).token
    with pytest.raises(ListeningError, match="not been served"):
        service.confirm_played(token, "A")
    trial = service.current_trial(token)
    with pytest.raises(ListeningError, match="play sample A and B to the end"):
        service.vote(token, "A")
    clock.advance(trial.slots[0].duration / 2)
    with pytest.raises(ListeningError, match="play it to the end"):  # an "ended" report that comes too soon
        service.confirm_played(token, "A")
    clock.advance(trial.slots[0].duration / 2)
    assert service.confirm_played(token, "A") == ("A",)
    with pytest.raises(ListeningError, match="play sample B"):
        service.vote(token, "A")
    clock.advance(trial.slots[1].duration)
    assert service.confirm_played(token, "B") == ("A", "B")
    with pytest.raises(ConfigError, match="not an answer"):
        service.vote(token, "C")
    service.vote(token, "A")
    assert service.summary(made.id).votes == 1


def test_a_rater_cannot_vote_twice_on_a_trial(service, tmp_path, clock, monkeypatch):
    made = ab_test(service, tmp_path / "src")
    token = service.join(made.id).token
    trial = service.current_trial(token)
    for slot, audio in zip("AB", trial.slots):
        clock.advance(audio.duration)
        service.confirm_played(token, slot)
    service.vote(token, "B")
    with pytest.raises(ListeningError, match="not been served"):  # the next trial is now current, unserved
        service.vote(token, "B")
    # A race that hands both requests the same trial ends at the database's unique constraint.
    with service.store.transaction() as session:
        voted = session.scalar(select(VoteRow.trial_id))
        assignment_id = session.scalar(select(AssignmentRow.id).where(AssignmentRow.trial_id == voted))
    monkeypatch.setattr(service, "_current", lambda session, rater: session.get(AssignmentRow, assignment_id))
    with pytest.raises(ListeningError, match="already has your vote"):
        service.vote(token, "A")
    with pytest.raises(IntegrityError), service.store.transaction() as session:
        vote = session.scalars(select(VoteRow)).one()
        session.add(VoteRow(test_id=vote.test_id, rater_id=vote.rater_id, trial_id=vote.trial_id, answer="A",
                            value=1.0, listen_seconds=9.0, audio_seconds=1.2, created_at=0.0))
    assert service.summary(made.id).votes == 1


def test_rater_tokens_are_secret_and_unforgeable(service, tmp_path):
    made = ab_test(service, tmp_path / "src")
    rater = service.join(made.id)
    with service.store.transaction() as session:
        stored = session.scalars(select(RaterRow.token_hash)).one()
    assert rater.token not in stored and len(rater.token) >= 40
    for forged in ("", "1", stored):
        with pytest.raises(ListeningError, match="rater session is unknown"):
            service.current_trial(forged)


def test_failed_attention_checks_and_rushed_votes_flag_a_rater(service, tmp_path, clock):
    made = ab_test(service, tmp_path / "src", {"low": 0.3, "high": 0.3}, items=3, attention_checks=2)
    careful, careless, rushed = (service.join(made.id).token for _ in range(3))
    rate_all(service, clock, careful, prefer_higher_pitch)
    rate_all(service, clock, careless, lambda trial: "B")  # picks a side even on identical pairs
    while (trial := service.current_trial(rushed)) is not None:  # plays both sides at once, then votes
        clock.advance(trial.slots[0].duration)
        service.confirm_played(rushed, "A")
        service.confirm_played(rushed, "B")
        service.vote(rushed, prefer_higher_pitch(trial))
    quality = service.rater_quality(made.id)
    assert [q.flagged for q in quality.values()] == [False, True, True]
    assert quality[2].failed_checks == 2 and quality[3].rushed_votes == 5
    default = service.leaderboard(made.id)
    assert (default.votes_used, default.raters_used, default.raters_flagged) == (3, 1, 2)
    assert service.leaderboard(made.id, include_flagged=True).votes_used == 9


def test_export_alone_recomputes_the_live_leaderboard(service, tmp_path, clock):
    made = ab_test(service, tmp_path / "src", {"a": 0.2, "b": 0.3, "c": 0.4}, items=2, attention_checks=1)
    rng = np.random.default_rng(0)
    for _ in range(5):
        rate_all(service, clock, service.join(made.id).token,
                 lambda trial: str(rng.choice(["A", "B", "No preference"])))
    rate_all(service, clock, service.join(made.id).token, lambda trial: "A")  # fails the identical-pair check
    for include_flagged in (False, True):
        live = service.leaderboard(made.id, include_flagged)
        files = service.export(made.id, include_flagged=include_flagged, folder=tmp_path / f"export-{include_flagged}")
        again = leaderboard_from_export(files.votes, include_flagged)
        pd.testing.assert_frame_equal(again.to_frame(), live.to_frame(), check_exact=True)
        np.testing.assert_array_equal(np.array(again.win_rate), np.array(live.win_rate))
        assert (again.votes_used, again.raters_flagged) == (live.votes_used, live.raters_flagged)
        pd.testing.assert_frame_equal(pd.read_csv(files.leaderboard), live.to_frame(), check_exact=False)


def test_mos_and_cmos_tests(service, tmp_path, clock):
    folders = tone_folders(tmp_path / "src", {"low": 0.3, "high": 0.3}, items=2)
    mos = service.create_from_folders(TestOptions("mos", "mos", attention_checks=1), folders)
    assert mos.trials == 5  # 2 systems x 2 items + 1 repeated sample
    rate_all(service, clock, service.join(mos.id).token,
             lambda trial: "5 Excellent" if dominant_hz(trial.slots[0]) > 400 else "2 Poor")
    board = service.leaderboard(mos.id)
    assert [(row.system, row.mean, row.ratings) for row in board.rows] == [("high", 5.0, 2), ("low", 2.0, 2)]

    cmos = service.create_from_folders(TestOptions("cmos", "cmos", attention_checks=1, reference_system="low"), folders)
    assert cmos.trials == 3  # 1 other system x 2 items + 1 identical pair
    # The rater hears which side is the higher tone: +2 when it is B, -2 when it is A, 0 for identical pairs.
    rate_all(service, clock, service.join(cmos.id).token, lambda trial: {
        "A": "-2 Worse", "B": "+2 Better", "No preference": "0 About the same"}[prefer_higher_pitch(trial)])
    board = service.leaderboard(cmos.id)
    assert [(row.system, row.mean, row.ratings) for row in board.rows] == [("high", 2.0, 2)]


def test_admin_actions_need_the_token_when_one_is_set(tmp_path, clock):
    service = make_service(tmp_path / "data", clock, admin_token=ADMIN)
    folders = tone_folders(tmp_path / "src", {"a": 0.2, "b": 0.3})
    for token in (None, "", "wrong-token"):
        with pytest.raises(AdminOnly):
            service.create_from_folders(TestOptions("t"), folders, token)
    made = service.create_from_folders(TestOptions("t"), folders, ADMIN)
    for action in (service.close_test, service.export, service.delete_test):
        with pytest.raises(AdminOnly):
            action(made.id, "wrong-token")
    service.export(made.id, ADMIN)
    assert service.close_test(made.id, ADMIN).status == "closed"
    with pytest.raises(ListeningError, match="closed"):
        service.join(made.id)
    service.delete_test(made.id, ADMIN)
    assert service.list_tests() == []
    assert not (tmp_path / "data" / "listening" / "tests" / made.id).exists()
    with pytest.raises(ConfigError, match="shorter than 8"):
        ListeningSettings(admin_token="short")


def test_closing_a_test_stops_votes(service, tmp_path, clock):
    made = ab_test(service, tmp_path / "src")
    token = service.join(made.id).token
    trial = service.current_trial(token)
    clock.advance(sum(a.duration for a in trial.slots))
    service.confirm_played(token, "A")
    service.confirm_played(token, "B")
    service.close_test(made.id)
    with pytest.raises(ListeningError, match="closed"):
        service.vote(token, "A")


def test_create_from_a_zip_of_system_folders(service, tmp_path):
    folders = tone_folders(tmp_path / "src", {"sys_a": 0.2, "sys_b": 0.4}, items=2)
    archive = tmp_path / "upload.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        for system, folder in folders.items():
            for path in folder.iterdir():
                zipped.write(path, f"my-test/{system}/{path.name}")
        zipped.writestr("my-test/.DS_Store", b"junk")
    made = service.create_from_zip(TestOptions("zip"), archive)
    assert (made.systems, made.items) == (("sys_a", "sys_b"), 2)

    mismatched = tmp_path / "mismatch.zip"
    with zipfile.ZipFile(mismatched, "w") as zipped:
        zipped.write(folders["sys_a"] / "utt0.wav", "sys_a/utt0.wav")
        zipped.write(folders["sys_b"] / "utt1.wav", "sys_b/utt1.wav")
    with pytest.raises(AudioError, match="share no file names"):
        service.create_from_zip(TestOptions("zip"), mismatched)
    (tmp_path / "not.zip").write_bytes(b"not a zip")
    with pytest.raises(AudioError, match="not a readable .zip"):
        service.create_from_zip(TestOptions("zip"), tmp_path / "not.zip")


def test_bad_options_are_refused_with_a_message():
    with pytest.raises(ConfigError, match="reference system"):
        TestOptions("t", "cmos")
    with pytest.raises(ConfigError, match="unknown listening test kind"):
        TestOptions("t", "abx")
    with pytest.raises(ConfigError, match="attention_checks"):
        TestOptions("t", attention_checks=-1)


@pytest.mark.models
def test_create_from_tts_synthesises_once_and_caches(service, registry):
    systems = [registry.system("piper-joe", "noise_scale=0 noise_w_scale=0", name="joe"),
               registry.system("piper-joe", "noise_scale=0 noise_w_scale=0 length_scale=1.3", name="joe-slow")]
    made = service.create_from_tts(registry, TestOptions("tts"), systems, ["Hello there.", "", "Good morning."])
    assert (made.systems, made.items) == (("joe", "joe-slow"), 2)
    cache = sorted((service.store.data_dir / "listening" / "tts-cache").iterdir())
    assert len(cache) == 4
    stamps = [path.stat().st_mtime_ns for path in cache]
    service.create_from_tts(registry, TestOptions("tts again"), systems, ["Hello there.", "Good morning."])
    assert [path.stat().st_mtime_ns for path in cache] == stamps
    trial = service.current_trial(service.join(made.id).token)
    assert trial.text in ("Hello there.", "Good morning.")


def test_settings_come_from_the_environment(tmp_path, monkeypatch):
    monkeypatch.setenv("STUDIO_DATA_DIR", str(tmp_path / "folder"))
    monkeypatch.setenv("STUDIO_DATABASE_URL", f"sqlite:///{tmp_path / 'elsewhere.db'}")
    monkeypatch.setenv("STUDIO_ADMIN_TOKEN", ADMIN)
    service = ListeningService.from_env()
    assert service.settings.admin_token == ADMIN and not service.settings.local_mode
    assert (tmp_path / "elsewhere.db").is_file() and (tmp_path / "folder").is_dir()
    monkeypatch.setenv("STUDIO_DATABASE_URL", "not a url")
    with pytest.raises(ConfigError, match="STUDIO_DATABASE_URL"):
        ListeningService.from_env()


def test_tts_systems_are_read_one_per_line(registry):
    systems = systems_from_lines(registry, "piper-joe\n\n  piper-joe length_scale=1.3\n")
    assert [s.label for s in systems] == ["piper-joe", "piper-joe [length_scale=1.3]"]
    with pytest.raises(ConfigError, match="unknown adapter"):
        systems_from_lines(registry, "no-such-voice")


def test_the_command_line_recomputes_the_leaderboard_from_an_export(service, tmp_path, clock, capsys):
    from studio.listening.__main__ import main

    made = ab_test(service, tmp_path / "src", attention_checks=0)
    rate_all(service, clock, service.join(made.id).token, prefer_higher_pitch)
    files = service.export(made.id, folder=tmp_path / "export")
    assert main([str(files.votes)]) == 0
    printed = capsys.readouterr().out
    assert printed.splitlines()[0].startswith(f"# test {made.id} (ab): 2 votes from 1 raters")
    assert printed.splitlines()[1].startswith("system,rank,strength") and printed.splitlines()[2].startswith("beta,1,")
    assert main([str(tmp_path / "missing.csv")]) == 1
    (tmp_path / "other.csv").write_text("a,b\n1,2\n")
    assert main([str(tmp_path / "other.csv")]) == 1
    assert "not a listening-test vote export" in capsys.readouterr().err
