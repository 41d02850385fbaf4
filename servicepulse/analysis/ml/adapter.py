"""A LoRA adapter for the encoder, stored as plain arrays and merged into the weights at load time.

File format (`encoder_adapter.npz`, allow_pickle=False): for every adapted linear layer named `NAME` (its
dotted path inside the Hugging Face model, e.g. `encoder.layer.0.attention.self.query`), the arrays
`NAME::A` (r x in) and `NAME::B` (out x r), plus a scalar array `::scale` (lora_alpha / r). Merging adds
`scale * B @ A` to the layer's weight, which is what peft's `merge_and_unload` does for LoRA, so the adapted
model runs at the speed of the bare one.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

SCALE_KEY = "::scale"


def merge_adapter(model: Any, path: Path) -> int:
    """Add the adapter's low-rank deltas to `model`'s weights in place; returns how many layers changed."""
    import torch

    modules = dict(model.named_modules())
    with np.load(path, allow_pickle=False) as data:
        scale = float(data[SCALE_KEY])
        names = sorted({key.rsplit("::", 1)[0] for key in data.files if key != SCALE_KEY})
        with torch.no_grad():
            for name in names:
                module = modules.get(name)
                if module is None or not hasattr(module, "weight"):
                    raise ValueError(f"adapter {path.name} names a layer the model does not have: {name}")
                a = torch.from_numpy(data[f"{name}::A"]).to(module.weight.dtype)
                b = torch.from_numpy(data[f"{name}::B"]).to(module.weight.dtype)
                if (b.shape[0], a.shape[1]) != tuple(module.weight.shape):
                    raise ValueError(f"adapter {path.name}: shape mismatch for {name}")
                module.weight += scale * (b @ a)
    return len(names)


def save_adapter_from_peft(peft_model: Any, path: Path) -> int:
    """Write a trained peft LoRA model's A/B matrices in the format above; returns the layer count."""
    arrays: dict[str, np.ndarray] = {}
    scale = None
    for name, module in peft_model.named_modules():
        lora_a = getattr(module, "lora_A", None)
        if lora_a is None or "default" not in lora_a:
            continue
        # peft wraps the base model as base_model.model.<original path>
        original = name.split("base_model.model.", 1)[-1]
        arrays[f"{original}::A"] = lora_a["default"].weight.detach().cpu().numpy().astype(np.float32)
        arrays[f"{original}::B"] = module.lora_B["default"].weight.detach().cpu().numpy().astype(np.float32)
        scale = float(module.scaling["default"])
    if scale is None:
        raise ValueError("the model has no LoRA layers")
    arrays[SCALE_KEY] = np.array(scale, dtype=np.float32)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, **arrays)  # type: ignore[arg-type]  # numpy stub: allow_pickle
    return len(arrays) // 2
