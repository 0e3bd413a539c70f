"""The normalisation layers of ACT's ResNet when it starts from random weights.

LeRobot's ACT builds its ResNet with `FrozenBatchNorm2d`, made for ImageNet weights: the statistics stay those
of the pretrained network. policyzoo starts the backbone from random weights (nothing is downloaded), and a
frozen batch norm of a random network is the identity: a ResNet without normalisation, which learns slowly
and poorly. Trainable `BatchNorm2d` layers fix that, and stay loadable by LeRobot: in eval mode a batch norm
computes exactly what a frozen one computes from the same weight, bias and running statistics (LeRobot's
loader drops the extra `num_batches_tracked` counters).
"""

from __future__ import annotations

from torch import nn
from torchvision.ops.misc import FrozenBatchNorm2d

TRAINED_NORM_KEY = "model.backbone.bn1.num_batches_tracked"
"""Present in the weights of a backbone trained with trainable batch norms, absent from a frozen one's."""


def trainable_norms(module: nn.Module) -> int:
    """Replace every `FrozenBatchNorm2d` under `module` by a fresh trainable `BatchNorm2d`; how many."""
    return _replace(module, FrozenBatchNorm2d, lambda old: nn.BatchNorm2d(old.weight.numel(), eps=old.eps))


def frozen_norms(module: nn.Module) -> int:
    """The inverse, for weights saved from LeRobot's own (frozen) ACT; how many."""
    return _replace(module, nn.BatchNorm2d, lambda old: FrozenBatchNorm2d(old.num_features, eps=old.eps))


def _replace(module: nn.Module, kind: type[nn.Module], make) -> int:
    count = 0
    for name, child in list(module.named_children()):
        if isinstance(child, kind):
            setattr(module, name, make(child).to(next(child.buffers()).device))
            count += 1
        else:
            count += _replace(child, kind, make)
    return count
