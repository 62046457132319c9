"""Tiny random Hugging Face speech models, saved like a user's own (`save_pretrained`), for the zoo tests.

Each is a real architecture with a few layers and a small vocabulary: the weights are
random, so the outputs are nonsense, but loading, shapes, stages and errors are real.
Built once per test session (about 3 s on 2 cores).
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import yaml

LETTERS = "abcdefghijklmnopqrstuvwxyz'"
SPEAKER_EMBEDDING_DIM = 8
VOCODER_UPSAMPLING = 16  # product of the tiny HiFi-GAN's upsample_rates: audio samples per spectrogram frame

_built: dict[str, Path] = {}


def tiny_model_dirs(tmp_path_factory) -> dict[str, Path]:
    """{"ctc", "whisper", "vits", "speecht5", "hifigan", "speaker"}: folders (and an .npy) of tiny models."""
    if not _built:
        root = tmp_path_factory.mktemp("tiny-hf-models")
        _built.update(ctc=_ctc(root / "ctc"), whisper=_whisper(root / "whisper"), vits=_vits(root / "vits"),
                      speecht5=_speecht5(root / "speecht5"), hifigan=_hifigan(root / "hifigan"),
                      speaker=_speaker(root / "speaker.npy"))
    return _built


def write_config(path: Path, models: list[dict], bundled=True) -> Path:
    """A studio.yaml at `path` with these entries."""
    path.write_text(yaml.safe_dump({"bundled": bundled, "models": models}, sort_keys=False))
    return path


def _ctc(folder: Path) -> Path:
    from transformers import (Wav2Vec2Config, Wav2Vec2CTCTokenizer, Wav2Vec2FeatureExtractor, Wav2Vec2ForCTC,
                              Wav2Vec2Processor)

    folder.mkdir()
    vocab = {"<pad>": 0, "<s>": 1, "</s>": 2, "<unk>": 3, "|": 4, **{c: i + 5 for i, c in enumerate(LETTERS)}}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    tokenizer = Wav2Vec2CTCTokenizer(str(folder / "vocab.json"), word_delimiter_token="|")
    features = Wav2Vec2FeatureExtractor(sampling_rate=16000, return_attention_mask=True)
    Wav2Vec2Processor(feature_extractor=features, tokenizer=tokenizer).save_pretrained(folder)
    config = Wav2Vec2Config(vocab_size=len(vocab), hidden_size=32, num_hidden_layers=2, num_attention_heads=2,
                            intermediate_size=64, conv_dim=(16, 16), conv_stride=(5, 4), conv_kernel=(10, 8),
                            feat_extract_norm="layer", num_conv_pos_embeddings=16, num_conv_pos_embedding_groups=2,
                            pad_token_id=0)
    Wav2Vec2ForCTC(config).save_pretrained(folder)
    return folder


def _whisper(folder: Path) -> Path:
    """Whisper with 1 encoder and 1 decoder layer, using the bundled tiny.en tokenizer (English-only token ids)."""
    from transformers import (WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration,
                              WhisperProcessor, WhisperTokenizer)

    from studio.adapters.bundled_weights import whisper_tiny_en_dir

    tokenizer = WhisperTokenizer(tokenizer_file=str(whisper_tiny_en_dir() / "tokenizer.json"))
    WhisperProcessor(feature_extractor=WhisperFeatureExtractor(feature_size=80), tokenizer=tokenizer).save_pretrained(folder)
    end, start = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|startoftranscript|>"])
    config = WhisperConfig(vocab_size=len(tokenizer), d_model=32, encoder_layers=1, decoder_layers=1,
                           encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                           num_mel_bins=80, max_target_positions=64, decoder_start_token_id=start, eos_token_id=end,
                           pad_token_id=end, bos_token_id=end, suppress_tokens=None, begin_suppress_tokens=None)
    WhisperForConditionalGeneration(config).save_pretrained(folder)
    return folder


def _vits(folder: Path) -> Path:
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    folder.mkdir()
    symbols = ["<pad>", " ", *LETTERS, ".", ","]
    (folder / "vocab.json").write_text(json.dumps({s: i for i, s in enumerate(symbols)}))
    VitsTokenizer(str(folder / "vocab.json"), pad_token="<pad>", unk_token="<pad>", phonemize=False).save_pretrained(folder)
    config = VitsConfig(vocab_size=len(symbols), hidden_size=16, num_hidden_layers=1, num_attention_heads=2, ffn_dim=32,
                        flow_size=16, prior_encoder_num_flows=1, prior_encoder_num_wavenet_layers=1,
                        posterior_encoder_num_wavenet_layers=1, duration_predictor_num_flows=1,
                        duration_predictor_filter_channels=16, depth_separable_num_layers=1, upsample_initial_channel=16,
                        upsample_rates=[8, 8], upsample_kernel_sizes=[16, 16], resblock_kernel_sizes=[3],
                        resblock_dilation_sizes=[[1, 3]], spectrogram_bins=9, sampling_rate=16000)
    VitsModel(config).save_pretrained(folder)
    return folder


def _speecht5(folder: Path) -> Path:
    """SpeechT5 with 1 encoder and 1 decoder layer and a character-level SentencePiece vocabulary trained here."""
    import sentencepiece
    from transformers import (SpeechT5Config, SpeechT5FeatureExtractor, SpeechT5ForTextToSpeech, SpeechT5Processor,
                              SpeechT5Tokenizer)

    folder.mkdir()
    corpus = folder / "corpus.txt"
    corpus.write_text("\n".join(["the quick brown fox jumps over the lazy dog", LETTERS, "hello there. yes, no."] * 5))
    sentencepiece.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(folder / "spm_char"), model_type="char",
                                             vocab_size=36, character_coverage=1.0, bos_id=0, pad_id=1, eos_id=2,
                                             unk_id=3, minloglevel=2)
    tokenizer = SpeechT5Tokenizer(str(folder / "spm_char.model"))
    SpeechT5Processor(feature_extractor=SpeechT5FeatureExtractor(), tokenizer=tokenizer).save_pretrained(folder)
    config = SpeechT5Config(vocab_size=len(tokenizer) + 1, hidden_size=32, encoder_layers=1, decoder_layers=1,
                            encoder_attention_heads=2, decoder_attention_heads=2, encoder_ffn_dim=64, decoder_ffn_dim=64,
                            speech_decoder_prenet_units=32, speech_decoder_postnet_units=32,
                            speech_decoder_postnet_layers=2, speaker_embedding_dim=SPEAKER_EMBEDDING_DIM, num_mel_bins=80,
                            reduction_factor=2, max_speech_positions=600, max_text_positions=200, conv_dim=(16,),
                            conv_stride=(5,), conv_kernel=(10,), num_conv_pos_embeddings=16,
                            num_conv_pos_embedding_groups=2)
    SpeechT5ForTextToSpeech(config).save_pretrained(folder)
    return folder


def _hifigan(folder: Path) -> Path:
    from transformers import SpeechT5HifiGan, SpeechT5HifiGanConfig

    config = SpeechT5HifiGanConfig(model_in_dim=80, upsample_initial_channel=16, upsample_rates=[4, 4],
                                   upsample_kernel_sizes=[8, 8], resblock_kernel_sizes=[3],
                                   resblock_dilation_sizes=[[1, 3]], sampling_rate=16000)
    SpeechT5HifiGan(config).save_pretrained(folder)
    return folder


def _speaker(path: Path) -> Path:
    np.save(path, np.random.default_rng(0).standard_normal(SPEAKER_EMBEDDING_DIM).astype(np.float32))
    return path
