"""Metric plug-ins by name. `get_metric(name)` gives a set-up, shared instance."""

from __future__ import annotations

import threading

from studio.errors import ConfigError
from studio.metrics.base import Metric, MetricInfo, MetricInput, MetricScore
from studio.metrics.distillmos import DistillMOS
from studio.metrics.dnsmos import DNSMOS
from studio.metrics.latency import Latency
from studio.metrics.speaker import SpeakerSimilarity
from studio.metrics.wer import WER

METRICS: dict[str, type[Metric]] = {m.info.name: m for m in (WER, SpeakerSimilarity, DNSMOS, DistillMOS, Latency)}
_instances: dict[str, Metric] = {}
_lock = threading.Lock()


def register_metric(metric: type[Metric]) -> None:
    METRICS[metric.info.name] = metric


def get_metric(name: str) -> Metric:
    if name not in METRICS:
        raise ConfigError(f"unknown metric {name!r}; available metrics: {', '.join(METRICS)}")
    with _lock:
        metric = _instances.setdefault(name, METRICS[name]())
    metric.ensure_setup()
    return metric


__all__ = ["METRICS", "Metric", "MetricInfo", "MetricInput", "MetricScore", "get_metric", "register_metric"]
