"""REST resources of this part, mounted under /api/v1/ by consultation/api.py."""

urlpatterns = []
