"""An in-memory Feetech bus for tests and dry runs: STS3215 servos behind a fake serial port.

It replaces only the serial port object the Feetech SDK (`scservo_sdk`) opens, so the SDK's packet
handling and LeRobot's `FeetechMotorsBus` run unchanged above it. Each servo holds a control table
(the STS3215 addresses LeRobot uses) and answers PING, READ, WRITE, SYNC READ and SYNC WRITE packets.
"""

from __future__ import annotations

import types
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import serial

STS3215_MODEL = 777
RESOLUTION = 4096
_PING, _READ, _WRITE, _SYNC_READ, _SYNC_WRITE = 0x01, 0x02, 0x03, 0x82, 0x83
_BROADCAST = 0xFE
# control-table addresses (STS/SMS series)
FIRMWARE_MAJOR, FIRMWARE_MINOR, MODEL_NUMBER, ID = 0, 1, 3, 5
MIN_LIMIT, MAX_LIMIT, HOMING_OFFSET = 9, 11, 31
TORQUE_ENABLE, GOAL_POSITION, LOCK, PRESENT_POSITION = 40, 42, 55, 56


def _sign_magnitude(value: int, sign_bit: int) -> int:
    return (-value | (1 << sign_bit)) if value < 0 else value


def _from_sign_magnitude(raw: int, sign_bit: int) -> int:
    return -(raw & ~(1 << sign_bit)) if raw & (1 << sign_bit) else raw


class FakeServo:
    """One STS3215: a 128-byte control table and a shaft at `position` (raw encoder steps, 0-4095)."""

    def __init__(self, servo_id: int, position: int = 2048) -> None:
        self.table = bytearray(128)
        self.table[FIRMWARE_MAJOR], self.table[FIRMWARE_MINOR] = 3, 10
        self._put(MODEL_NUMBER, STS3215_MODEL)
        self.table[ID] = servo_id
        self._put(MAX_LIMIT, RESOLUTION - 1)
        self.position = position
        self.goal_writes: list[int] = []
        """Every Goal_Position written, as the servo received it (present-position frame)."""
        self._put(GOAL_POSITION, position)

    @property
    def torque_enabled(self) -> bool:
        return bool(self.table[TORQUE_ENABLE])

    @property
    def homing_offset(self) -> int:
        return _from_sign_magnitude(self._get(HOMING_OFFSET), 11)

    @property
    def present_position(self) -> int:
        """What Present_Position reads: the shaft position minus the homing offset."""
        return self.position - self.homing_offset

    def read(self, address: int, length: int) -> bytes:
        self._put(PRESENT_POSITION, _sign_magnitude(self.present_position, 15))
        return bytes(self.table[address : address + length])

    def write(self, address: int, data: bytes) -> None:
        self.table[address : address + len(data)] = data
        if address <= GOAL_POSITION < address + len(data):
            goal = _from_sign_magnitude(self._get(GOAL_POSITION), 15)
            self.goal_writes.append(goal)
            if self.torque_enabled:  # an ideal servo: it is at its goal by the next read
                low, high = self._get(MIN_LIMIT), self._get(MAX_LIMIT)
                goal = min(max(goal, low), high) if low < high else goal
                self.position = goal + self.homing_offset

    def _get(self, address: int) -> int:
        return self.table[address] | self.table[address + 1] << 8

    def _put(self, address: int, value: int) -> None:
        self.table[address], self.table[address + 1] = value & 0xFF, (value >> 8) & 0xFF


