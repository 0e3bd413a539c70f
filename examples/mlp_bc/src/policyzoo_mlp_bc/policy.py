"""The mlp_bc network in plain PyTorch; `TorchPolicy` makes it a policy (normalization, action queue, device,
optimizer, saving and loading). Imported only when a policy is built or loaded."""

from __future__ import annotations

from itertools import pairwise
from typing import Any

import torch
from torch import nn
from torch.nn import functional as F

from policyzoo_runtime.torch_policy import TorchFactory, TorchPolicy

from .spec import MlpBcSpec


class ImageEncoder(nn.Module):
    """Two strided convolutions and global average pooling: (B, 3, H, W) in [0, 1] to (B, channels)."""

    def __init__(self, size: int, channels: int) -> None:
        super().__init__()
        self.size = size
        self.layers = nn.Sequential(
            nn.Conv2d(3, channels // 2, kernel_size=5, stride=2, padding=2),
            nn.GELU(),
            nn.Conv2d(channels // 2, channels, kernel_size=3, stride=2, padding=1),
            nn.GELU(),
            nn.AdaptiveAvgPool2d(1),
            nn.Flatten(),
        )

    def forward(self, images: torch.Tensor) -> torch.Tensor:
        images = F.interpolate(images, size=(self.size, self.size), mode="bilinear", align_corners=False)
        return self.layers((images - 0.5) / 0.25)


class MlpBcPolicy(TorchPolicy):
    """An MLP over the normalized state and pooled camera features, predicting a chunk; L1 loss."""

    spec_class = MlpBcSpec
    spec: MlpBcSpec

    def make_model(self) -> nn.Module:
        spec, features = self.spec, self.features
        cameras = len(features.visual) if spec.use_images else 0
        encoder = {"encoder": ImageEncoder(spec.image_size, spec.image_channels)} if cameras else {}
        model = nn.ModuleDict(encoder)
        widths = [features.state_dim + cameras * spec.image_channels] + [spec.hidden_dim] * spec.n_layers
        hidden = [
            layer
            for width, out in pairwise(widths)
            for layer in (nn.Linear(width, out), nn.GELU(), nn.Dropout(spec.dropout))
        ]
        model["mlp"] = nn.Sequential(*hidden, nn.Linear(widths[-1], spec.chunk_size * features.action_dim))
        return model

    def forward(self, state: torch.Tensor, images: list[torch.Tensor]) -> torch.Tensor:
        encoded = [self.model["encoder"](image) for image in images] if "encoder" in self.model else []
        chunk = self.model["mlp"](torch.cat([state, *encoded], dim=-1))
        return chunk.view(-1, self.spec.chunk_size, self.features.action_dim)

    def loss(self, batch: dict[str, Any]) -> tuple[torch.Tensor, dict[str, float]]:
        error = F.l1_loss(self.forward(*self.inputs(batch)), self.target(batch), reduction="none")
        loss = self.unpadded_mean(error, batch)
        return loss, {"l1_loss": float(loss.detach())}


factory = TorchFactory(MlpBcPolicy)
