"""Idempotency keys: a retried POST answers the first response without running again; the same
key with another request is refused; failures are not kept; concurrent duplicates wait."""

import datetime as dt
import json
import threading
import time

import pytest
import time_machine
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from rest_framework import viewsets
from rest_framework.decorators import action
from rest_framework.parsers import MultiPartParser
from rest_framework.response import Response
from rest_framework.test import APIRequestFactory, force_authenticate

from bankservice.core.api_auth import ApiClientPrincipal
from bankservice.core.api_permissions import IsAuthenticatedPrincipal
from bankservice.core.errors import Conflict
from bankservice.core.idempotency import idempotency_keys_purge, idempotent
from bankservice.core.models import Heartbeat, IdempotencyKey
from bankservice.core.services import apiclient_create, heartbeat_beat
from tests.conftest import requires_postgres
from tests.factories import UserFactory

START = dt.datetime(2026, 3, 4, 9, 0, tzinfo=dt.UTC)


class Hold:
    """Keeps the next request inside its handler (its key claimed, not committed) until released;
    `fail` makes that request fail after its write."""

    def __init__(self, *, fail: bool = False):
        self.inside = threading.Event()
        self.release = threading.Event()
        self.fail = fail


class BeatViewSet(viewsets.GenericViewSet):
    """A POST that writes: each run bumps a heartbeat's count, so the count says how often the
    handler ran."""

    permission_classes = [IsAuthenticatedPrincipal]
    hold: Hold | None = None

    @idempotent
    def create(self, request):
        beat = heartbeat_beat(name=request.data.get("name", "api"))
        hold, BeatViewSet.hold = BeatViewSet.hold, None
        if hold is not None:
            hold.inside.set()
            assert hold.release.wait(10)
        if request.data.get("refuse") or (hold is not None and hold.fail):
            raise Conflict("Refused after writing.")
        return Response({"name": beat.name, "count": beat.count}, status=201)

    @idempotent
    @action(detail=False, methods=["post"], parser_classes=[MultiPartParser])
    def upload(self, request):
        return Response({"size": len(request.data["file"].read())})


create = BeatViewSet.as_view({"post": "create"})
upload = BeatViewSet.as_view({"post": "upload"})


def post(principal, data=None, *, key=None, view=create, path="/beats", fmt="json"):
    headers = {} if key is None else {"HTTP_IDEMPOTENCY_KEY": key}
    request = APIRequestFactory().post(path, data or {}, format=fmt, **headers)
    force_authenticate(request, user=principal)
    response = view(request)
    response.render()
    response.json = lambda: json.loads(response.content)  # as the test client's answers have
    return response


def runs(name="api") -> int:
    beat = Heartbeat.objects.filter(name=name).first()
    return beat.count if beat else 0


@pytest.fixture
def user(db):
    return UserFactory(username="teller-1")


@pytest.mark.django_db
def test_without_a_key_every_post_runs(user):
    assert post(user).status_code == 201
    assert post(user).status_code == 201
    assert runs() == 2
    assert not IdempotencyKey.objects.exists()


@pytest.mark.django_db
def test_a_retry_with_the_key_answers_the_first_response_without_running(user):
    first = post(user, {"name": "api"}, key="k-1")
    second = post(user, {"name": "api"}, key="k-1")
    assert first.status_code == second.status_code == 201
    assert second.content == first.content
    assert second["Idempotent-Replayed"] == "true"
    assert not first.has_header("Idempotent-Replayed")
    assert runs() == 1
    # Another key is another request.
    assert post(user, {"name": "api"}, key="k-2").json()["count"] == 2


@pytest.mark.django_db
def test_the_same_key_with_another_request_is_refused(user):
    post(user, {"name": "api"}, key="k-1")
    other_body = post(user, {"name": "other"}, key="k-1")
    other_path = post(user, {"name": "api"}, key="k-1", path="/beats?branch=a01")
    assert other_body.status_code == other_path.status_code == 422
    assert other_body.json()["detail"] == (
        "This Idempotency-Key was already used for a different request."
    )
    assert runs() == 1
    assert runs("other") == 0


@pytest.mark.django_db
def test_keys_belong_to_their_principal(user):
    client, _key = apiclient_create(name="core", scopes=[], all_branches=True)
    robot = ApiClientPrincipal(client=client)
    colleague = UserFactory(username="teller-2")
    post(user, key="k-1")
    assert post(robot, key="k-1").json()["count"] == 2
    assert post(colleague, key="k-1").json()["count"] == 3
    assert post(robot, key="k-1").json()["count"] == 2
    assert set(IdempotencyKey.objects.values_list("principal", flat=True)) == {
        f"user:{user.pk}",
        f"user:{colleague.pk}",
        f"client:{client.pk}",
    }


@pytest.mark.django_db
def test_a_failed_request_is_undone_and_its_key_stays_free(user):
    refused = post(user, {"refuse": True}, key="k-1")
    assert refused.status_code == 409
    assert runs() == 0  # the handler's write went with the failure
    assert not IdempotencyKey.objects.exists()
    # The client corrects the request and sends it with the same key: it runs.
    assert post(user, {}, key="k-1").status_code == 201
    assert post(user, {}, key="k-1")["Idempotent-Replayed"] == "true"
    assert runs() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("key", ["", "x" * 256, "schlüssel"])
