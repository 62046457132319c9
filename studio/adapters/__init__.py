"""Model adapters and the registry. Importing this package registers the bundled models and applies `STUDIO_CONFIG`."""

from studio.adapters.base import ASRAdapter, AdapterInfo, Synthesis, Transcription, TTSAdapter
from studio.adapters.builtin import register_builtin_adapters
from studio.adapters.registry import (
    AdapterSpec,
    System,
    adapter_ids,
    adapter_info,
    get_adapter,
    loaded_adapters,
    register,
    unavailable_reason,
    unload,
)
from studio.adapters.zoo import configure_from_env

register_builtin_adapters()
configure_from_env()  # after the bundled models: the config may leave some of them out

__all__ = [
    "ASRAdapter", "AdapterInfo", "AdapterSpec", "Synthesis", "System", "TTSAdapter", "Transcription",
    "adapter_ids", "adapter_info", "get_adapter", "loaded_adapters", "register", "unavailable_reason", "unload",
]
