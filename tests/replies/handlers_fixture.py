"""A reply handler importable by name (tests of Dispatcher(import_handlers=True))."""

SEEN: list[int] = []


def record(inbound_id: int) -> None:
    SEEN.append(inbound_id)
