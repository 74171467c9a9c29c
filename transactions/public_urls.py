"""URL patterns (filled by the transactions issue)."""

urlpatterns = []
