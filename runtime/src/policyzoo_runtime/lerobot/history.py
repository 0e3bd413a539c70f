"""`HistoryHandle`: a LeRobot policy that predicts from its last `n_obs_steps` observations."""

from __future__ import annotations

from typing import Any

import torch
from lerobot.policies.utils import populate_queues
from lerobot.utils.constants import ACTION, OBS_IMAGES

from policyzoo_runtime.lerobot.handle import LeRobotHandle
from policyzoo_runtime.observation import prepare_observation


class HistoryHandle(LeRobotHandle):
    """LeRobot keeps the observation history in `policy._queues`, which its `select_action` fills every tick.
    Here `observe` fills it too, and `predict_chunk` adds its observation before predicting: a deploy loop that
    observes every tick and asks for chunks gets the frames `select_action` would have read (`HistoryExtras`).
    The action queue is left alone."""

    @property
    def history_frames(self) -> int:
        return int(self.policy.config.n_obs_steps)

    def observe(self, observation: dict[str, Any]) -> None:
        observation = prepare_observation(observation, self.features)
        with torch.inference_mode():
            self.model_remember(self.model_observation(observation))

    def model_remember(self, observation: dict[str, Any]) -> dict[str, Any]:
        """Add a processed observation to the history as LeRobot's `select_action` does (the cameras stacked
        under `observation.images`); returns what was added."""
        policy = self.policy
        entry = {key: value for key, value in observation.items() if key != ACTION}
        if policy.config.image_features:
            entry[OBS_IMAGES] = torch.stack([entry[key] for key in policy.config.image_features], dim=-4)
        policy._queues = populate_queues(policy._queues, entry, exclude_keys=[ACTION])
        return entry

    def model_chunk(self, observation: dict[str, Any]) -> torch.Tensor:
        return self.policy.predict_action_chunk(self.model_remember(observation))
