"""What this part adds at start-up (event labels, message types) and to the demo data."""


def ready() -> None:
    pass


def seed_demo(*, branches) -> dict[str, int]:
    return {}


def demo_links(*, base_url: str) -> list[str]:
    return []
