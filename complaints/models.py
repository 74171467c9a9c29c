"""Models of this stage; see its issue."""
