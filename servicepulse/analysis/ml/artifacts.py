"""Where the committed model artifacts live. Everything is plain arrays (.npz, loaded with
allow_pickle=False) plus JSON metadata: nothing executes code when it is loaded. See MODELS.md."""

from __future__ import annotations

from pathlib import Path

from servicepulse.config.env import get_env

ENV_ARTIFACTS = "SERVICEPULSE_MODEL_DIR"
HEADS_FILE = "heads.npz"
META_FILE = "heads.json"
ADAPTER_FILE = "encoder_adapter.npz"


def artifacts_dir() -> Path:
    """`SERVICEPULSE_MODEL_DIR` when set (e.g. heads retrained from corrections), else the committed ones."""
    configured = get_env(ENV_ARTIFACTS, "")
    if configured:
        return Path(configured)
    return Path(__file__).resolve().parent.parent / "artifacts"
