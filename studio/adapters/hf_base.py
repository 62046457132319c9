"""What the Hugging Face `transformers` adapters share: loading onto a placement, moving inputs, unloading."""

from __future__ import annotations

from typing import Any

from studio.types import AdapterInfo
from studio.adapters.torch_runtime import Placement, release, weights_mb


class HuggingFaceModel:
    """Mixin for an `Adapter` whose weights come from `from_pretrained` (a local folder or a hub id)."""

    def __init__(self, info: AdapterInfo, source: str, placement: Placement):
        super().__init__(placement.device)
        self.info = info
        self.source = source
        self.placement = placement
        self.model = None
        self.processor = None  # what turns text or audio into model inputs: processor, tokenizer or feature extractor

    @property
    def loaded(self) -> bool:
        return self.model is not None

    def pretrained(self, loader: Any, source: str | None = None) -> Any:
        """`loader.from_pretrained` in the placement's dtype, on its device, in eval mode."""
        model = loader.from_pretrained(source or self.source, dtype=self.placement.torch_dtype)
        return model.to(self.device).eval()

    def to_model(self, batch: Any) -> dict[str, Any]:
        """Processor outputs on the model's device; floating tensors in the model's dtype."""
        dtype = self.placement.torch_dtype
        return {name: value.to(self.device, dtype=dtype if value.is_floating_point() else None)
                for name, value in batch.items()}

    def modules(self) -> tuple[Any, ...]:
        """The torch modules this adapter holds (for memory accounting)."""
        return (self.model,) if self.model is not None else ()

    @property
    def weights_mb(self) -> float:
        return weights_mb(*self.modules())

    def unload(self) -> None:
        self.model = self.processor = None
        release(self.device)
