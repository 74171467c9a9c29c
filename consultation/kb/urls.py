"""Staff pages of this part, inside the `consultation` namespace (names prefixed, see ../urls.py)."""

urlpatterns = []
