"""A tiny, randomly initialised SmolVLM folder: lets SmolVLA build, train and act offline.

LeRobot's SmolVLA reads the VLM's config, processor and tokenizer with `from_pretrained(vlm_model_name)` even
when it does not load the VLM's weights, so offline it needs a local folder with those files. This writes one
with a small llama text model, a small vision tower and a word-level tokenizer; no weights are downloaded.

    python -m policyzoo_smolvla.tiny DIR [--full-size]    # then: --policy.vlm_model_name=DIR

`--full-size` writes SmolVLM2-500M's shapes instead (still random, still offline), for benchmarks.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

IMAGE_TOKEN = "<image>"
FAKE_IMAGE_TOKEN = "<fake_token_around_image>"
GLOBAL_IMAGE_TOKEN = "<global-img>"
END_OF_UTTERANCE = "<end_of_utterance>"
PAD, UNK, BOS = "<pad>", "<unk>", "<|im_start|>"
SPECIAL_TOKENS = [PAD, UNK, BOS, IMAGE_TOKEN, FAKE_IMAGE_TOKEN, GLOBAL_IMAGE_TOKEN, END_OF_UTTERANCE]
WORDS = [
    "pick",
    "place",
    "put",
    "grasp",
    "lift",
    "move",
    "push",
    "pull",
    "open",
    "close",
    "the",
    "a",
    "an",
    "of",
    "on",
    "in",
    "into",
    "to",
    "from",
    "and",
    "up",
    "down",
    "left",
    "right",
    "cube",
    "block",
    "box",
    "bowl",
    "cup",
    "bin",
    "table",
    "red",
    "green",
    "blue",
    "yellow",
    "arm",
    "gripper",
    "insert",
    "peg",
    "socket",
    "transfer",
    "fold",
    "towel",
]
IMAGE_SIZE = 512
"""SmolVLA resizes every camera to 512x512 (`resize_imgs_with_padding`); the vision tower matches it."""


def build_tiny_smolvlm(directory: str | Path) -> Path:
    """Write a tiny random SmolVLM (2 text layers of width 64, one vision layer) into `directory`."""
    text = {
        "hidden_size": 64,
        "intermediate_size": 128,
        "num_hidden_layers": 2,
        "num_attention_heads": 4,
        "num_key_value_heads": 2,
        "head_dim": 16,
        "max_position_embeddings": 512,
    }
    vision = {
        "hidden_size": 32,
        "intermediate_size": 64,
        "num_hidden_layers": 1,
        "num_attention_heads": 2,
        "patch_size": 32,
    }
    return write_smolvlm(directory, text, vision)


def build_full_size_smolvlm(directory: str | Path) -> Path:
    """Write a SmolVLM with SmolVLM2-500M's shapes (config only, random when built) into `directory`.

    SmolVLA built on it with `load_vlm_weights=False` has the real model's size and speed, offline.
    """
    text = {
        "hidden_size": 960,
        "intermediate_size": 2560,
        "num_hidden_layers": 32,
        "num_attention_heads": 15,
        "num_key_value_heads": 5,
        "head_dim": 64,
        "max_position_embeddings": 8192,
        "rope_theta": 100000.0,
        "vocab_size": 49280,
    }
    vision = {
        "hidden_size": 768,
        "intermediate_size": 3072,
        "num_hidden_layers": 12,
        "num_attention_heads": 12,
        "patch_size": 16,
    }
    return write_smolvlm(directory, text, vision)


def write_smolvlm(
    directory: str | Path, text: dict[str, Any], vision: dict[str, Any], scale_factor: int = 4
) -> Path:
    """Write config, word-level tokenizer and processor of a SmolVLM with these text/vision settings."""
    from transformers import (
        LlamaConfig,
        PreTrainedTokenizerFast,
        SmolVLMConfig,
        SmolVLMImageProcessor,
        SmolVLMProcessor,
        SmolVLMVideoProcessor,
    )

    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=_word_level_tokenizer(),
        bos_token=BOS,
        pad_token=PAD,
        unk_token=UNK,
        eos_token=END_OF_UTTERANCE,
        model_input_names=["input_ids", "attention_mask"],
        extra_special_tokens={
            "image_token": IMAGE_TOKEN,
            "fake_image_token": FAKE_IMAGE_TOKEN,
            "global_image_token": GLOBAL_IMAGE_TOKEN,
            "end_of_utterance_token": END_OF_UTTERANCE,
        },
    )
    vocab = tokenizer.get_vocab()
    text_config = LlamaConfig(
        **{"vocab_size": len(vocab), **text},
        pad_token_id=vocab[PAD],
        bos_token_id=vocab[BOS],
        eos_token_id=vocab[END_OF_UTTERANCE],
        tie_word_embeddings=False,
    )
    config = SmolVLMConfig(
        text_config=text_config.to_dict(),
        vision_config={**vision, "image_size": IMAGE_SIZE},
        scale_factor=scale_factor,
        image_token_id=vocab[IMAGE_TOKEN],
        pad_token_id=vocab[PAD],
    )
    config.save_pretrained(directory)
    image_processor = SmolVLMImageProcessor(
        size={"longest_edge": IMAGE_SIZE}, max_image_size={"longest_edge": IMAGE_SIZE}
    )
    image_tokens = (IMAGE_SIZE // vision["patch_size"]) ** 2 // scale_factor**2
    processor = SmolVLMProcessor(
        image_processor=image_processor,
        tokenizer=tokenizer,
        video_processor=SmolVLMVideoProcessor(),
        image_seq_len=image_tokens,
    )
    processor.save_pretrained(directory)
    return directory


def _word_level_tokenizer():
    from tokenizers import Tokenizer, models, pre_tokenizers

    vocab = {token: index for index, token in enumerate(SPECIAL_TOKENS + WORDS)}
    tokenizer = Tokenizer(models.WordLevel(vocab=vocab, unk_token=UNK))
    tokenizer.pre_tokenizer = pre_tokenizers.Whitespace()
    tokenizer.add_special_tokens(SPECIAL_TOKENS)
    return tokenizer


def main(argv: list[str]) -> None:
    if len(argv) not in (1, 2) or (len(argv) == 2 and argv[1] != "--full-size"):
        sys.exit("usage: python -m policyzoo_smolvla.tiny DIR [--full-size]")
    build = build_full_size_smolvlm if len(argv) == 2 else build_tiny_smolvlm
    print(build(argv[0]))


if __name__ == "__main__":
    main(sys.argv[1:])
