"""What transactions registers at start-up: deadline policies and handlers, event labels,
message types, the consultation hand-off."""


def ready() -> None:
    pass
