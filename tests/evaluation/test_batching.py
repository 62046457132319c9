import pytest

from studio.evaluation.batching import padding_fraction, plan_batches, processed_seconds


def test_batches_stay_within_the_padded_budget_and_cover_every_item():
    durations = [5.0, 1.0, 9.0, 2.0, 2.5, 8.0, 1.5, 4.0]
    plan = plan_batches(durations, max_seconds=10.0, max_batch_size=3)
    covered = sorted(i for batch in plan.batches for i in batch)
    assert covered == list(range(len(durations)))
    for batch in plan.batches:
        assert len(batch) <= 3
        assert len(batch) == 1 or len(batch) * max(durations[i] for i in batch) <= 10.0
    lengths = [durations[i] for batch in plan.batches for i in batch]
    assert lengths == sorted(lengths)  # bucketed: similar lengths together


def test_fixed_window_counts_the_window():
    plan = plan_batches([2.0, 3.0, 4.0, 5.0], max_seconds=60.0, max_batch_size=8, window_seconds=30.0)
    assert plan.batches == ((0, 1), (2, 3))
    assert processed_seconds([2.0, 45.0], 30.0) == [30.0, 60.0]


def test_one_at_a_time():
    assert plan_batches([3.0, 1.0], 100.0, 1).batches == ((1,), (0,))


def test_padding_fraction():
    assert padding_fraction([5.0], [30.0]) == pytest.approx(25 / 30)
    assert padding_fraction([2.0, 4.0], processed_seconds([2.0, 4.0], None)) == pytest.approx(2 / 8)
    assert padding_fraction([], []) == 0.0
