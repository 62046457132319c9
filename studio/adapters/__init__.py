"""Model adapters and the registry type. Importing this package registers nothing: `studio.bootstrap.build_registry`
assembles a registry from the bundled models, the decoding lab and a `studio.yaml`."""

from studio.adapters.base import Adapter, ASRAdapter, TTSAdapter
from studio.adapters.registry import AdapterSpec, Registry, System, missing_package

__all__ = ["ASRAdapter", "Adapter", "AdapterSpec", "Registry", "System", "TTSAdapter", "missing_package"]
