"""Asking a policy for action chunks, in the control thread or in a background thread."""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from policyzoo.features import IMAGE_PREFIX, STATE_KEY
from policyzoo.handle import PolicyHandle
from policyzoo_runtime.deploy.errors import PolicyFailure, StaleObservation

Reading = dict[str, Any] | Callable[[], dict[str, Any]]
"""An observation, or a function that builds it (from a state the robot captured)."""


@dataclass
class Prediction:
    chunk: np.ndarray
    """(T, A) actions in robot units."""
    tick: int
    """The tick whose observation the chunk was predicted from."""
    latency_s: float


def to_policy_observation(observation: dict[str, Any], task: str, device: torch.device) -> dict[str, Any]:
    """A robot observation (numpy, HxWx3 uint8 images) as a policy handle takes it (tensors, CxHxW in [0, 1])."""
    batch: dict[str, Any] = {"task": task}
    for key, value in observation.items():
        if key.startswith(IMAGE_PREFIX):
            image = torch.from_numpy(np.ascontiguousarray(value))
            batch[key] = image.permute(2, 0, 1).to(device=device, dtype=torch.float32) / 255.0
        elif key.startswith("observation."):
            batch[key] = torch.as_tensor(np.asarray(value, dtype=np.float32), device=device)
    if STATE_KEY not in batch:
        raise KeyError(f"the robot observation has no '{STATE_KEY}'")
    return batch


@contextmanager
def torch_threads(count: int | None) -> Iterator[None]:
    """Run torch's CPU kernels on `count` threads inside the block (None: leave them alone)."""
    before = torch.get_num_threads()
    if count is not None:
        torch.set_num_threads(count)
    try:
        yield
    finally:
        torch.set_num_threads(before)


class ChunkPredictor:
    """Predicts chunks in the calling thread."""

    def __init__(self, policy: PolicyHandle, task: str = "", n_action_steps: int | None = None) -> None:
        self.policy = policy
        self.task = task
        self.n_action_steps = n_action_steps
        self.latencies: list[float] = []

    def predict(self, observation: dict[str, Any], tick: int) -> Prediction:
        start = time.perf_counter()
        try:
            with torch.inference_mode():
                chunk = self.policy.predict_chunk(
                    to_policy_observation(observation, self.task, self.policy.device)
                )
            actions = chunk.detach().to("cpu", torch.float64).numpy()
        except Exception as exc:
            raise PolicyFailure(f"{type(exc).__name__}: {exc}") from exc
        if actions.ndim != 2:
            raise PolicyFailure(f"predict_chunk returned shape {tuple(actions.shape)}, expected (T, A)")
        latency = time.perf_counter() - start
        self.latencies.append(latency)
        if self.n_action_steps is not None:
            actions = actions[: self.n_action_steps]
        return Prediction(actions, tick, latency)

    def observe(self, observation: dict[str, Any]) -> None:
        """Add a tick's observation to the policy's history (`HistoryExtras.observe`) without predicting."""
        try:
            with torch.inference_mode():
                self.policy.observe(to_policy_observation(observation, self.task, self.policy.device))
        except Exception as exc:
            raise PolicyFailure(f"{type(exc).__name__}: {exc}") from exc


class BackgroundPredictor:
    """Predicts one chunk at a time in a daemon thread; the control loop submits and polls, never waits."""

    def __init__(self, predictor: ChunkPredictor, history_frames: int = 1) -> None:
        self.predictor = predictor
        self._request: tuple[Reading, int, list[Reading]] | None = None
        """The observation to predict from, its tick, and the ticks before it to add to the history first."""
        self._unseen: deque[Reading] = deque(maxlen=history_frames - 1)
        """Ticks observed since the last request, for the policy's history: the frames the next chunk reads."""
        self._result: Prediction | BaseException | None = None
        self._busy = False
        self._closed = False
        self._wake = threading.Condition()
        self._thread = threading.Thread(target=self._work, name="policyzoo-predictor", daemon=True)
        self._thread.start()

    @property
    def busy(self) -> bool:
        """A chunk is being predicted or waits to be collected."""
        return self._busy

    def submit(self, observation: Reading, tick: int) -> None:
        """Predict from `observation`, or from what `observation()` returns when it is a function (then it
        runs in the background thread, e.g. to render a captured state)."""
        with self._wake:
            if self._busy:
                raise RuntimeError("a prediction is already in flight")
            self._busy = True
            self._request = (_kept(observation), tick, list(self._unseen))
            self._unseen.clear()
            self._wake.notify()

    def remember(self, observation: Reading) -> None:
        """Keep a tick's observation (or its builder) for the policy's history; the background thread feeds the
        last ones to the policy before its next prediction. Without a history (1 frame) nothing is kept."""
        if self._unseen.maxlen:
            with self._wake:
                self._unseen.append(_kept(observation))

    def poll(self) -> Prediction | None:
        """The finished prediction, once; raises PolicyFailure (or StaleObservation) when that failed."""
        with self._wake:
            result, self._result = self._result, None
            if result is None:
                return None
            self._busy = False
        if isinstance(result, BaseException):
            raise result
        return result

    def close(self) -> None:
        """Stop the thread and wait for it (for the prediction in flight, if any): nothing it holds, such as a
        simulator's renderers, outlives the run."""
        with self._wake:
            self._closed = True
            self._wake.notify()
        self._thread.join()

    def _work(self) -> None:
        while True:
            with self._wake:
                while self._request is None and not self._closed:
                    self._wake.wait()
                if self._closed:
                    return
                observation, tick, unseen = self._request
                self._request = None
            try:
                for earlier in unseen:
                    self.predictor.observe(_built(earlier))
                result: Prediction | BaseException = self.predictor.predict(_built(observation), tick)
            except (
                PolicyFailure,
                StaleObservation,
            ) as exc:  # handed to the control loop, which holds and stops
                result = exc
            except BaseException as exc:
                result = PolicyFailure(f"{type(exc).__name__}: {exc}")
            with self._wake:
                self._result = result


def _kept(observation: Reading) -> Reading:
    """A copy of an observation's arrays that the control thread cannot change later; a builder as it is."""
    return (
        observation if callable(observation) else {key: np.array(value) for key, value in observation.items()}
    )


def _built(observation: Reading) -> dict[str, Any]:
    return observation() if callable(observation) else observation
