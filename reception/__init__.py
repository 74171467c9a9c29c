"""Reception: the models arrive with the reception issue."""
