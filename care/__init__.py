"""Care: the models arrive with the care issue."""
