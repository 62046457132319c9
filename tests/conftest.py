"""Shared fixtures. Test audio is made here, by the project's own Piper voice, never downloaded."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

from studio.audio import Audio  # noqa: E402

SENTENCES = (
    "The quick brown fox jumps over the lazy dog.",
    "Speech recognition turns spoken words into written text.",
    "Please call me back before noon tomorrow.",
)


@pytest.fixture(scope="session")
def output_dir() -> Path:
    """A folder for artefacts a person may want to look at after the run (screenshots, plots)."""
    path = Path(os.environ.get("STUDIO_TEST_OUTPUT", Path(__file__).resolve().parent.parent / "test-output"))
    path.mkdir(parents=True, exist_ok=True)
    return path


@pytest.fixture(scope="session")
def registry():
    """The bundled models, built as the app and the CLI build them; shared, so each model loads once per run.
    Tests that add or remove models build their own (`build_registry()` or `Registry()`)."""
    from studio.bootstrap import build_registry

    return build_registry()


@pytest.fixture(scope="session")
def piper_speech(registry) -> list[tuple[str, Audio]]:
    """Deterministic Piper speech (noise off) for each of SENTENCES, at 22.05 kHz."""
    piper = registry.get("piper-joe", "cpu")
    options = piper.info.options_type(noise_scale=0.0, noise_w_scale=0.0)
    return [(text, piper.synthesize(text, options).audio) for text in SENTENCES]


@pytest.fixture(scope="session")
def postgres_cluster():
    """A throwaway PostgreSQL server for this run (see tests/postgres.py); skipped without the binaries."""
    from tests.postgres import Cluster, binaries

    bin_dir = binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb/pg_ctl on PATH or in /usr/lib/postgresql/*/bin): "
                    "apt-get install postgresql; scripts/test.sh does so as root or with sudo")
    pytest.importorskip("psycopg", reason="the PostgreSQL driver psycopg (requirements.txt) is not installed")
    cluster = Cluster(bin_dir)
    yield cluster
    cluster.stop()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str:
    """STUDIO_DATABASE_URL for one test: '' (SQLite in the data folder), then a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return ""
    return request.getfixturevalue("postgres_cluster").database()


def tone(seconds: float = 1.0, rate: int = 16000, freq: float = 440.0, amplitude: float = 0.3) -> Audio:
    """A sine tone: non-silent audio that holds no speech."""
    t = np.arange(int(seconds * rate)) / rate
    return Audio((amplitude * np.sin(2 * np.pi * freq * t)).astype(np.float32), rate)


def pytest_collection_modifyitems(config, items):
    """Skip `requires_cuda` tests on machines without a CUDA GPU (CI has none)."""
    from studio.timing import cuda_available

    if cuda_available():
        return
    skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "requires_cuda" in item.keywords:
            item.add_marker(skip)
