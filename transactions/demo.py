"""Demo request types, bundles and requests."""


def seed_demo(*, branches) -> dict[str, int]:
    return {}


def demo_links(*, base_url: str) -> list[str]:
    return []
