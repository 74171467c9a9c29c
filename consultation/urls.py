"""Staff pages of the consultation stage, mounted at /consultation/.

One namespace, `consultation`; knowledge-base names start with `kb-`, the assistant's with
`assistant-`, consultations have none.
"""

from django.urls import include, path

app_name = "consultation"
urlpatterns = [
    path("kb/", include("consultation.kb.urls")),
    path("assistant/", include("consultation.assistant.urls")),
]
