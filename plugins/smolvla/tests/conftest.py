from pathlib import Path

import pytest

from policyzoo_smolvla.tiny import build_tiny_smolvlm


@pytest.fixture(scope="session")
def tiny_vlm(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One tiny random SmolVLM folder for the whole session (no download)."""
    return build_tiny_smolvlm(tmp_path_factory.mktemp("tiny-smolvlm"))
