app_name = "transactions"

"""URL patterns (filled by the transactions issue)."""

urlpatterns = []