def test_a_malformed_key_is_a_field_error(user, key):
    response = post(user, key=key)
    assert response.status_code == 400
    assert "Idempotency-Key" in response.json()
    assert runs() == 0


@pytest.mark.django_db
def test_a_retried_upload_is_recognised_by_its_content(user):
    def send(content: bytes):
        # Each send builds a new multipart body (a new boundary), as a client's retry does.
        data = {"file": SimpleUploadedFile("id.pdf", content), "kind": "id"}
        return post(user, data, key="up-1", view=upload, path="/beats/upload", fmt="multipart")

    first = send(b"%PDF-1.7 the scan")
    assert first.json() == {"size": 17}
    assert send(b"%PDF-1.7 the scan")["Idempotent-Replayed"] == "true"
    assert send(b"%PDF-1.7 another scan").status_code == 422


@pytest.mark.django_db
def test_keys_expire_after_24_hours_and_are_purged(user):
    with time_machine.travel(START, tick=False):
        post(user, key="old")
        post(user, key="reused")
    with time_machine.travel(START + dt.timedelta(hours=23, minutes=59), tick=False):
        post(user, key="recent")
        assert post(user, key="reused")["Idempotent-Replayed"] == "true"
    with time_machine.travel(START + dt.timedelta(hours=24, minutes=1), tick=False):
        # Expired but not purged yet: the key is used afresh.
        reused = post(user, {"name": "api"}, key="reused")
        assert not reused.has_header("Idempotent-Replayed")
        assert reused.json()["count"] == 4
        assert idempotency_keys_purge() == 1  # "old"
    assert set(IdempotencyKey.objects.values_list("key", flat=True)) == {"recent", "reused"}


@pytest.mark.django_db
def test_what_a_key_costs_in_queries(user, django_assert_num_queries):
    post(user, key="k-1")
    # Claim the key (savepoint, insert), run (here: update the count, read it back), keep the
    # answer (update); the test's transaction makes the outer block a savepoint too.
    with django_assert_num_queries(8):
        post(user, key="k-2")
    # A replay: the insert fails (its savepoint rolled back), the row is read under lock; the
    # handler does not run.
    with django_assert_num_queries(7):
        assert post(user, key="k-2")["Idempotent-Replayed"] == "true"


# --- Concurrent duplicates (PostgreSQL: row locks, concurrent transactions) ------------------


def _waiting_on_a_lock() -> bool:
    """Whether another session of this database waits for a lock, polled for up to 10 s."""
    for _ in range(200):
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_stat_activity "
                "WHERE datname = current_database() AND wait_event_type = 'Lock'"
            )
            if cursor.fetchone()[0]:
                return True
        time.sleep(0.05)
    return False


def _run_duplicate_while_first_is_held(user, hold: Hold):
    """Send a request with a key and hold it in its handler; send the duplicate; return whether
    the duplicate waited, and both responses once the first is released."""
    BeatViewSet.hold = hold
    results = {}

    def send(name):
        try:
            results[name] = post(user, {"name": "api"}, key="same")
        finally:
            connection.close()

    first = threading.Thread(target=send, args=("first",))
    first.start()
    assert hold.inside.wait(10)
    duplicate = threading.Thread(target=send, args=("duplicate",))
    duplicate.start()
    waited = _waiting_on_a_lock()
    hold.release.set()
    first.join(30)
    duplicate.join(30)
    return waited, results["first"], results["duplicate"]


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_a_concurrent_duplicate_waits_for_the_first_and_answers_its_response():
    user = UserFactory(username="racer")
    waited, first, duplicate = _run_duplicate_while_first_is_held(user, Hold())
    assert waited, "the duplicate should wait for the first request's transaction"
    assert first.status_code == duplicate.status_code == 201
    assert duplicate.content == first.content
    assert duplicate["Idempotent-Replayed"] == "true"
    assert runs() == 1


@requires_postgres
@pytest.mark.django_db(transaction=True, serialized_rollback=True)
def test_when_the_first_fails_the_waiting_duplicate_runs():
    user = UserFactory(username="racer")
    waited, first, duplicate = _run_duplicate_while_first_is_held(user, Hold(fail=True))
    assert waited
    assert first.status_code == 409
    assert duplicate.status_code == 201
    assert not duplicate.has_header("Idempotent-Replayed")
    assert runs() == 1  # the first's write was rolled back
    assert IdempotencyKey.objects.get().response_status == 201


@pytest.mark.django_db
def test_the_purge_is_a_scheduled_task(settings, user):
    from bankservice.celery import app
    from bankservice.core.tasks import purge_idempotency_keys

    entry = settings.CELERY_BEAT_SCHEDULE["purge-idempotency-keys"]
    assert entry["task"] == purge_idempotency_keys.name
    assert entry["task"] in app.tasks
    with time_machine.travel(START, tick=False):
        post(user, key="old")
    purge_idempotency_keys()
    assert not IdempotencyKey.objects.exists()