class FakeArm:
    """The six servos of one SO101 arm (ids 1-6) on one bus."""

    def __init__(self, positions: list[int] | None = None) -> None:
        positions = positions or [2048] * 6
        self.servos = {servo_id: FakeServo(servo_id, pos) for servo_id, pos in enumerate(positions, start=1)}
        self.plugged = True

    def answer(self, packet: bytes) -> bytes:
        """The status packets the servos send back for one instruction packet."""
        if len(packet) < 6 or packet[0] != 0xFF or packet[1] != 0xFF or packet[-1] != _checksum(packet[2:-1]):
            return b""
        servo_id, instruction, params = packet[2], packet[4], packet[5:-1]
        if instruction == _SYNC_WRITE:
            address, length = params[0], params[1]
            for start in range(2, len(params), length + 1):
                servo = self.servos.get(params[start])
                if servo is not None:
                    servo.write(address, params[start + 1 : start + 1 + length])
            return b""
        if instruction == _SYNC_READ:
            address, length = params[0], params[1]
            return b"".join(
                _status(i, self.servos[i].read(address, length)) for i in params[2:] if i in self.servos
            )
        ids = list(self.servos) if servo_id == _BROADCAST else [servo_id]
        replies = []
        for target in ids:
            servo = self.servos.get(target)
            if servo is None:
                continue
            if instruction == _READ:
                replies.append(_status(target, servo.read(params[0], params[1])))
            elif instruction == _WRITE:
                servo.write(params[0], params[1:])
                replies.append(_status(target, b""))
            elif instruction == _PING:
                replies.append(_status(target, b""))
        return b"".join(replies) if servo_id != _BROADCAST or instruction == _PING else b""


class FakeLeaderArm(FakeArm):
    """A leader arm a person moves: before each reading of its present positions, `script(n)` (n = 0, 1, ...)
    gives the six shaft positions (raw steps) of the n-th reading, or None to leave them where they are."""

    def __init__(
        self, script: Callable[[int], list[int] | None] | None = None, positions: list[int] | None = None
    ) -> None:
        super().__init__(positions)
        self.script = script
        self.readings = 0

    def answer(self, packet: bytes) -> bytes:
        reads_positions = (
            len(packet) > 6 and packet[4] in (_READ, _SYNC_READ) and packet[5] == PRESENT_POSITION
        )
        if reads_positions and self.script is not None:
            positions = self.script(self.readings)
            for servo, position in zip(self.servos.values(), positions or (), strict=False):
                servo.position = position
            self.readings += 1
        return super().answer(packet)


def _checksum(body: bytes) -> int:
    return ~sum(body) & 0xFF


def _status(servo_id: int, data: bytes) -> bytes:
    body = bytes([servo_id, len(data) + 2, 0]) + data
    return b"\xff\xff" + body + bytes([_checksum(body)])


class FakeSerial:
    """The part of `serial.Serial` the Feetech SDK uses, wired to a `FakeArm`."""

    def __init__(self, arm: FakeArm, port: str) -> None:
        self.arm, self.port = arm, port
        self.is_open = True
        self._incoming = bytearray()

    def _check(self) -> None:
        if not self.arm.plugged:
            raise serial.SerialException(
                "device reports readiness to read but returned no data (device disconnected or multiple access on port?)"
            )

    def write(self, data: bytes | list[int]) -> int:
        self._check()
        self._incoming += self.arm.answer(bytes(data))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        self._check()
        chunk = bytes(self._incoming[:size])
        del self._incoming[:size]
        return chunk

    @property
    def in_waiting(self) -> int:
        return len(self._incoming)

    def flush(self) -> None:
        self._check()

    def reset_input_buffer(self) -> None:
        self._incoming.clear()

    def close(self) -> None:
        self.is_open = False


class FakePorts:
    """Serial device paths -> fake arms; opening any other path fails as pyserial does."""

    def __init__(self, arms: dict[str, FakeArm]) -> None:
        self.arms = arms

    def open(self, port: str, **_settings: object) -> FakeSerial:
        arm = self.arms.get(port)
        if arm is None or not arm.plugged:
            raise serial.SerialException(
                f"[Errno 2] could not open port {port}: [Errno 2] No such file or directory: '{port}'"
            )
        return FakeSerial(arm, port)

    def unplug(self, port: str) -> None:
        self.arms[port].plugged = False


@contextmanager
def fake_feetech_ports(arms: dict[str, FakeArm]) -> Iterator[FakePorts]:
    """Make the Feetech SDK open `arms` instead of serial devices while the context is active."""
    import scservo_sdk.port_handler as port_handler

    ports = FakePorts(arms)
    original = port_handler.serial
    port_handler.serial = types.SimpleNamespace(
        Serial=ports.open, EIGHTBITS=serial.EIGHTBITS, SerialException=serial.SerialException
    )
    try:
        yield ports
    finally:
        port_handler.serial = original
